"""Provenance of every JSON the suite writes (results.json, the bench JSON, `certify --json`, failure artifacts):
schema version, git commit, package and solver versions, device; and strict JSON (non-finite numbers -> null)."""
from __future__ import annotations

import importlib.metadata as md
import json
import math
import os
import pathlib
import platform
import subprocess
import sys

SCHEMA_VERSION = 1
PACKAGES = ("minimacheck", "numpy", "scipy", "torch", "cvxpy", "clarabel", "hypothesis", "scikit-learn", "joblib",
            "python-flint", "matplotlib", "pooch", "platformdirs", "dask", "distributed")


def git_commit(path: str | os.PathLike | None = None) -> str | None:
    """HEAD of the git checkout holding `path` (default: this package), or None outside a checkout."""
    where = pathlib.Path(path) if path is not None else pathlib.Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else None


def versions() -> dict:
    out: dict = {"python": sys.version.split()[0]}
    for p in PACKAGES:
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = None
    return out


def solvers() -> list[str] | None:
    """cvxpy's installed solvers (None when cvxpy is missing)."""
    try:
        import cvxpy
    except Exception:  # noqa: BLE001
        return None
    return sorted(cvxpy.installed_solvers())


def device() -> dict:
    """Where the numbers were computed. Imports torch only when something already did (no start-up cost)."""
    d = {"platform": platform.platform(), "machine": platform.machine(), "processor": platform.processor() or None,
         "cpu_count": os.cpu_count(), "torch_device": None, "cuda": None}
    torch = sys.modules.get("torch")
    if torch is not None:
        cuda = bool(torch.cuda.is_available())
        d.update(torch_device="cuda" if cuda else "cpu", cuda=torch.cuda.get_device_name(0) if cuda else None,
                 torch_threads=torch.get_num_threads(), torch_default_dtype=str(torch.get_default_dtype()))
    return d


def stamp() -> dict:
    """The provenance block every written JSON starts with."""
    return {"schema_version": SCHEMA_VERSION, "git_commit": git_commit(), "versions": versions(),
            "solvers": solvers(), "device": device()}


def finite(x):
    """Plain JSON values: numpy scalars/arrays and tensors to Python, non-finite floats to None."""
    if isinstance(x, dict):
        return {str(k): finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite(v) for v in x]
    if isinstance(x, bool) or x is None or isinstance(x, (str, int)) and not hasattr(x, "dtype"):
        return x
    if isinstance(x, float):
        return float(x) if math.isfinite(x) else None
    if hasattr(x, "tolist"):  # numpy scalars and arrays, torch tensors
        return finite(x.tolist())
    if hasattr(x, "as_dict"):
        return finite(x.as_dict())
    if hasattr(x, "value") and hasattr(x, "name"):  # enums
        return finite(x.value)
    return str(x)


def dumps(obj, **kw) -> str:
    """json.dumps that never writes NaN/Infinity (they become null)."""
    return json.dumps(finite(obj), allow_nan=False, **kw)
