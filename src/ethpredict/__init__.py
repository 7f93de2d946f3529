"""ETHPredict: a Kedro experiment system for market making on ETH."""

__version__ = "0.1.0"
