"""minimacheck baselines: classical models solved to certified global optimality.

Every solver returns a BaselineCertificate or raises BaselineError (uncertifiable) / ValueError (bad input).
cvxpy is imported lazily, inside the functions that need it.
"""
from baselines.certificate import BaselineCertificate, BaselineError
from baselines.classification import logistic_regression, softmax_regression
from baselines.features import nystrom_features, polynomial_features, random_fourier_features, rbf_kernel
from baselines.least_squares import kernel_ridge, ols, verify
from baselines.matrix_ls import symmetric_ls

# least_squares and reduced_rank are NOT re-exported: the functions would shadow their submodules, and
# `baselines.least_squares.least_squares(...)` must keep working. Import them from their modules.
__all__ = ["BaselineCertificate", "BaselineError", "ols", "kernel_ridge", "verify", "symmetric_ls", "logistic_regression",
           "softmax_regression", "polynomial_features", "random_fourier_features", "nystrom_features", "rbf_kernel"]
