"""minimacheck networks: models as functions of a flat float64 vector, a trainer, and a certifier."""
from networks.certify import Certificate, Verdict, certify, numerical_rank
from networks.models import MLP, check_data
from networks.objective import Objective, squared_loss, vec
from networks.train import TrainResult, minimize
from networks.pattern import gated_objective, minimize_piecewise
from networks.kinks import KinkAnalysis, KinkPolish, analyze_kink, polish_on_kinks
from networks.multistart import Escape, MultiStartResult, StartRecord, find_minimum, find_minimum_mlp, mlp_init, train_with_escape_check

__all__ = ["MLP", "Objective", "Certificate", "Verdict", "TrainResult", "certify", "minimize", "minimize_piecewise", "gated_objective", "squared_loss", "vec", "check_data", "numerical_rank",
           "KinkAnalysis", "KinkPolish", "analyze_kink", "polish_on_kinks", "Escape", "MultiStartResult", "StartRecord",
           "find_minimum", "find_minimum_mlp", "mlp_init", "train_with_escape_check"]
