"""backtesting: quotes → on-chain book (with and without the signal) → risk."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import (
    evaluate_backtest,
    fill_rule_sensitivity,
    log_venue,
    run_backtest,
    run_lp_baselines,
)

PARAMS = ["params:mm", "params:backtest", "params:risk"]


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(log_venue, ["bars", "params:backtest"], "venue", name="resolve_venue"),
            node(
                run_backtest,
                ["bars", "trades", "pool_liquidity", "quotes", *PARAMS],
                ["book", "fills", "orders"],
                name="run_backtest",
            ),
            node(
                run_backtest,
                ["bars", "trades", "pool_liquidity", "quotes_baseline", *PARAMS],
                ["book_baseline", "fills_baseline", "orders_baseline"],
                name="run_baseline_backtest",
            ),
            node(
                fill_rule_sensitivity,
                ["bars", "quotes", "book", "fills", "orders", *PARAMS],
                "fill_rule_sensitivity",
                name="measure_fill_rule_sensitivity",
            ),
            node(
                run_lp_baselines,
                [
                    "bars",
                    "trades",
                    "pool_liquidity",
                    "quotes",
                    "params:mm",
                    "params:backtest",
                ],
                "lp_baselines",
                name="run_lp_baselines",
            ),
            node(
                evaluate_backtest,
                [
                    "book",
                    "fills",
                    "orders",
                    "book_baseline",
                    "fills_baseline",
                    "orders_baseline",
                    "quotes",
                    "params:mm",
                    "params:risk",
                    "lp_baselines",
                ],
                "backtest_metrics",
                name="evaluate_backtest",
            ),
        ]
    )
