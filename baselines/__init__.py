"""minimacheck baselines: classical models solved to certified global optimality."""
