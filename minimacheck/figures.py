"""claim9's figures for the report: where people would rather look than read.

- claim9_ntk_error.png: relative error of the empirical NTK (J J^T, torch.func) against the exact ReLU NTK
  recursion vs width, with the tolerance 6/sqrt(width) (claim9c);
- claim9_rate.png: the residual ||u(k) - y|| of GD on a wide two-layer ReLU net against the rate bound
  (1 - eta lambda_0 / 2)^(k/2) ||u(0) - y|| (claim9b, the pinned structured instance);
- claim9_gd_gf.png: max ||theta_k - theta(k eta)|| of GD against gradient flow vs eta, with the a-posteriori bound
  and the O(eta) reference (claim9f, the handbook's d = 4, depth-3 deep linear net).
Each figure's data are returned too (results.json keeps them).
"""
from __future__ import annotations

import pathlib

import numpy as np


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (the report runs headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path) -> None:
    """Lay out, write at the report's resolution and release a figure (every report figure ends this way)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _listed(d: dict) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in d.items()}


def claim9_figures(out: pathlib.Path, quick: bool = False) -> dict:
    """Write the three figures into `out`; return {file name: the data behind it}."""
    from claims.claim9_overparam import gdgf, gram, ntk

    plt = pyplot()
    data = {}

    widths = (64, 256, 1024) if quick else (64, 256, 1024, 4096)
    d = ntk.ntk_error_vs_width(depth=2, widths=widths)
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    ax.loglog(d["width"], d["error"], "o-", label="relative error, depth 2")
    ax.loglog(d["width"], d["tol"], "k--", label="tolerance 6/sqrt(width)")
    ax.set_xlabel("width")
    ax.set_ylabel("||K_emp - K_NTK|| / ||K_NTK||")
    ax.set_title("claim9c: empirical NTK vs the exact recursion", fontsize=9)
    ax.legend(fontsize=7)
    save(fig, out / "claim9_ntk_error.png")
    data["claim9_ntk_error.png"] = _listed(d)

    d = gram.residual_vs_step(gram.PINNED["structured-n10"])
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    ax.semilogy(d["step"], d["residual"], label="||u(k) - y||")
    ax.semilogy(d["step"], d["bound"], "k--", label="(1 - eta lambda_0/2)^(k/2) ||u(0) - y||")
    ax.set_xlabel("GD step k")
    ax.set_title(f"claim9b: linear rate (lambda_0 = {d['lam0']:.3g})", fontsize=9)
    ax.legend(fontsize=7)
    save(fig, out / "claim9_rate.png")
    data["claim9_rate.png"] = _listed({k: d[k] for k in ("lam0", "eta")} | {"final_residual": float(d["residual"][-1])})

    etas = (0.04, 0.02, 0.01) if quick else (0.04, 0.02, 0.01, 0.005)
    d = gdgf.gd_gf_deviation_vs_eta(gdgf.PINNED["handbook-d4-depth3"], etas=etas)
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    ax.loglog(d["eta"], d["deviation"], "o-", label="max ||theta_k - theta(k eta)||")
    ax.loglog(d["eta"], d["bound"], "k--", label="a-posteriori Euler bound")
    ax.loglog(d["eta"], d["deviation"][0] * d["eta"] / d["eta"][0], ":", color="0.5", label="O(eta)")
    ax.set_xlabel("step eta")
    ax.set_title("claim9f: GD tracks gradient flow", fontsize=9)
    ax.legend(fontsize=7)
    save(fig, out / "claim9_gd_gf.png")
    data["claim9_gd_gf.png"] = _listed(d)
    return data
