"""ETHPredict: a Kedro experiment system for market making on ETH."""

import logging
import os

from ethpredict.console import KnownWarnings, LikeKedro

__version__ = "0.1.0"

# MLflow 3 warns at import about kedro-mlflow's own PythonModel subclass (its
# `predict` has no type hints), inside a `catch_warnings` of its own, so no
# warnings filter reaches it: every `kedro` command, `--help` included, would
# start with it. Kedro logs captured warnings to `py.warnings`, and imports
# this package (for its settings) before it loads the plugins' commands.
logging.getLogger("py.warnings").addFilter(KnownWarnings())

# MLflow's own logger prints INFO lines to stderr (e.g. "Updating database
# tables" when mlflow.db is created), outside Kedro's logging configuration;
# keep them to warnings unless the user set the level.
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")

# kedro-mlflow's "run … has started" and "was closed because of an error":
# as verbose as Kedro's own lines (its logger is set to INFO at its import).
logging.getLogger("kedro_mlflow.framework.hooks.mlflow_hook").addFilter(LikeKedro())
