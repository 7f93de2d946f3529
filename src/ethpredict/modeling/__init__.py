"""Walk-forward modeling: folds, networks, baselines, metrics, bet sizing."""
