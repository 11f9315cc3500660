"""Race and championship predictions (issue 17): model, Monte Carlo, service."""
