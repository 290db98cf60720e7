import numpy as np

from cnncourse import data


def test_digits_are_small_images_in_unit_range():
    x, y, xt, yt = data.digits()
    assert x.shape[1:] == (1, 8, 8) and x.dtype == np.float32 and len(x) + len(xt) == 1797
    assert 0 <= x.min() and x.max() <= 1 and set(np.unique(y)) == set(range(10))
    again = data.digits()
    assert np.array_equal(again[3], yt)


def test_mnist_subset_ships_offline():
    x, y, xt, yt = data.mnist_subset()
    assert x.shape == (4000, 1, 28, 28) and xt.shape == (1000, 1, 28, 28)
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.max() <= 1.0


def test_sample_images():
    images = data.sample_images()
    assert set(images) == {"china", "flower"}
    assert images["china"].shape == (427, 640, 3) and images["china"].dtype == np.uint8


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNCOURSE_CACHE", str(tmp_path / "c"))
    assert data.cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()


def _mnist1d_x(seed):
    return data.mnist1d(seed=seed)["x"]


def test_mnist1d_cache_is_written_atomically_by_parallel_writers(tmp_path, monkeypatch):
    """Notebooks run in parallel processes, all generating the same missing cache file."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    monkeypatch.setenv("CNNCOURSE_CACHE", str(tmp_path))
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_mnist1d_x, [3, 3, 3]))
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("mnist1d_seed3_"), files  # no temporary left
    cached = data.mnist1d(seed=3)["x"]
    assert all(np.array_equal(x, cached) for x in results)
