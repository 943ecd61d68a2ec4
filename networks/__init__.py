"""minimacheck networks: models as functions of a flat float64 vector, a trainer, and a certifier."""
from networks.certify import Certificate, Verdict, certify, numerical_rank
from networks.kinks import KinkAnalysis, KinkPolish, analyze_kink, polish_on_kinks
from networks.models import MLP, check_data
from networks.multistart import (
    Escape,
    MultiStartResult,
    StartRecord,
    find_minimum,
    find_minimum_mlp,
    mlp_init,
    train_with_escape_check,
)
from networks.objective import Objective, squared_loss, vec
from networks.pattern import gated_objective, minimize_piecewise
from networks.train import TrainResult, minimize

__all__ = ["MLP", "Objective", "Certificate", "Verdict", "TrainResult", "certify", "minimize", "minimize_piecewise",
           "gated_objective", "squared_loss", "vec", "check_data", "numerical_rank",
           "KinkAnalysis", "KinkPolish", "analyze_kink", "polish_on_kinks", "Escape", "MultiStartResult", "StartRecord",
           "find_minimum", "find_minimum_mlp", "mlp_init", "train_with_escape_check"]

_VERIFY_NAMES = ("Verification", "verify_certificate", "with_verification", "verify_point", "least_squares", "compare",
                 "SafranShamir")
__all__ += list(_VERIFY_NAMES)


def __getattr__(name):  # lazy: networks.verify imports python-flint, which plain `import networks` should not need
    if name in _VERIFY_NAMES:
        from networks import verify
        return getattr(verify, name)
    raise AttributeError(f"module 'networks' has no attribute {name!r}")
