"""minimacheck: property-based numerical checks of deep-learning loss-landscape theory.

The suite machinery: the claim contract and registry, records and ledgers, the CLI, the report, the sweeps, the
trainer benchmark and the data loaders. The engine (networks/, baselines/) never imports it; the claims (claims/)
implement its contract."""
__version__ = "0.2.0"
