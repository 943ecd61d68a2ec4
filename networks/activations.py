"""Activation functions, with the facts certificates need about them.

`piecewise_linear` activations have kinks: a certificate must check the activation margin there.
`homogeneity` k means sigma(c z) = c^k sigma(z) for c > 0; it gives the positive-rescaling symmetry of a hidden
unit (incoming weights times c, outgoing weights divided by c^k), whose tangent lies in the Hessian's null space.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Activation:
    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    piecewise_linear: bool
    homogeneity: int | None  # None: not positively homogeneous

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return self.fn(z)


def _leaky(slope: float) -> Activation:
    return Activation(f"leaky_relu:{slope:g}", lambda z: torch.where(z >= 0, z, slope * z), True, 1)


_FIXED = {
    "linear": Activation("linear", lambda z: z, False, 1),
    "relu": Activation("relu", torch.relu, True, 1),
    "abs": Activation("abs", torch.abs, True, 1),
    "tanh": Activation("tanh", torch.tanh, False, None),
    "sigmoid": Activation("sigmoid", torch.sigmoid, False, None),
    "softplus": Activation("softplus", torch.nn.functional.softplus, False, None),
    "quadratic": Activation("quadratic", lambda z: z * z, False, 2),
}

NAMES = tuple(_FIXED) + ("leaky_relu", "leaky_relu:<slope>", "smoothed:<tau>:<piecewise-linear name>")


def smoothed(base: Activation, tau: float) -> Activation:
    """The softplus smoothing of a piecewise-linear activation sigma(z) = s_minus z (z < 0), s_plus z (z >= 0):
    s_minus z + (s_plus - s_minus) tau softplus(z / tau), smooth, within (s_plus - s_minus) tau log 2 of sigma, and
    sigma itself as tau -> 0 (networks.multistart's smoothing homotopy trains through it)."""
    if not base.piecewise_linear:
        raise ValueError(f"smoothed: {base.name!r} is not piecewise linear")
    if not tau > 0:
        raise ValueError(f"smoothed: tau must be > 0, got {tau!r}")
    one = torch.ones(1, dtype=torch.float64)
    s_plus, s_minus = float(base(one)), -float(base(-one))
    return Activation(f"smoothed:{tau:g}:{base.name}",
                      lambda z: s_minus * z + (s_plus - s_minus) * tau * torch.nn.functional.softplus(z / tau), False, None)


def get(name: str) -> Activation:
    """Look an activation up by name: 'relu', 'tanh', 'leaky_relu' (slope 0.1), 'leaky_relu:0.5', ..."""
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    if name in _FIXED:
        return _FIXED[name]
    if name == "leaky_relu":
        return _leaky(0.1)
    if name.startswith("smoothed:"):
        try:
            _, tau, base = name.split(":", 2)
            tau = float(tau)
        except ValueError:
            raise ValueError(f"unknown activation {name!r}: expected 'smoothed:<tau>:<piecewise-linear name>'") from None
        return smoothed(get(base), tau)
    if name.startswith("leaky_relu:"):
        try:
            slope = float(name.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"unknown activation {name!r}: the slope after 'leaky_relu:' must be a number") from None
        if not (0 <= slope < 1 or slope > 1) or slope != slope:
            raise ValueError(f"unknown activation {name!r}: leaky_relu slope must be finite and != 1")
        return _leaky(slope)
    raise ValueError(f"unknown activation {name!r}; known: {', '.join(NAMES)}")


def family(name: str) -> str:
    """'pl' for piecewise-linear activations (kinks, positive homogeneity), 'smooth' otherwise."""
    return "pl" if get(name).piecewise_linear else "smooth"
