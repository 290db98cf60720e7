import numpy as np
import torch

from cnncourse.equivariance import bump, demo_layers, equivariance_error, invariance_error, shift, table
from cnncourse.widgets.equivariance import shift_view


def test_shift_is_circular_for_arrays_and_tensors():
    assert np.array_equal(shift(np.arange(4), 1), [3, 0, 1, 2])
    assert torch.equal(shift(torch.arange(4), -1), torch.tensor([1, 2, 3, 0]))


def test_conv_is_equivariant_pool_invariant_fc_neither():
    rows = {(name, k): (inv, eq) for name, k, inv, eq in table(demo_layers(), bump(), [2, 5])}
    for k in (2, 5):
        assert rows["conv", k][1] < 1e-5 < 0.1 < rows["conv", k][0]
        assert rows["conv + global pool", k][0] < 1e-5 and np.isnan(rows["conv + global pool", k][1])
        assert min(rows["fully connected", k]) > 0.1


def test_errors_detect_a_non_equivariant_function():
    x = np.arange(8.0)
    assert equivariance_error(lambda v: v * 2, x, 3) == 0
    assert equivariance_error(lambda v: v * np.arange(8), x, 3) > 0
    assert invariance_error(np.sum, x, 3) == 0


def test_widget_data_for_a_slider_value():
    data = shift_view(6)
    assert np.allclose(data["conv(shifted)"], data["shift(conv)"], atol=1e-6)
    assert np.array_equal(np.roll(data["input"], 6), data["shifted input"])
    assert not np.allclose(data["fc(shifted)"], data["shift(fc)"], atol=1e-2)
    assert np.array_equal(shift_view(0)["fc(shifted)"], shift_view(0)["shift(fc)"])
