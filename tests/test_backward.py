"""cnncourse.backward: the 1D convolution backward pass against torch.autograd and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnncourse.backward import conv1d_backward, dilate, flip_kernel, numerical_gradient, relative_error
from cnncourse.conv1d import conv1d_multi


def _autograd(x, w, b, g, stride, padding):
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    F.conv1d(xt[None], wt, bt, stride=stride, padding=padding)[0].backward(torch.tensor(g))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("c_in,c_out,width,k,stride,padding", [
    (1, 1, 10, 3, 1, 0), (1, 1, 10, 3, 1, 1), (2, 3, 11, 3, 2, 1), (3, 2, 12, 4, 3, 2),
    (1, 2, 9, 5, 2, 0), (2, 1, 7, 7, 1, 3), (2, 2, 13, 2, 4, 0), (1, 1, 5, 1, 1, 0),
])
def test_matches_autograd(c_in, c_out, width, k, stride, padding):
    rng = np.random.default_rng(width * 31 + k)
    x, w, b = rng.normal(size=(c_in, width)), rng.normal(size=(c_out, c_in, k)), rng.normal(size=c_out)
    out = conv1d_multi(x, w, b, stride=stride, padding=padding)
    g = rng.normal(size=out.shape)
    ours = conv1d_backward(x, w, g, stride=stride, padding=padding)
    for mine, theirs, name in zip(ours, _autograd(x, w, b, g, stride, padding), ("x", "w", "b")):
        assert mine.shape == theirs.shape, name
        np.testing.assert_allclose(mine, theirs, atol=1e-12, err_msg=name)


def test_input_gradient_is_a_transposed_convolution():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 12)), rng.normal(size=(3, 2, 3))
    g = rng.normal(size=(3, 6))
    grad_x = conv1d_backward(x, w, g, stride=2, padding=1)[0]
    want = F.conv_transpose1d(torch.tensor(g)[None], torch.tensor(w), stride=2, padding=1, output_padding=1)[0]
    np.testing.assert_allclose(grad_x, want.numpy(), atol=1e-12)


def test_dilate_and_flip():
    np.testing.assert_array_equal(dilate([1.0, 2.0, 3.0], 3), [1, 0, 0, 2, 0, 0, 3])
    np.testing.assert_array_equal(dilate([[1.0, 2.0]], 1), [[1, 2]])
    w = np.arange(12.0).reshape(2, 3, 2)
    assert flip_kernel(w).shape == (3, 2, 2)
    np.testing.assert_array_equal(flip_kernel(w)[1, 0], w[0, 1, ::-1])


def test_numerical_gradient_and_relative_error():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda v: np.sum(v ** 3), x)
    assert relative_error(grad, 3 * x ** 2) < 1e-8
    assert np.array_equal(x, [[1.0, -2.0], [0.5, 3.0]])        # input left untouched
    assert relative_error([1.0, 0.0], [1.1, 0.0]) == pytest.approx(0.1 / 1.1)
    assert relative_error([0.0], [0.0]) == 0.0


def test_gradient_check_of_the_layer():
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(2, 9)), rng.normal(size=(2, 2, 3))
    g = rng.normal(size=(2, 5))
    loss = lambda xx: np.sum(g * conv1d_multi(xx, w, stride=2, padding=1))  # noqa: E731
    assert relative_error(conv1d_backward(x, w, g, stride=2, padding=1)[0], numerical_gradient(loss, x)) < 1e-7


def test_flipped_kernel_picture_states_autograds_values():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cnncourse.diagrams_backward import flipped_kernel

    g, w = np.array([1.0, -2.0, 0.5]), np.array([1.0, 2.0, 3.0])
    fig = flipped_kernel(g, w, positions=[2, 3], stride=2)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    x = torch.zeros(7, dtype=torch.float64, requires_grad=True)
    F.conv1d(x.view(1, 1, -1), torch.tensor(w).view(1, 1, -1), stride=2).view(-1).backward(torch.tensor(g))
    assert x.grad[2] == 1 and x.grad[3] == -4
    assert "dL/dx[2] = 1·3 + 0·2 + (-2)·1 = 1" in texts
    assert "dL/dx[3] = 0·3 + (-2)·2 + 0·1 = -4" in texts
    plt.close(fig)
