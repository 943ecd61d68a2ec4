"""minimacheck claims: the registry of checked theorems (see claims/registry.py)."""
