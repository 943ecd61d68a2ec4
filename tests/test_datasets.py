"""Data set loaders (minimacheck/datasets.py), offline: the image-set readers run on small fixture files written here in
the real formats (MNIST idx gz, CIFAR-10 python pickle tar, SVHN .mat), and the download path runs on file:// URLs."""
from __future__ import annotations

import gzip
import hashlib
import io
import pathlib
import pickle
import struct
import tarfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minimacheck import datasets
from minimacheck.datasets import DatasetUnavailable, RemoteFile

N_FIX = 40  # fixture images: 4 per class


# ---------------------------------------------------------------- fixture writers (the real formats)
def _labels(n=N_FIX):
    return np.arange(n) % 10


def write_idx(path: pathlib.Path, arr: np.ndarray) -> None:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.tobytes())


def write_mnist(folder: pathlib.Path, n=N_FIX, seed=0) -> tuple[pathlib.Path, pathlib.Path]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    ip, lp = folder / "train-images-idx3-ubyte.gz", folder / "train-labels-idx1-ubyte.gz"
    write_idx(ip, images)
    write_idx(lp, _labels(n).astype(np.uint8))
    return ip, lp


def write_cifar(path: pathlib.Path, n_per_batch=10, seed=0) -> None:
    rng = np.random.default_rng(seed)
    with tarfile.open(path, "w:gz") as tar:
        for b in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
            d = {b"data": rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in _labels(n_per_batch)], b"batch_label": b.encode()}
            blob = pickle.dumps(d, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{b}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def write_svhn(path: pathlib.Path, n=N_FIX, seed=0) -> None:
    import scipy.io

    rng = np.random.default_rng(seed)
    y = _labels(n)
    y = np.where(y == 0, 10, y).reshape(-1, 1)  # SVHN stores digit 0 as label 10
    scipy.io.savemat(path, {"X": rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8), "y": y.astype(np.uint8)})


def _spec_for(path: pathlib.Path) -> RemoteFile:
    data = path.read_bytes()
    return RemoteFile(path.name, path.resolve().as_uri(), hashlib.md5(data).hexdigest(), len(data))


@pytest.fixture(autouse=True)
def fake_pooch(monkeypatch):
    """No network in tests: pooch.retrieve serves file:// URLs (checking the known hash as pooch does) and refuses
    anything else as a connection error."""
    import pooch

    calls = []

    def retrieve(url, known_hash=None, fname=None, path=None, progressbar=False, downloader=None):
        calls.append(url)
        if not url.startswith("file://"):
            raise ConnectionError(f"no network in the tests: {url}")
        data = pathlib.Path(url[len("file://"):]).read_bytes()
        algo, want = known_hash.split(":")
        if hashlib.new(algo, data).hexdigest() != want:
            raise ValueError(f"{algo.upper()} hash of downloaded file does not match the known hash")
        out = pathlib.Path(path) / fname
        out.write_bytes(data)
        return str(out)

    monkeypatch.setattr(pooch, "retrieve", retrieve)
    return calls


# ---------------------------------------------------------------- offline data sets
def test_synthetic_is_deterministic_and_shaped():
    a = datasets.synthetic(m=25, d_x=3, d_y=2, seed=4)
    b = datasets.synthetic(m=25, d_x=3, d_y=2, seed=4)
    c = datasets.synthetic(m=25, d_x=3, d_y=2, seed=5)
    assert a.X.shape == (25, 3) and a.Y.shape == (25, 2) and a.X.dtype == np.float64
    assert np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y)
    assert not np.array_equal(a.Y, c.Y)
    assert a.zero_loss == pytest.approx(0.5 * (a.Y**2).sum())


def test_synthetic_rejects_bad_arguments():
    with pytest.raises(ValueError, match="m must be a positive integer"):
        datasets.synthetic(m=0)
    with pytest.raises(ValueError, match="noise"):
        datasets.synthetic(noise=-1.0)


def test_digits_balanced_pca_one_hot():
    ds = datasets.digits(m=50, d_x=8, seed=0)
    assert ds.X.shape == (50, 8) and ds.Y.shape == (50, 10)
    assert np.all(ds.Y.sum(axis=1) == 1) and np.all(ds.Y.sum(axis=0) == 5)  # one-hot, 5 per class
    assert np.allclose(ds.X.mean(axis=0), 0, atol=1e-12)  # centred PCA scores
    assert np.allclose(ds.X.std(axis=0, ddof=1), 1)  # unit variance
    again = datasets.digits(m=50, d_x=8, seed=0)
    assert np.array_equal(ds.X, again.X)
    with pytest.raises(ValueError, match="d_x must be <= 16"):
        datasets.digits(d_x=17)


def test_balanced_subsample_counts_and_errors():
    labels = np.repeat(np.arange(10), 3)
    idx = datasets.balanced_subsample(labels, 23, seed=1)
    counts = np.bincount(labels[idx], minlength=10)
    assert counts.tolist() == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
    assert len(set(idx.tolist())) == 23
    with pytest.raises(ValueError, match="class 0 has 3 examples"):
        datasets.balanced_subsample(labels, 40)


def test_load_by_name_and_unknown_name():
    assert datasets.load("synthetic", m=10, d_x=2).m == 10
    with pytest.raises(ValueError, match="unknown data set 'imagenet'"):
        datasets.load("imagenet")


# ---------------------------------------------------------------- file formats on fixtures
def test_read_idx_and_mnist_fixture(tmp_path):
    ip, lp = write_mnist(tmp_path)
    images, labels = datasets.read_mnist(ip, lp)
    assert images.shape == (N_FIX, 784) and images.min() >= 0 and images.max() <= 1
    assert labels.tolist() == _labels().tolist()
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an idx file"):
        datasets.read_idx(bad)


def test_cifar_tar_fixture(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    write_cifar(path)
    images, labels = datasets.read_cifar10(path)
    assert images.shape == (50, 3072) and labels.shape == (50,)  # 5 training batches of 10, test batch excluded
    assert np.bincount(labels).tolist() == [5] * 10


def test_svhn_mat_fixture_maps_label_ten_to_zero(tmp_path):
    path = tmp_path / "train_32x32.mat"
    write_svhn(path)
    images, labels = datasets.read_svhn(path)
    assert images.shape == (N_FIX, 3072)
    assert labels.tolist() == _labels().tolist()


# ---------------------------------------------------------------- cache, download, checksum
@pytest.mark.parametrize("name", ["mnist", "cifar10", "svhn"])
def test_loader_downloads_verifies_and_preprocesses(tmp_path, monkeypatch, name):
    """The whole loader path: download (a file:// URL stands in for the server), size + MD5 check, parse,
    class-balanced subsample, PCA, one-hot; a second call uses the cache."""
    server = tmp_path / "server"
    server.mkdir()
    if name == "mnist":
        files = write_mnist(server)
    elif name == "cifar10":
        files = [server / "cifar-10-python.tar.gz"]
        write_cifar(files[0])
    else:
        files = [server / "train_32x32.mat"]
        write_svhn(files[0])
    monkeypatch.setitem(datasets.REMOTE, name, tuple(_spec_for(p) for p in files))
    cache = tmp_path / "cache"
    monkeypatch.setenv("MINIMACHECK_DATA", str(cache))
    assert datasets.cache_dir() == cache
    ds = datasets.load(name, m=20, d_x=5, seed=0)
    assert ds.X.shape == (20, 5) and ds.Y.shape == (20, 10)
    assert np.all(ds.Y.sum(axis=0) == 2)
    assert sorted(p.name for p in cache.iterdir()) == sorted(p.name for p in files)
    for p in files:  # second load reads the cache: delete the "server" copy
        p.unlink()
    again = datasets.load(name, m=20, d_x=5, seed=0)
    assert np.array_equal(ds.X, again.X)


def test_offline_download_raises_a_clear_error(tmp_path, fake_pooch):
    spec = RemoteFile("x.gz", "http://127.0.0.1:9/x.gz", "0" * 32)
    with pytest.raises(DatasetUnavailable, match="offline") as exc:
        datasets.fetch(spec, tmp_path, timeout=5, retries=3)
    assert fake_pooch == [spec.url] * 3  # retried
    assert str(tmp_path / "x.gz") in str(exc.value)
    assert list(tmp_path.iterdir()) == []  # no partial file left behind
    with pytest.raises(DatasetUnavailable, match="download=False"):
        datasets.fetch(spec, tmp_path, download=False)


def test_checksum_mismatch_is_refused(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(b"minimacheck" * 10)
    good = _spec_for(src)
    cache = tmp_path / "cache"
    with pytest.raises(DatasetUnavailable, match="MD5"):
        datasets.fetch(RemoteFile(good.name, good.url, "f" * 32, good.size), cache)
    assert not (cache / good.name).exists()  # a download that fails its check is not cached
    with pytest.raises(DatasetUnavailable, match="size"):
        datasets.fetch(RemoteFile(good.name, good.url, good.md5, good.size + 1), cache)
    assert datasets.fetch(good, cache).read_bytes() == src.read_bytes()
    (cache / good.name).write_bytes(b"tampered")
    with pytest.raises(DatasetUnavailable, match="corrupt"):
        datasets.fetch(good, cache)


def test_real_checksums_refuse_fixture_files(tmp_path):
    """A file in the cache that is not the real data set (here, a fixture) fails the pinned checksum."""
    write_mnist(tmp_path)
    with pytest.raises(DatasetUnavailable, match="corrupt"):
        datasets.mnist(m=20, d_x=5, root=tmp_path)


@given(m=st.integers(1, 30), d=st.integers(1, 8), log10_cond=st.sampled_from([0.0, 1.0, 3.0, 6.0]),
       deficit=st.integers(0, 3), seed=st.integers(0, 2**31 - 1))
def test_design_matrix_has_the_drawn_conditioning_and_rank(m, d, log10_cond, deficit, seed):
    from minimacheck.datasets import design_matrix

    k = min(m, d)
    rank = max(1, k - deficit)
    X = design_matrix(m, d, np.random.default_rng(seed), log10_cond=log10_cond, rank=rank)
    s = np.linalg.svd(X, compute_uv=False)
    expect = np.sqrt(m) * np.logspace(0.0, -log10_cond, rank)
    np.testing.assert_allclose(s[:rank], expect, rtol=1e-10)
    assert np.all(s[rank:] <= 1e-12 * s[0])  # exactly rank deficient, up to rounding


def test_design_matrix_rejects_bad_arguments():
    from minimacheck.datasets import design_matrix

    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="rank"):
        design_matrix(5, 3, rng, rank=4)
    with pytest.raises(ValueError, match="log10_cond"):
        design_matrix(5, 3, rng, log10_cond=-1.0)


def test_cache_dir_is_platformdirs_unless_overridden(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.delenv("MINIMACHECK_DATA", raising=False)
    assert datasets.cache_dir() == pathlib.Path(platformdirs.user_cache_dir("minimacheck"))
    monkeypatch.setenv("MINIMACHECK_DATA", str(tmp_path))
    assert datasets.cache_dir() == tmp_path


def test_torchvision_layout_is_used_as_found(tmp_path, monkeypatch, fake_pooch):
    """MNIST/raw/*.gz, cifar-10-batches-py/ and svhn/train_32x32.mat under the cache root are read without download."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    files = write_mnist(raw)
    monkeypatch.setitem(datasets.REMOTE, "mnist", tuple(RemoteFile(p.name, "http://nowhere/" + p.name,
                                                                   _spec_for(p).md5, _spec_for(p).size) for p in files))
    (tmp_path / "svhn").mkdir()
    write_svhn(tmp_path / "svhn" / "train_32x32.mat")
    s = _spec_for(tmp_path / "svhn" / "train_32x32.mat")
    monkeypatch.setitem(datasets.REMOTE, "svhn", (RemoteFile(s.name, "http://nowhere/x", s.md5, s.size),))
    tar = tmp_path / "c.tar.gz"
    write_cifar(tar)
    with tarfile.open(tar) as t:
        t.extractall(tmp_path / "x", filter="data")
    batches = next((tmp_path / "x").rglob("data_batch_1")).parent
    batches.rename(tmp_path / "cifar-10-batches-py")
    monkeypatch.setenv("MINIMACHECK_DATA", str(tmp_path))
    for name in ("mnist", "svhn", "cifar10"):
        ds = datasets.load(name, m=20, d_x=5, seed=0)
        assert ds.X.shape == (20, 5)
    assert fake_pooch == []  # nothing was downloaded
    assert datasets.data_cmd("verify", ["mnist", "svhn", "cifar10"], log=lambda *a: None) == 0


def test_data_command_fetches_and_verifies(tmp_path, monkeypatch, capsys):
    from minimacheck import cli

    server = tmp_path / "server"
    server.mkdir()
    files = write_mnist(server)
    monkeypatch.setitem(datasets.REMOTE, "mnist", tuple(_spec_for(p) for p in files))
    monkeypatch.setenv("MINIMACHECK_DATA", str(tmp_path / "cache"))
    assert cli.main(["data", "verify", "mnist"]) == 1  # missing
    assert cli.main(["data", "fetch", "mnist"]) == 0
    assert cli.main(["data", "verify", "mnist"]) == 0
    assert "ok" in capsys.readouterr().out
    assert cli.main(["data", "verify", "nosuchset"]) == 2
