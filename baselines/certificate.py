"""Certificates for classical baselines, input checks, and the one place where cvxpy is called.

A baseline value is trusted only if (ENGINEERING.md section 2): the cvxpy status is exactly OPTIMAL (OPTIMAL_INACCURATE
is refused, cvxpy/cvxpy#595); the objective is recomputed in numpy at the returned point (reported and recomputed
values differ in cvxpy/cvxpy#1085, #1344); KKT residuals are checked by us; and a closed form, where one exists,
agrees with cvxpy. Anything else raises BaselineError; bad input raises ValueError.
"""
from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from networks.tolerance import slack_solver as _slack_solver
from networks.tolerance import tau_fp

EPS = float(np.finfo(np.float64).eps)

# Pinned solver and tolerances. Clarabel is an interior-point method: at termination the relative duality gap and
# the primal/dual residuals are below these, so a recomputed objective is within ~1e-9 (1 + |value|) of the optimum,
# well inside slack_solver = 1e-6 (1 + |value|), the budget the claims add for every cvxpy value. 10x tighter than
# Clarabel's defaults (1e-8). Measured over 60 random instances per problem: 1e-10 made Clarabel stall at
# OPTIMAL_INACCURATE on 5/60 symmetric least-squares problems (cone form); 1e-9 certified all, worst agreements
# 3e-16 (least squares), 5e-10 (PSD, recomputed vs reported), 4e-11 (softmax vs Newton).
SOLVER = "CLARABEL"
CLARABEL_TOLERANCES = {"tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9}
# SCS is a first-order method; its tolerances are only usable for the slack_solver budget on well-scaled problems.
SCS_TOLERANCES = {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000}

# Agreement demanded between a closed form and cvxpy (relative to 1 + |value|): 1e-8 for least squares (handbook
# claim1/claim3), the conic budget slack_solver/(1 + |value|) = 1e-6 for problems without a closed form.
LS_AGREEMENT = 1e-8
CONIC_AGREEMENT = 1e-6


class BaselineError(RuntimeError):
    """A baseline could not be certified (solver status, KKT residual, disagreement, optimum not attained)."""


@dataclass(frozen=True)
class BaselineCertificate:
    """A certified global optimum of a classical model.

    value: the certified optimum (closed form where one exists, else cvxpy's objective recomputed in numpy).
    slack_solver: 0 for closed-form values, 1e-6 (1 + |value|) for cvxpy values (networks.tolerance.slack_solver).
    kkt_residual: the problem's own optimality residual (documented per baseline); agreement: relative gap between
    the two independent solutions, |a - b| / (1 + |value|). A field that was not computed is None, and `require`
    refuses it, so a skipped check can never read as a passed one.
    """

    value: float
    solution: Any
    method: str
    closed_form_value: float | None
    cvxpy_value: float | None
    status: str | None
    solver: str | None
    kkt_residual: float | None
    agreement: float | None
    slack_solver: float
    details: Mapping[str, Any] = field(default_factory=dict)

    def require(self, *names: str) -> "BaselineCertificate":
        for name in names:
            if name not in {f.name for f in dataclasses.fields(self)}:
                raise ValueError(f"BaselineCertificate has no field {name!r}")
            if getattr(self, name) is None:
                raise BaselineError(f"{self.method}: certificate field {name!r} was not computed (None)")
        return self

    def summary(self) -> str:
        def fmt(x):
            return "None" if x is None else f"{x:.3e}"

        return (f"{self.method}: value={self.value!r} closed_form={self.closed_form_value!r} "
                f"cvxpy={self.cvxpy_value!r} status={self.status} solver={self.solver} "
                f"kkt={fmt(self.kkt_residual)} agreement={fmt(self.agreement)} slack_solver={self.slack_solver:.1e}")


# ---------------------------------------------------------------- input checks (ValueError, naming the problem)
def as_float_array(name: str, a, ndim: tuple[int, ...] = (2,)) -> np.ndarray:
    """float64 copy of `a`; rejects wrong rank, empty arrays, NaN and inf."""
    try:
        arr = np.array(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if arr.ndim not in ndim:
        raise ValueError(f"{name} must have ndim in {ndim}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def as_matrix(name: str, a) -> np.ndarray:
    """A 2-D float64 array; a 1-D input becomes one column (targets y -> Y)."""
    arr = as_float_array(name, a, ndim=(1, 2))
    return arr[:, None] if arr.ndim == 1 else arr


def check_rows(names: tuple[str, str], A: np.ndarray, B: np.ndarray) -> None:
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"{names[0]} has {A.shape[0]} rows but {names[1]} has {B.shape[0]}: shape mismatch")


def check_lam(lam, *, positive: bool = False) -> float:
    try:
        lam = float(lam)
    except (TypeError, ValueError):
        raise ValueError(f"lam must be a real number, got {lam!r}") from None
    if not np.isfinite(lam):
        raise ValueError(f"lam must be finite, got {lam}")
    if lam < 0 or (positive and lam == 0):
        raise ValueError(f"lam must be {'> 0' if positive else '>= 0'}, got {lam}")
    return lam


def rel_gap(a: float, b: float) -> float:
    """|a - b| / (1 + |a|): the unit in which tau_fp and slack_solver are stated."""
    return abs(a - b) / (1.0 + abs(a))


def cvxpy_slack(value: float) -> float:
    return _slack_solver(value, from_cvxpy=True)


def limits_iterations(solver_opts: Mapping[str, Any] | None) -> bool:
    """True when the caller caps solver iterations (max_iter / max_iters)."""
    return bool(solver_opts) and any(k in solver_opts for k in ("max_iter", "max_iters"))


__all__ = ["limits_iterations", "EPS", "SOLVER", "CLARABEL_TOLERANCES", "SCS_TOLERANCES", "LS_AGREEMENT", "CONIC_AGREEMENT",
           "BaselineError", "BaselineCertificate", "as_float_array", "as_matrix", "check_rows", "check_lam",
           "rel_gap", "cvxpy_slack", "tau_fp", "solve_cvxpy"]


# ---------------------------------------------------------------- cvxpy, status OPTIMAL only
def solve_cvxpy(problem, what: str, *, solver: str = SOLVER, solver_opts: Mapping[str, Any] | None = None):
    """Solve `problem` with the pinned solver and tolerances; return (solver label, the solved Problem, whose status
    and value are the ones to report: a retry solves a copy) or raise BaselineError.

    Only status OPTIMAL is accepted. With the default settings, an OPTIMAL_INACCURATE from Clarabel at 1e-9 is retried
    once at Clarabel's own defaults (1e-8, still 100x inside slack_solver; measured: 3 of 240 exp-cone problems
    needed it); the retry must again end OPTIMAL, and every caller re-checks the point itself (gradient/KKT bounds).
    The label names the tolerance used. A retry uses a fresh cvxpy Problem, because cvxpy caches the solver
    settings of a solved problem.

    solver_opts override the pinned tolerances and disable the retry (this is how tests sabotage a solve with
    max_iters=2); the key 'solver' picks another solver ('SCS'). For Clarabel, whose option is `max_iter`, the
    SCS-style `max_iters` is translated so that the sabotage really limits iterations.
    """
    import cvxpy as cp

    user = dict(solver_opts or {})
    solver = str(user.pop("solver", solver)).upper()
    if solver == "CLARABEL" and "max_iters" in user:
        user["max_iter"] = user.pop("max_iters")
    ladder = [dict(CLARABEL_TOLERANCES if solver == "CLARABEL" else SCS_TOLERANCES if solver == "SCS" else {})]
    if solver == "CLARABEL" and not user:
        ladder.append({"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8})
    for attempt, opts in enumerate(ladder):
        opts.update(user)
        prob = problem if attempt == 0 else cp.Problem(problem.objective, problem.constraints)
        try:
            with warnings.catch_warnings():  # "Solution may be inaccurate": the status check below refuses it anyway
                warnings.simplefilter("ignore", UserWarning)
                prob.solve(solver=solver, **opts)
        except Exception as exc:  # SolverError, an unknown option, a numerical failure inside the solver
            raise BaselineError(f"{what}: cvxpy/{solver} failed ({type(exc).__name__}: {exc})") from exc
        if prob.status == cp.OPTIMAL:
            tol = opts.get("tol_gap_rel", opts.get("eps_rel"))
            return (solver if attempt == 0 else f"{solver}(tol={tol:g}, retry)"), prob
        if prob.status != cp.OPTIMAL_INACCURATE:
            break
    raise BaselineError(f"{what}: cvxpy status {prob.status!r} from {solver} is not OPTIMAL; refused")
