"""backtesting: quotes → on-chain book (with and without the signal) → risk."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import evaluate_backtest, fill_rule_sensitivity, log_venue, run_backtest

PARAMS = ["params:mm", "params:backtest", "params:risk"]


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(log_venue, ["bars", "params:backtest"], "venue", name="resolve_venue"),
            node(
                run_backtest,
                ["bars", "quotes", *PARAMS],
                ["book", "fills", "orders"],
                name="run_backtest",
            ),
            node(
                run_backtest,
                ["bars", "quotes_baseline", *PARAMS],
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
                ],
                "backtest_metrics",
                name="evaluate_backtest",
            ),
        ]
    )
