"""download: Binance public-archive kline zips into data/01_raw (network)."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import download_binance_klines


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                download_binance_klines,
                inputs="params:download",
                outputs="download_manifest",
                name="download_binance_klines",
            )
        ]
    )
