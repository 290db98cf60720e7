"""LeNet-5: the modern trainable net and the 1998 paper's layout with its 60,000 parameters."""

import pytest
import torch

from cnncourse.models import lenet
from cnncourse.shapes import conv_params, linear_params


def test_paper_layer_counts_and_total():
    model = lenet.lenet5_paper()
    counts = lenet.trainable_params_by_layer(model)
    assert counts == lenet.PAPER_TRAINABLE_PARAMS
    assert sum(counts.values()) == 60_000
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 60_000
    assert model.OUTPUT.prototypes.shape == (10, 84)  # fixed RBF centres: a buffer, not trained


def test_c3_table_is_the_papers():
    table = lenet.C3_TABLE
    assert len(table) == 16 and [len(t) for t in table] == [3] * 6 + [4] * 9 + [6]
    assert all(len(set(t)) == len(t) and set(t) <= set(range(6)) for t in table)
    uses = [sum(s in t for t in table) for s in range(6)]
    assert uses == [10] * 6  # every S2 map feeds ten C3 maps
    assert sum(len(t) * 25 + 1 for t in table) == 1516


def test_paper_shapes_and_table_wiring():
    model = lenet.lenet5_paper().eval()
    x = torch.randn(2, 1, 32, 32)
    assert model(x).shape == (2, 10)
    s2 = model[:4](x)
    assert s2.shape == (2, 6, 14, 14)
    c3 = model.C3(s2)
    assert c3.shape == (2, 16, 10, 10)
    changed = s2.clone()
    changed[:, 5] += 1.0  # S2 map 5 only reaches the C3 maps whose table row contains 5
    moved = (model.C3(changed) - c3).abs().amax(dim=(0, 2, 3)) > 0
    assert moved.tolist() == [5 in t for t in lenet.C3_TABLE]


@pytest.mark.parametrize("size", [28, 32])
def test_modern_lenet(size):
    model = lenet.lenet5(size)
    assert model(torch.randn(3, 1, size, size)).shape == (3, 10)
    expected = (conv_params(1, 6, 5, dims=2) + conv_params(6, 16, 5, dims=2) + linear_params(400, 120)
                + linear_params(120, 84) + linear_params(84, 10))
    assert sum(p.numel() for p in model.parameters()) == expected == 61_706
    assert model.c1.weight.shape == (6, 1, 5, 5)


def test_modern_lenet_rejects_other_sizes():
    with pytest.raises(ValueError, match="28x28 or 32x32"):
        lenet.lenet5(8)


def test_modern_lenet_learns_a_little():
    from cnncourse.data import mnist_subset
    from cnncourse.train import fit

    x, y, x_test, y_test = mnist_subset()
    torch.manual_seed(0)
    hist = fit(lenet.lenet5(), (x[:1000], y[:1000]), (x_test[:500], y_test[:500]),
               steps=60, batch_size=64, lr=3e-3, eval_every=60, progress=False)
    assert hist.test_acc[-1] > 0.6


def _idx_bytes(array):
    import gzip
    import struct

    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype("uint8").tobytes())


class _FakeResponse:
    def __init__(self, raw):
        self.raw = raw

    def read(self):
        return self.raw

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_full_mnist_parses_idx_files(monkeypatch):
    import urllib.request

    import numpy as np

    from cnncourse import data

    rng = np.random.default_rng(0)
    files = {"train-images": rng.integers(0, 256, (6, 28, 28)), "train-labels": np.arange(6) % 10,
             "t10k-images": rng.integers(0, 256, (3, 28, 28)), "t10k-labels": np.arange(3)}
    served = []

    def fake_urlopen(url, timeout=None):
        served.append(url)
        return _FakeResponse(_idx_bytes(files[url.rsplit("/", 1)[-1].rsplit("-idx", 1)[0]]))

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    x, y, x_test, y_test = data.mnist_or_subset("fashion")
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert x_test.shape == (3, 1, 28, 28) and y.tolist() == list(range(6))
    np.testing.assert_allclose(x[2, 0], files["train-images"][2] / 255.0, rtol=1e-6)
    assert all(url.startswith(data.IDX_MIRRORS["fashion"]) for url in served)


@pytest.mark.parametrize("failure", ["offline", "corrupt"])
def test_full_mnist_falls_back_offline(monkeypatch, capsys, failure):
    import urllib.error
    import urllib.request

    from cnncourse import data

    def fake_urlopen(url, timeout=None):
        if failure == "offline":
            raise urllib.error.URLError("network unreachable")  # an OSError
        return _FakeResponse(b"<html>not an IDX file</html>")  # read_idx raises RuntimeError

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    x, y, x_test, y_test = data.mnist_or_subset("mnist")
    assert x.shape == (4000, 1, 28, 28) and x_test.shape == (1000, 1, 28, 28)
    assert "offline 5,000-image MNIST subset" in capsys.readouterr().out
