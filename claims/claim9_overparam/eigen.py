"""claim9d — the smallest eigenvalue of the NTK (CLAIMS.md claim9d; Nguyen-Mondelli-Montufar 2021, Bombari et al.
2022, Karhadkar-Murray-Montufar 2024).

K = J J^T with J the N x P Jacobian of a ReLU net at a N(0, 1) init in the NTK parameterization (claim9c's net),
inputs uniform on the sphere of radius sqrt(d_0) ("concentrated data"). Four instance kinds (Kind.TREND: each is a
small experiment; `certified=True` means it ran to a verdict, i.e. its hypotheses held):
- 'under' [exact]: P < N, so rank K <= P < N: |lambda_min| <= 1e-10 lambda_max.
- 'sublinear' [characterization]: two hidden layers of width w in [max(16, sqrt(N) + 1), N/2] (so P > N and
  w^2 >= N, Bombari et al.'s d_{L-1} d_{L-2} = Omega(N)): lambda_min > 1e-10 lambda_max (numerically positive, i.e.
  above the rank-deficiency level of 'under'). The handbook's "sub-linear widths with P > N give lambda_min > 0" is
  FALSE for narrow ReLU layers: a sample on which every last-hidden-layer unit is inactive has a zero Jacobian row,
  so lambda_min = 0 exactly (measured: widths (7, 7), N = 40, d_0 = 17, seed 40: lambda_min = -4.3e-14 with P = 175;
  the chance is about N 2^-w per instance). Bombari et al.'s theorem is for smooth sigma; w >= 16 keeps that
  chance below 1e-3.
- 'wide' (one hidden layer of width >= 4N): [exact] the infinite-width kernel obeys a DERIVED, data-independent
  bound: on the sphere Theta(x_i, x_j) = d_0 kappa(rho_ij), kappa(rho) = rho + (2 rho arcsin rho + sqrt(1 -
  rho^2))/pi = sum_k c_k rho^k with c_k >= 0 (c_0 = 1/pi, c_1 = 1, c_2m = C(2m-2, m-1)/(pi 4^(m-1)) (2/(2m-1) -
  1/(2m))), so Theta = d_0 sum_k c_k G^(o k) (Schur powers of the Gram of unit vectors, each PSD with unit diagonal)
  and, under the hypothesis max_{i != j} |rho_ij| <= rho_* = 0.9,
      lambda_min(Theta) >= d_0 sum_k c_k max(0, 1 - (N - 1) rho_*^k)   (Gershgorin on each Schur power);
  [characterization] lambda_min(K) / lambda_min(Theta) in [0.5, 1.5] (the handbook's explicit, not derived, band).
- 'scaling' [characterization]: lambda_min(Theta)/d_0 over d_0 in {10, 20, 40} (N fixed) does not fall below half its
  value at d_0 = 10 (the Omega(d_0) direction). The handbook's band "within a factor 2" FAILS at N = 40..80: the
  normalized value grows with d_0 as the data decorrelate (measured 0.21, 0.38, 0.57 and 0.15, 0.31, 0.47; it tends
  to kappa(1) - c_0 = 2 - 1/pi as d_0 -> infinity); extra["handbook_spread"] records it.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from unittest import mock

import numpy as np
from hypothesis import strategies as st
from scipy.special import gammaln

from minimacheck.contract import Floor, Kind, Part, Sabotage, violation_detected

from . import ntk
from .common import headroom, jacobian_gram, record, sphere

PART_ID = "claim9d"
STATEMENT = ("lambda_min(J J^T) = 0 when P < N; > 0 with sub-linear widths and P > N; for one wide layer it tracks the "
             "infinite-width NTK, which is bounded below by Omega(d_0) on separated spherical data.")
KINDS = ("under", "sublinear", "wide", "scaling")
RANK_TOL = 1e-10
RHO_STAR = 0.9
RATIO_BAND = (0.5, 1.5)
SCALING_FACTOR = 2.0
SCALING_D0 = (10, 20, 40)
K_MAX = 4000
MIN_SUBLINEAR_WIDTH = 16


@dataclass(frozen=True)
class Params:
    kind: str
    N: int
    d: int
    widths: tuple
    seed: int
    data: str = "sphere"  # 'near-duplicate': x_2 = x_1 + 1e-3 noise (negative control)

    def validate(self) -> Params:
        if self.kind not in KINDS:
            raise ValueError(f"claim9d: kind must be one of {KINDS}, got {self.kind!r}")
        if self.data not in ("sphere", "near-duplicate"):
            raise ValueError(f"claim9d: data must be 'sphere' or 'near-duplicate', got {self.data!r}")
        if not self.widths or any(int(w) != w or w < 1 for w in self.widths):
            raise ValueError(f"claim9d: widths must be positive integers, got {self.widths!r}")
        if self.kind == "wide" and (len(self.widths) != 1 or self.widths[0] < 4 * self.N):
            raise ValueError(f"claim9d: 'wide' is one hidden layer of width >= 4N, got {self.widths} for N={self.N}")
        return self

    @property
    def n_params(self) -> int:
        dims = (self.d, *self.widths, 1)
        return sum(dims[i] * dims[i + 1] for i in range(len(dims) - 1))


def regime_of(p: Params) -> str:
    return p.kind


@st.composite
def _params(draw, regime: str | None = None):
    kind = regime or draw(st.sampled_from(sorted(REGIMES)))
    seed = draw(st.integers(0, 2**31 - 1))
    N = draw(st.integers(40, 80))
    if kind == "under":
        d = draw(st.integers(5, 10))
        w = draw(st.integers(1, max(1, (N - 1) // (d + 2))))  # P = w (d + 1) < N
        return Params("under", N, d, (w,), seed).validate()
    if kind == "sublinear":
        d = draw(st.integers(10, 20))
        # two layers of width in [max(16, sqrt(N) + 1), N/2]: P > N, and w >= 16 keeps every sample alive (module doc)
        w = draw(st.integers(max(MIN_SUBLINEAR_WIDTH, int(math.isqrt(N)) + 1), N // 2))
        return Params("sublinear", N, d, (w, w), seed).validate()
    if kind == "wide":
        return Params("wide", N, draw(st.sampled_from((20, 40))), (4 * N,), seed).validate()
    return Params("scaling", N, 20, (4 * N,), seed).validate()


def strategy(regime: str | None = None):
    if regime is not None and regime not in REGIMES:
        raise ValueError(f"claim9d: unknown regime {regime!r}; known: {sorted(REGIMES)}")
    return _params(regime)


# ---------------------------------------------------------------- kernels
def data(N: int, d: int, rng, kind: str = "sphere") -> np.ndarray:
    X = sphere(N, d, rng, radius=math.sqrt(d))
    if kind == "near-duplicate":
        x = X[0] + 1e-3 * rng.standard_normal(d)
        X[1] = math.sqrt(d) * x / np.linalg.norm(x)
    return X


def kappa_coefficients(k_max: int = K_MAX) -> np.ndarray:
    """c_0..c_k_max of kappa(rho) = rho + (2 rho arcsin rho + sqrt(1 - rho^2))/pi (all >= 0)."""
    c = np.zeros(k_max + 1)
    c[0], c[1] = 1 / np.pi, 1.0
    m = np.arange(1, k_max // 2 + 1)
    log_binom = gammaln(2 * m - 1) - 2 * gammaln(m) - (m - 1) * np.log(4.0)  # log C(2m-2, m-1) / 4^(m-1)
    c[2 * m] = np.exp(log_binom) / np.pi * (2 / (2 * m - 1) - 1 / (2 * m))
    return c


def lower_bound(N: int, d: int, rho_star: float = RHO_STAR) -> float:
    """d sum_k c_k max(0, 1 - (N - 1) rho_*^k): the derived bound on lambda_min(Theta) (module docstring)."""
    c = kappa_coefficients()
    k = np.arange(c.size)
    return float(d * np.sum(c * np.maximum(0.0, 1.0 - (N - 1) * rho_star ** k)))


def max_correlation(X: np.ndarray) -> float:
    n = np.linalg.norm(X, axis=1)
    C = (X @ X.T) / np.outer(n, n)
    np.fill_diagonal(C, 0.0)
    return float(np.abs(C).max())


def spectrum(K: np.ndarray) -> tuple[float, float]:
    w = np.linalg.eigvalsh(0.5 * (K + K.T))
    return float(w[0]), float(w[-1])


# ---------------------------------------------------------------- the check
def check(p: Params, *, hypotheses: bool = True, device="cpu"):
    p.validate()
    rng = np.random.default_rng(p.seed)
    X = data(p.N, p.d, rng, p.data)
    extra = {"params": asdict(p), "P": p.n_params, "rho_max": max_correlation(X)}
    rec = dict(regime=regime_of(p))
    kind = p.kind
    if kind == "scaling":
        ratios = []
        for d0 in SCALING_D0:
            Xd = data(p.N, d0, np.random.default_rng(p.seed + d0), p.data)
            ratios.append(spectrum(ntk.ntk(Xd, 1))[0] / d0)
        drop = ratios[0] / min(ratios) if min(ratios) > 0 else math.inf  # Omega(d_0): no fall by more than 2x
        spread = max(ratios) / min(ratios) if min(ratios) > 0 else math.inf
        extra.update(ratios=ratios, drop=drop, handbook_spread=spread)
        return record(PART_ID, "claim9d-scaling", **rec, certified=True, passed=drop <= SCALING_FACTOR,
                      gap=drop / SCALING_FACTOR, tol=1.0, extra=extra,
                      reason=f"lambda_min(Theta)/d_0 over d_0 {SCALING_D0}: {np.round(ratios, 4).tolist()}")
    lmin, lmax = spectrum(jacobian_gram(X, p.widths, p.seed + 1, device))
    extra.update(lambda_min=lmin, lambda_max=lmax)
    why = []
    if kind == "under" and not p.n_params < p.N:
        why.append(f"P = {p.n_params} >= N = {p.N}")
    if kind == "sublinear" and not p.n_params > p.N:
        why.append(f"P = {p.n_params} <= N = {p.N}")
    if kind == "wide" and not extra["rho_max"] <= RHO_STAR:
        why.append(f"data not separated: max |rho_ij| = {extra['rho_max']:.4f} > rho_* = {RHO_STAR}")
    if hypotheses and why:
        return record(PART_ID, f"claim9d-{kind}", **rec, certified=False, extra=extra,
                      reason="outside hypotheses: " + "; ".join(why))
    if kind == "under":
        h = headroom((abs(lmin), RANK_TOL * lmax))
    elif kind == "sublinear":
        h = headroom((RANK_TOL * lmax, lmin))
    else:
        lmin_inf = spectrum(ntk.ntk(X, 1))[0]
        bound = lower_bound(p.N, p.d)
        ratio = lmin / lmin_inf if lmin_inf > 0 else math.inf
        extra.update(lambda_min_inf=lmin_inf, bound=bound, ratio=ratio)
        lo, hi = RATIO_BAND
        h = headroom((bound, lmin_inf), (lo, ratio), (ratio, hi))
    return record(PART_ID, f"claim9d-{kind}", **rec, certified=not why, passed=h <= 1.0, gap=h, tol=1.0, extra=extra,
                  reason=f"P = {p.n_params}, N = {p.N}: lambda_min = {lmin:.4g}, lambda_max = {lmax:.4g}"
                         + (f"; lambda_min(Theta) = {extra['lambda_min_inf']:.4g} >= bound {extra['bound']:.4g}?"
                            if kind == "wide" else "") + (f"; outside hypotheses: {'; '.join(why)}" if why else ""))


# ---------------------------------------------------------------- controls
def control_near_duplicate(part) -> object:
    """x_2 = x_1 + 1e-3 noise: lambda_min collapses (handbook: 6.2e-6), below the data-independent Omega(d_0) bound,
    which the check evaluates with its separation hypothesis waived."""
    rec = part.check(Params("wide", 60, 20, (240,), seed=31, data="near-duplicate"), hypotheses=False)
    return violation_detected(replace(rec, check="control-near-duplicate"), rec.extra["rho_max"] > RHO_STAR)


def control_under_as_positive(part) -> object:
    """P < N judged by the positivity assertion: lambda_min is exactly 0 (rank <= P), so it must fail."""
    rec = part.check(Params("sublinear", 60, 8, (4, 4), seed=32), hypotheses=False)
    return violation_detected(replace(rec, check="control-under-parameterized"), rec.extra["P"] < 60)


CONTROLS = {"near-duplicate-inputs": control_near_duplicate,
            "under-parameterized-positivity": control_under_as_positive}


# ---------------------------------------------------------------- sabotages
def _coefficients_tenfold(k_max: int = K_MAX):
    return 10.0 * _kappa_coefficients(k_max)


def _gram_half(X, widths, seed, device="cpu"):
    return 0.5 * _jacobian_gram(X, widths, seed, device)


_kappa_coefficients, _jacobian_gram = kappa_coefficients, jacobian_gram
PINNED = {
    "handbook-under-4-4": Params("under", 200, 20, (4, 4), seed=1),
    "handbook-sublinear-15-15": Params("sublinear", 200, 20, (15, 15), seed=2),
    "wide-n60": Params("wide", 60, 20, (240,), seed=3),
}
SABOTAGES = {
    "series-coefficients-tenfold": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.kappa_coefficients", _coefficients_tenfold),
        run=lambda part: [part.check(PINNED["wide-n60"])],
        description="the kernel's power-series coefficients 10x: the 'lower bound' exceeds lambda_min(Theta)"),
    "jacobian-half-scale": Sabotage(
        inject=lambda: mock.patch(f"{__name__}.jacobian_gram", _gram_half),
        run=lambda part: [part.check(PINNED["wide-n60"])],
        description="an empirical NTK at half scale (a lost sqrt(2) of the parameterization): the finite/infinite "
                    "ratio leaves [0.5, 1.5]"),
}

REGIMES = {
    "under": Floor(1.0, 2, "2/2"),
    "sublinear": Floor(1.0, 2, "2/2"),
    "wide": Floor(0.5, 2, "2/2"),
    "scaling": Floor(1.0, 1, "1/1"),
}

PART = Part(id=PART_ID, statement=STATEMENT, strategy=strategy, check=check, check_at=None, regime_of=regime_of,
            regimes=REGIMES, pinned=PINNED, controls=CONTROLS, sabotages=SABOTAGES, kind=Kind.TREND)
