"""Replayable counterexamples: every failure (a failed positive, a missed negative control) in pytest,
`minimacheck check` and `minimacheck report` is written to one JSON file, and `minimacheck replay FILE` re-runs it.

A file holds: the claim and part ids, what failed (positive / pinned / control and its name), the instance
parameters (a dataclass, encoded with its class path, so they are rebuilt exactly), and for point claims the instance
the check judged (data, model, point: arrays in full, float64 round-trips exactly through JSON's shortest repr),
theta, X and Y, the certificate, the record, and provenance (versions, git commit, device).

Replay: a point claim is re-judged AT THE SAVED theta by `part.check_at(instance, theta)` without retraining; a
trajectory or trend claim re-runs `part.check(params)` (deterministic from its parameters); a control re-runs the
control. `replay` exits 1 while the violation stands and 0 when it no longer does.
"""
from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import importlib
import json
import math
import pathlib
import re
import sys
from unittest import mock

FORMAT = "minimacheck-counterexample"


class BadArtifact(ValueError):
    pass


# ---------------------------------------------------------------- capturing what check_at judged
class _Seen:
    def __init__(self):
        self.calls: list[tuple] = []  # (instance, theta, record)

    def find(self, rec):
        for inst, theta, r in reversed(self.calls):
            if r is rec:
                return inst, theta
        for inst, theta, r in reversed(self.calls):
            if r == rec:
                return inst, theta
        return None


@contextlib.contextmanager
def capture(part):
    """While active, calls of the part's module-level check_at (e.g. check(p) = check_at(build(p))) record the
    instance and point they judged."""
    seen = _Seen()
    fn = part.check_at
    module = sys.modules.get(getattr(fn, "__module__", "") or "") if fn is not None else None
    name = getattr(fn, "__name__", None)
    if module is None or name is None or getattr(module, name, None) is not fn:
        yield seen
        return

    @functools.wraps(fn)
    def recording(instance, theta=None, *args, **kwargs):
        rec = fn(instance, theta, *args, **kwargs)
        seen.calls.append((instance, getattr(instance, "theta", None) if theta is None else theta, rec))
        return rec

    with mock.patch.object(module, name, recording):
        yield seen


# ---------------------------------------------------------------- encoding
def _path_of(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _import(path: str):
    mod, _, qual = path.partition(":")
    obj = importlib.import_module(mod)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def _num(v):
    return v if math.isfinite(v) else repr(v)


def encode(x):
    """JSON-ready, exactly decodable (see decode); objects it cannot rebuild become {'__repr__': ...}."""
    import numpy as np

    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, float):
        return float(x) if math.isfinite(x) else {"__float__": repr(float(x))}
    if isinstance(x, enum.Enum):
        return {"__enum__": _path_of(type(x)), "name": x.name}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {"__dataclass__": _path_of(type(x)),
                "fields": {f.name: encode(getattr(x, f.name)) for f in dataclasses.fields(x)
                           if f.init and not f.name.startswith("_")}}
    if type(x).__module__ == "torch" and hasattr(x, "detach"):
        a = x.detach().cpu().numpy()
        return {"__tensor__": str(a.dtype), "shape": list(a.shape), "data": [_num(float(v)) for v in a.ravel()]}
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "fiub":
            return {"__ndarray__": str(x.dtype), "shape": list(x.shape),
                    "data": [_num(float(v)) if x.dtype.kind == "f" else v.item() for v in x.ravel()]}
        return {"__repr__": repr(x)}
    if isinstance(x, np.generic):
        return encode(x.item())
    if isinstance(x, tuple):
        return {"__tuple__": [encode(v) for v in x]}
    if isinstance(x, list):
        return [encode(v) for v in x]
    if isinstance(x, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in x.items()]}
    return {"__repr__": repr(x)}


def decodable(x) -> bool:
    if isinstance(x, dict):
        if "__repr__" in x:
            return False
        return all(decodable(v) for v in x.values())
    if isinstance(x, list):
        return all(decodable(v) for v in x)
    return True


def decode(x):
    import numpy as np

    if isinstance(x, list):
        return [decode(v) for v in x]
    if not isinstance(x, dict):
        return x
    if "__float__" in x:
        return float(x["__float__"])
    if "__enum__" in x:
        return _import(x["__enum__"])[x["name"]]
    if "__tuple__" in x:
        return tuple(decode(v) for v in x["__tuple__"])
    if "__dict__" in x:
        return {_hashable(decode(k)): decode(v) for k, v in x["__dict__"]}
    if "__ndarray__" in x or "__tensor__" in x:
        dtype = x.get("__ndarray__") or x.get("__tensor__")
        a = np.array([float(v) if isinstance(v, str) else v for v in x["data"]], dtype=dtype).reshape(x["shape"])
        if "__tensor__" in x:
            import torch

            return torch.as_tensor(a)
        return a
    if "__dataclass__" in x:
        cls = _import(x["__dataclass__"])
        return cls(**{k: decode(v) for k, v in x["fields"].items()})
    if "__repr__" in x:
        raise BadArtifact(f"cannot rebuild {x['__repr__'][:80]}")
    return {k: decode(v) for k, v in x.items()}


def _hashable(k):
    return tuple(k) if isinstance(k, list) else k


# ---------------------------------------------------------------- writing
@functools.lru_cache(maxsize=1)
def _stamp() -> dict:
    from minimacheck import provenance

    return provenance.stamp()


def params_from_record(part, extra: dict):
    """The instance parameters from record.extra['params'] (a dict), rebuilt as the claim module's `Params`
    dataclass when it has one; None when that is not possible."""
    d = extra.get("params")
    module = sys.modules.get(getattr(part.check, "__module__", "") or "")
    cls = getattr(module, "Params", None) if module is not None else None
    if not isinstance(d, dict) or cls is None or not dataclasses.is_dataclass(cls):
        return None
    try:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})
    except TypeError:
        return None


def _array(obj, *names):
    for n in names:
        v = getattr(obj, n, None) if not isinstance(obj, dict) else obj.get(n)
        if v is not None:
            return v
    return None


def save(folder, part, record, *, kind: str, name=None, params=None, captured=None, nodeid: str | None = None) -> pathlib.Path:
    """Write the counterexample file for a failing record; returns its path."""
    from minimacheck import provenance

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    instance, theta = captured if captured else (None, None)
    if params is None and instance is not None:
        params = getattr(instance, "params", None)
    extra = record.extra if isinstance(record.extra, dict) else {}
    if params is None:
        params = params_from_record(part, extra)
    X = _array(instance, "X") if instance is not None else None
    Y = _array(instance, "Y", "y") if instance is not None else None
    X = extra.get("X") if X is None else X
    Y = extra.get("Y", extra.get("y")) if Y is None else Y
    theta = extra.get("theta") if theta is None else theta
    cert = None
    if instance is not None and theta is not None and hasattr(instance, "obj"):
        try:
            from networks import certify

            cert = certify(instance.obj, theta).as_dict()
        except Exception as e:  # noqa: BLE001 - the artifact is still written
            cert = {"error": f"{type(e).__name__}: {e}"}
    elif "verdict" in extra:
        cert = {k: extra[k] for k in ("verdict", "strength", "loss", "grad_norm", "lambda_min", "margin") if k in extra}
    enc_instance = encode(instance) if instance is not None else None
    doc = {
        "format": FORMAT, "claim": record.claim, "part": part.id, "part_kind": getattr(part.kind, "value", str(part.kind)),
        "kind": kind, "name": name, "pytest_nodeid": nodeid,
        "params_class": _path_of(type(params)) if dataclasses.is_dataclass(params) else None,
        "params_dict": dataclasses.asdict(params) if dataclasses.is_dataclass(params) else None,
        "params": encode(params) if params is not None else None,
        "instance": enc_instance if enc_instance is not None and decodable(enc_instance) else None,
        "theta": encode(theta) if theta is not None else None, "X": encode(X) if X is not None else None,
        "Y": encode(Y) if Y is not None else None, "certificate": cert, "record": record.to_dict(),
        **_stamp(),
    }
    text = provenance.dumps(doc, indent=1)
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{part.id}-{kind}-{name if name is not None else ''}").strip("_-")[:100]
    path = folder / f"{label}-{digest}.json"
    path.write_text(text)
    return path


# ---------------------------------------------------------------- replaying
def load(path) -> dict:
    path = pathlib.Path(path)
    if not path.exists():
        raise BadArtifact(f"{path} does not exist")
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise BadArtifact(f"{path} is not a counterexample file: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BadArtifact(f"{path} is not a minimacheck counterexample file "
                          f"(format {doc.get('format') if isinstance(doc, dict) else None!r})")
    return doc


def find_claim(claim_id: str):
    """The registered claim; an external id loads the entry points only (not every built-in claim)."""
    from minimacheck import registry
    from minimacheck.contract import EXTERNAL_ID

    if EXTERNAL_ID.match(claim_id):
        ext = registry.external()
        if claim_id in ext:
            return ext[claim_id]
    try:
        return registry.get(claim_id)
    except registry.UnknownClaim as e:
        raise BadArtifact(str(e)) from None


def _part(doc):
    claim = find_claim(doc["claim"])
    for p in claim.parts:
        if p.id == doc["part"]:
            return p
    raise BadArtifact(f"{doc['claim']} has no part {doc['part']!r}")


def replay(path):
    """(violation stands, record, how) for a saved counterexample."""
    from minimacheck.contract import outcome_ok

    doc = load(path)
    part = _part(doc)
    if doc["kind"] == "control":
        if doc["name"] not in part.controls:
            raise BadArtifact(f"{part.id} has no control {doc['name']!r}")
        rec = part.controls[doc["name"]](part)
        how = f"control {doc['name']!r} re-run"
    elif part.check_at is not None and doc.get("instance") is not None and doc.get("theta") is not None:
        instance, theta = decode(doc["instance"]), decode(doc["theta"])
        rec = part.check_at(instance, theta)
        how = "check_at on the saved instance at the saved theta (no training)"
    else:
        if doc.get("params") is None:
            raise BadArtifact("the file holds neither the instance nor its parameters")
        rec = part.check(decode(doc["params"]))
        how = "check(params) re-run (deterministic from the parameters)"
    return (not outcome_ok(rec)), rec, how


def replay_cmd(path) -> int:
    violated, rec, how = replay(path)
    doc = load(path)
    hr = "-" if rec.headroom is None else f"{rec.headroom:.3g}"
    print(f"{doc['part']} {doc['kind']} {doc.get('name') or ''}: {how}")
    print(f"  certified={rec.certified} passed={rec.passed} detected={rec.detected} gap/tol={hr}: {rec.reason}")
    print("  the violation STANDS" if violated else "  the violation no longer stands")
    return 1 if violated else 0
