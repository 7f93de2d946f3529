"""download_pool: a Uniswap v3 pool's logs and block table from a JSON-RPC node
into data/01_raw (network)."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import download_pool_logs


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                download_pool_logs,
                inputs="params:rpc",
                outputs="download_pool_manifest",
                name="download_pool_logs",
            )
        ]
    )
