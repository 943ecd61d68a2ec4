"""minimacheck claims: one module per checked theorem, claims/claimN_<slug>.py, each implementing the claim contract
(minimacheck.contract). Shared claim mathematics lives in claims/projections.py and claims/counterexamples.py."""
