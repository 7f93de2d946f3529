"""data_engineering: raw market data → validated bars → causal features."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import (
    build_advanced_features,
    build_base_features,
    build_reference_features,
    ingest_market_data,
)


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                ingest_market_data,
                inputs="params:data",
                outputs=["bars", "trades", "data_manifest", "pool_liquidity"],
                name="ingest_market_data",
            ),
            node(
                build_base_features,
                inputs=["bars", "params:features"],
                outputs="features_base",
                name="build_base_features",
            ),
            node(
                build_advanced_features,
                inputs=["bars", "params:features"],
                outputs="features_advanced",
                name="build_advanced_features",
            ),
            node(
                build_reference_features,
                inputs=["bars", "params:features"],
                outputs="features_reference",
                name="build_reference_features",
            ),
        ]
    )
