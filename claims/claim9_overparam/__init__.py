"""claim9 — the over-parameterization family (CLAIMS.md claim9), one sub-module per sub-claim:

- claim9a `quadratic`: quadratic activations, certified local minima vs the symmetric LS / PSD SDP value;
- claim9b `gram`: the H^inf Gram matrix (closed form vs Monte Carlo, lambda_0 > 0) and GD's linear rate;
- claim9c `ntk`: the exact ReLU NTK recursion vs the empirical NTK, a wide net vs NTK kernel regression;
- claim9d `eigen`: the smallest NTK eigenvalue (rank, positivity, a derived lower bound, scaling);
- claim9e `sparsity`: L2-regularized minima of a leaky-ReLU net realized with <= N neurons (reweighting LP);
- claim9f `gdgf`: GD tracks gradient flow on deep linear nets (Euler a-posteriori bound, first order in eta).

Evidence. Evidence.CERTIFIED is the closest single value for the family, but only 9a and 9e are about certified
minima; 9b-9d and 9f are executed checks. The Claim therefore declares Evidence.EXECUTED, and every record that
decided its assertion counts: a certified-and-decided 9a/9e record is also an executed check. What `certified` means
in each part's records: 9a/9e a C-min certificate (networks.certify) at the trained point; 9b-9d, 9f "the check ran to
a verdict" (its hypotheses held at the instance), as each sub-module's docstring states.

Each sub-module defines the contract's names (strategy, regime_of, REGIMES, check, check_at or None, PINNED,
CONTROLS, SABOTAGES) and PART; this package bundles them into CLAIM.
"""
from __future__ import annotations

from minimacheck.contract import Claim, Evidence

from . import eigen, gdgf, gram, ntk, quadratic, sparsity
from .common import CLAIM_ID

SUBMODULES = (quadratic, gram, ntk, eigen, sparsity, gdgf)

CLAIM = Claim(
    id=CLAIM_ID,
    title="Over-parameterization family",
    source=("Soltanolkotabi-Javanmard-Lee 2019; Du-Zhai-Poczos-Singh 2019; Arora et al. 2019 (x2); "
            "Nguyen-Mondelli-Montufar 2021; Bombari et al. 2022; Karhadkar-Murray-Montufar 2024; "
            "Jacot et al. 2022; Elkabetz-Cohen 2021"),
    statement="Over-parameterization removes bad minima or keeps training in a kernel regime; see the sub-claims.",
    hypotheses=tuple(f"{m.PART_ID}: {m.STATEMENT}" for m in SUBMODULES),
    evidence=Evidence.EXECUTED,
    parts=tuple(m.PART for m in SUBMODULES),
)
