"""reporting: everything upstream → report.html and metrics.json."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import build_run_report, collect_metrics


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                collect_metrics,
                ["data_manifest", "model_metrics", "backtest_metrics"],
                ["metrics", "tracked_metrics"],
                name="collect_metrics",
            ),
            node(
                build_run_report,
                [
                    "data_manifest",
                    "model_metrics",
                    "backtest_metrics",
                    "book",
                    "fills",
                    "book_baseline",
                    "fill_rule_sensitivity",
                    "venue",
                    "parameters",
                    "params:report",
                ],
                "report",
                name="build_run_report",
            ),
        ]
    )
