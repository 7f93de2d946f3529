"""backtesting: quotes → on-chain book (with and without the signal) → risk."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import evaluate_backtest, run_backtest

PARAMS = ["params:mm", "params:backtest", "params:risk"]


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                run_backtest,
                ["bars", "quotes", *PARAMS],
                ["book", "fills"],
                name="run_backtest",
            ),
            node(
                run_backtest,
                ["bars", "quotes_baseline", *PARAMS],
                ["book_baseline", "fills_baseline"],
                name="run_baseline_backtest",
            ),
            node(
                evaluate_backtest,
                [
                    "book",
                    "fills",
                    "book_baseline",
                    "fills_baseline",
                    "quotes",
                    "params:mm",
                    "params:risk",
                ],
                "backtest_metrics",
                name="evaluate_backtest",
            ),
        ]
    )
