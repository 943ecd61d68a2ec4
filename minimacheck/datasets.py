"""Data sets for the depth/width sweeps (claim5 and `minimacheck report`).

Every loader returns a `Dataset`: X (m x d_x, float64), Y (m x d_y, float64) and a description of how it was made.
Loss conventions follow CLAIMS.md section 0 (L = 1/2 ||Yhat - Y||_F^2, no 1/m), so the natural unit of loss is
1/2 ||Y||_F^2, the loss of the zero predictor.

Offline by default:
- `synthetic`: Gaussian X; Y from a random tanh teacher net plus Gaussian noise (generated in code).
- `digits`: scikit-learn's bundled 8x8 handwritten digits (no download).
Optional image sets, downloaded once with pooch into a cache folder ($MINIMACHECK_DATA, else
platformdirs.user_cache_dir("minimacheck")) and verified by size and MD5 before use; torchvision's folder layout
under the cache root (MNIST/raw/*.gz, cifar-10-batches-py/, svhn/train_32x32.mat) is used as found; without network
they raise `DatasetUnavailable` with the URL and the folder to fill by hand:
- `mnist` (idx gz files), `cifar10` (the python pickle batches tar), `svhn` (the cropped-digits .mat file).
Image sets and digits are preprocessed the same way: a class-balanced subsample of m points, pixels scaled to [0, 1],
PCA (fit on the subsample) to d_x components scaled to unit variance, one-hot targets (d_y = 10).
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pathlib
import pickle
import struct
import tarfile
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Dataset", "DatasetUnavailable", "RemoteFile", "REMOTE", "NAMES", "cache_dir", "fetch", "load",
    "synthetic", "digits", "mnist", "cifar10", "svhn", "read_idx", "read_mnist", "read_cifar10", "read_svhn",
    "preprocess_images", "balanced_subsample",
]


class DatasetUnavailable(RuntimeError):
    """A data set file is missing and cannot be downloaded (offline), or failed its checksum."""


@dataclass(frozen=True)
class Dataset:
    name: str
    X: np.ndarray
    Y: np.ndarray
    description: str
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.X.ndim != 2 or self.Y.ndim != 2 or self.X.shape[0] != self.Y.shape[0]:
            raise ValueError(f"data set {self.name!r}: X {self.X.shape} and Y {self.Y.shape} must be 2-D with equal rows")
        if not (np.isfinite(self.X).all() and np.isfinite(self.Y).all()):
            raise ValueError(f"data set {self.name!r} contains NaN or inf")

    @property
    def m(self) -> int:
        return int(self.X.shape[0])

    @property
    def d_x(self) -> int:
        return int(self.X.shape[1])

    @property
    def d_y(self) -> int:
        return int(self.Y.shape[1])

    @property
    def zero_loss(self) -> float:
        """1/2 ||Y||_F^2: the loss of the zero predictor, the unit of the normalized loss l."""
        return 0.5 * float((self.Y**2).sum())


# ---------------------------------------------------------------- offline sets
def synthetic(m: int = 40, d_x: int = 4, d_y: int = 1, *, seed: int = 0, teacher_width: int = 8,
              teacher_scale: float = 2.0, noise: float = 0.1) -> Dataset:
    """X ~ N(0, I); Y = teacher(X) + noise * N(0, I), teacher a tanh net d_x -> teacher_width -> d_y with
    N(0, teacher_scale^2 / fan_in) weights (biases included). Everything from numpy.random.default_rng(seed)."""
    _positive(m=m, d_x=d_x, d_y=d_y, teacher_width=teacher_width)
    if noise < 0 or not np.isfinite(noise):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng([seed, 5])
    X = rng.standard_normal((m, d_x))
    W1 = rng.standard_normal((d_x + 1, teacher_width)) * teacher_scale / np.sqrt(d_x + 1)
    W2 = rng.standard_normal((teacher_width + 1, d_y)) * teacher_scale / np.sqrt(teacher_width + 1)
    ones = np.ones((m, 1))
    H = np.tanh(np.hstack([X, ones]) @ W1)
    Y = np.hstack([H, ones]) @ W2 + noise * rng.standard_normal((m, d_y))
    return Dataset("synthetic", X, Y, f"synthetic: Gaussian X, tanh teacher (width {teacher_width}, scale "
                   f"{teacher_scale}) + noise {noise}; m={m}, d_x={d_x}, d_y={d_y}, seed={seed}",
                   dict(m=m, d_x=d_x, d_y=d_y, seed=seed, teacher_width=teacher_width, noise=noise))


def design_matrix(m: int, d: int, rng: np.random.Generator, *, log10_cond: float = 0.0, rank: int | None = None) -> np.ndarray:
    """X = sqrt(m) U diag(s) V^T with orthonormal U, V: s log-spaced from 1 down to 10^-log10_cond over the first
    `rank` directions and exactly 0 beyond. Conditioning and rank deficiency are built, not filtered for
    (ENGINEERING.md: constructive generators, no assume loops); sqrt(m) keeps entries O(1) like a Gaussian X."""
    k = min(m, d)
    r = k if rank is None else int(rank)
    if m < 1 or d < 1:
        raise ValueError(f"design_matrix needs m, d >= 1, got m={m}, d={d}")
    if not 1 <= r <= k:
        raise ValueError(f"design_matrix: rank must be in [1, min(m, d)] = [1, {k}], got {rank}")
    if not log10_cond >= 0:
        raise ValueError(f"design_matrix: log10_cond must be >= 0, got {log10_cond}")
    U = np.linalg.qr(rng.standard_normal((m, k)))[0]
    V = np.linalg.qr(rng.standard_normal((d, k)))[0]
    s = np.zeros(k)
    s[:r] = np.logspace(0.0, -float(log10_cond), r)
    return np.sqrt(m) * (U * s) @ V.T


def digits(m: int = 100, d_x: int = 8, *, seed: int = 0) -> Dataset:
    """scikit-learn's bundled handwritten digits (1797 8x8 images): class-balanced subsample, PCA to d_x <= 16."""
    from sklearn.datasets import load_digits

    if d_x > 16:
        raise ValueError(f"digits: d_x must be <= 16 (PCA of 8x8 images), got {d_x}")
    raw = load_digits()
    X, Y, info = preprocess_images(raw.images.reshape(len(raw.images), -1) / 16.0, raw.target, m=m, d_x=d_x, seed=seed)
    return Dataset("digits", X, Y, f"scikit-learn digits: {info}", dict(m=m, d_x=d_x, d_y=10, seed=seed))


# ---------------------------------------------------------------- preprocessing
def _positive(**kw):
    for k, v in kw.items():
        if int(v) != v or v < 1:
            raise ValueError(f"{k} must be a positive integer, got {v!r}")


def balanced_subsample(labels: np.ndarray, m: int, *, seed: int = 0, n_classes: int = 10) -> np.ndarray:
    """Indices of m points, m // n_classes per class (the first m % n_classes classes get one more), drawn without
    replacement by numpy.random.default_rng(seed); sorted by class then draw order."""
    labels = np.asarray(labels).ravel()
    _positive(m=m)
    rng = np.random.default_rng([seed, 7])
    per = [m // n_classes + (c < m % n_classes) for c in range(n_classes)]
    out = []
    for c, k in enumerate(per):
        idx = np.flatnonzero(labels == c)
        if len(idx) < k:
            raise ValueError(f"class {c} has {len(idx)} examples, the subsample needs {k} (m={m})")
        out.append(rng.choice(idx, size=k, replace=False))
    return np.concatenate(out)


def preprocess_images(images: np.ndarray, labels: np.ndarray, *, m: int, d_x: int, seed: int = 0,
                      n_classes: int = 10):
    """images: (N, pixels) in [0, 1]. Class-balanced subsample of m, PCA to d_x (fit on the subsample, components
    scaled to unit variance), one-hot targets. Returns (X, Y, text)."""
    _positive(m=m, d_x=d_x)
    images = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    labels = np.asarray(labels).astype(np.int64).ravel()
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if d_x > min(m, images.shape[1]):
        raise ValueError(f"d_x={d_x} exceeds min(m={m}, pixels={images.shape[1]})")
    idx = balanced_subsample(labels, m, seed=seed, n_classes=n_classes)
    A = images[idx]
    A = A - A.mean(axis=0)
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    if s[d_x - 1] <= 1e-12 * s[0]:
        raise ValueError(f"the subsample has fewer than d_x={d_x} non-degenerate principal components")
    X = U[:, :d_x] * np.sqrt(m - 1)  # principal component scores with unit variance
    Y = np.eye(n_classes)[labels[idx]]
    explained = float((s[:d_x] ** 2).sum() / (s**2).sum())
    return X, Y, f"class-balanced m={m}, PCA d_x={d_x} ({explained:.0%} of variance), one-hot d_y={n_classes}, seed={seed}"


# ---------------------------------------------------------------- cache, download, checksum
@dataclass(frozen=True)
class RemoteFile:
    name: str  # file name in the cache folder
    url: str
    md5: str
    size: int | None = None  # bytes; None: not checked


# URLs and MD5 sums as torchvision pins them (torchvision/datasets/{mnist,cifar,svhn}.py).
REMOTE: dict[str, tuple[RemoteFile, ...]] = {
    "mnist": (
        RemoteFile("train-images-idx3-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
                   "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
        RemoteFile("train-labels-idx1-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
                   "d53e105ee54ea40749a09fcbcd1e9432", 28881),
    ),
    "cifar10": (
        RemoteFile("cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                   "c58f30108f718f92721af3b95e74349a", 170498071),
    ),
    "svhn": (
        RemoteFile("train_32x32.mat", "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
                   "e26dedcc434d2e4c54c9b2d4a06d8373", 182040794),
    ),
}


def cache_dir() -> pathlib.Path:
    """$MINIMACHECK_DATA if set, else platformdirs.user_cache_dir("minimacheck") (~/.cache/minimacheck on Linux)."""
    env = os.environ.get("MINIMACHECK_DATA")
    if env:
        return pathlib.Path(env).expanduser()
    try:
        import platformdirs

        return pathlib.Path(platformdirs.user_cache_dir("minimacheck"))
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        return pathlib.Path.home() / ".cache" / "minimacheck"


# torchvision's folder layout under a cache root (e.g. a torchvision `root=` folder pointed to by MINIMACHECK_DATA)
TORCHVISION_LAYOUT = {
    "train-images-idx3-ubyte.gz": ("MNIST/raw/train-images-idx3-ubyte.gz",),
    "train-labels-idx1-ubyte.gz": ("MNIST/raw/train-labels-idx1-ubyte.gz",),
    "cifar-10-python.tar.gz": ("cifar-10-python.tar.gz",),
    "train_32x32.mat": ("svhn/train_32x32.mat", "SVHN/train_32x32.mat"),
}
CIFAR_FOLDER = "cifar-10-batches-py"  # torchvision's extracted CIFAR-10


def _md5(path: pathlib.Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: pathlib.Path, spec: RemoteFile) -> str | None:
    """None when the file matches its size and MD5, else why not."""
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        return f"size {size} bytes, expected {spec.size}"
    digest = _md5(path)
    if digest != spec.md5:
        return f"MD5 {digest}, expected {spec.md5}"
    return None


def locate(spec: RemoteFile, root: str | os.PathLike | None = None) -> pathlib.Path | None:
    """An existing copy of spec under root: our flat layout first, then torchvision's."""
    root = pathlib.Path(root) if root is not None else cache_dir()
    for rel in (spec.name, *TORCHVISION_LAYOUT.get(spec.name, ())):
        if (root / rel).exists():
            return root / rel
    return None


def fetch(spec: RemoteFile, root: str | os.PathLike | None = None, *, download: bool = True, timeout: float = 30.0,
          retries: int = 3, progressbar: bool = True) -> pathlib.Path:
    """The verified local copy of `spec`, downloading it once into root (default cache_dir()) with pooch
    (`pooch.retrieve(url, known_hash="md5:...")`, `retries` attempts).

    A cached file (ours, or torchvision's layout) that fails its size/MD5 check is an error (never used); a download
    that fails its check is not kept. Offline, raises DatasetUnavailable naming the URL and where to put the file."""
    root = pathlib.Path(root) if root is not None else cache_dir()
    found = locate(spec, root)
    if found is not None:
        bad = _verify(found, spec)
        if bad:
            raise DatasetUnavailable(f"{found} is corrupt ({bad}); delete it to download again from {spec.url}")
        return found
    path = root / spec.name
    if not download:
        raise DatasetUnavailable(f"{path} is missing and download=False; fetch {spec.url} into {root}")
    import pooch

    root.mkdir(parents=True, exist_ok=True)
    last: Exception | None = None
    for _ in range(max(1, retries)):
        try:
            got = pooch.retrieve(spec.url, known_hash=f"md5:{spec.md5}", fname=spec.name, path=root, progressbar=progressbar,
                                 downloader=pooch.HTTPDownloader(progressbar=progressbar, timeout=timeout))
            break
        except ValueError as e:  # pooch: the hash does not match; nothing is kept
            pathlib.Path(path).unlink(missing_ok=True)
            raise DatasetUnavailable(f"download of {spec.url} failed its check ({e}); nothing was cached") from e
        except Exception as e:  # noqa: BLE001 - requests' connection errors, OSError, ...
            last = e
    else:
        pathlib.Path(path).unlink(missing_ok=True)
        raise DatasetUnavailable(
            f"cannot download {spec.url} ({last}); are you offline? Put the file at {path} by hand (or torchvision's "
            f"layout under {root}), or set MINIMACHECK_DATA to a folder that holds it. The offline data sets are "
            "'synthetic' and 'digits'.") from last
    got = pathlib.Path(got)
    bad = _verify(got, spec)
    if bad:
        got.unlink(missing_ok=True)
        raise DatasetUnavailable(f"download of {spec.url} failed its check ({bad}); nothing was cached")
    return got


def data_cmd(action: str, names=None, root=None, log=print) -> int:
    """`minimacheck data fetch|verify [NAMES]`: 0 when every file is present and verified, 1 otherwise."""
    names = list(names) or list(REMOTE)
    unknown = [n for n in names if n not in REMOTE]
    if unknown:
        raise ValueError(f"unknown data set(s) {', '.join(unknown)}; downloadable: {', '.join(REMOTE)}")
    ok = True
    for n in names:
        if n == "cifar10" and action == "verify" and (pathlib.Path(root or cache_dir()) / CIFAR_FOLDER).is_dir():
            log(f"{n}: torchvision folder {pathlib.Path(root or cache_dir()) / CIFAR_FOLDER} (batches read as they are)")
            continue
        for spec in REMOTE[n]:
            try:
                p = fetch(spec, root, download=action == "fetch")
                log(f"{n}: {p} ok (MD5 {spec.md5})")
            except DatasetUnavailable as e:
                ok = False
                log(f"{n}: {e}")
    return 0 if ok else 1


# ---------------------------------------------------------------- file formats
def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An idx file (MNIST format), gzipped or not: magic 0x0000 | dtype code | ndim, then big-endian dims."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an idx file (bad magic number)")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    code, ndim = data[2], data[3]
    if code not in dtypes:
        raise ValueError(f"{path}: unknown idx type code {code:#x}")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=dtypes[code], offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} but holds {arr.size} values")
    return arr.reshape(dims)


def read_mnist(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 784) in [0, 1], labels (N,))."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"MNIST files disagree: images {images.shape}, labels {labels.shape}")
    return images.reshape(len(images), -1).astype(np.float64) / 255.0, labels.astype(np.int64)


def read_cifar10(tar_path, batches=("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5")):
    """(images (N, 3072) in [0, 1], labels (N,)) from the python-pickle tar (cifar-10-batches-py/<batch>)."""
    xs, ys = [], []
    if pathlib.Path(tar_path).is_dir():  # torchvision's extracted cifar-10-batches-py/
        for b in batches:
            with open(pathlib.Path(tar_path) / b, "rb") as f:
                d = pickle.load(f, encoding="bytes")
            xs.append(np.asarray(d[b"data"], dtype=np.uint8))
            ys.append(np.asarray(d[b"labels"], dtype=np.int64))
        return np.concatenate(xs).astype(np.float64) / 255.0, np.concatenate(ys)
    with tarfile.open(tar_path, "r:*") as tar:
        members = {pathlib.PurePosixPath(m.name).name: m for m in tar.getmembers() if m.isfile()}
        for b in batches:
            if b not in members:
                raise ValueError(f"{tar_path}: batch {b!r} not found")
            d = pickle.load(tar.extractfile(members[b]), encoding="bytes")
            xs.append(np.asarray(d[b"data"], dtype=np.uint8))
            ys.append(np.asarray(d[b"labels"], dtype=np.int64))
    X = np.concatenate(xs)
    if X.shape[1] != 3072:
        raise ValueError(f"{tar_path}: rows have {X.shape[1]} values, expected 3072")
    return X.astype(np.float64) / 255.0, np.concatenate(ys)


def read_svhn(mat_path) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 3072) in [0, 1], labels (N,) in 0..9) from train_32x32.mat (X: 32x32x3xN, y: label 10 means 0)."""
    import scipy.io

    d = scipy.io.loadmat(mat_path)
    X, y = d["X"], np.asarray(d["y"]).astype(np.int64).ravel()
    if X.ndim != 4 or X.shape[:3] != (32, 32, 3) or X.shape[3] != len(y):
        raise ValueError(f"{mat_path}: X has shape {X.shape}, y {y.shape}; expected 32x32x3xN and N labels")
    y = np.where(y == 10, 0, y)
    return np.transpose(X, (3, 0, 1, 2)).reshape(len(y), -1).astype(np.float64) / 255.0, y


# ---------------------------------------------------------------- image-set loaders
def mnist(m: int = 200, d_x: int = 16, *, seed: int = 0, root=None, download: bool = True) -> Dataset:
    paths = [fetch(s, root, download=download) for s in REMOTE["mnist"]]
    X, Y, info = preprocess_images(*read_mnist(*paths), m=m, d_x=d_x, seed=seed)
    return Dataset("mnist", X, Y, f"MNIST train: {info}", dict(m=m, d_x=d_x, d_y=10, seed=seed))


def cifar10(m: int = 200, d_x: int = 16, *, seed: int = 0, root=None, download: bool = True) -> Dataset:
    folder = pathlib.Path(root if root is not None else cache_dir()) / CIFAR_FOLDER
    path = folder if folder.is_dir() else fetch(REMOTE["cifar10"][0], root, download=download)
    X, Y, info = preprocess_images(*read_cifar10(path), m=m, d_x=d_x, seed=seed)
    return Dataset("cifar10", X, Y, f"CIFAR-10 train: {info}", dict(m=m, d_x=d_x, d_y=10, seed=seed))


def svhn(m: int = 200, d_x: int = 16, *, seed: int = 0, root=None, download: bool = True) -> Dataset:
    (path,) = [fetch(s, root, download=download) for s in REMOTE["svhn"]]
    X, Y, info = preprocess_images(*read_svhn(path), m=m, d_x=d_x, seed=seed)
    return Dataset("svhn", X, Y, f"SVHN train: {info}", dict(m=m, d_x=d_x, d_y=10, seed=seed))


_LOADERS = {"synthetic": synthetic, "digits": digits, "mnist": mnist, "cifar10": cifar10, "svhn": svhn}
NAMES = tuple(_LOADERS)


def load(name: str, **kw) -> Dataset:
    """Load a data set by name ('synthetic', 'digits', 'mnist', 'cifar10', 'svhn'); keywords go to its loader."""
    key = name.lower().replace("-", "")
    if key not in _LOADERS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(NAMES)}")
    return _LOADERS[key](**kw)
