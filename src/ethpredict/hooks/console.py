"""What a run prints (:mod:`ethpredict.console`), as a hook."""

from __future__ import annotations

import contextlib

import click
from kedro.framework.hooks import hook_impl

from ethpredict.console import Heartbeat, summary_lines
from ethpredict.console import log as console


class ConsoleHook:
    """What a run prints (:mod:`ethpredict.console`): a line per node with
    its time (and a heartbeat for a long node off a terminal), then a
    summary block — data, venue, PnL with and without the signal, risk —
    ending with ``Report: <path>`` when the run wrote the report."""

    SAVED = ("data_manifest", "backtest_metrics")

    def __init__(self) -> None:
        self._beats: dict[str, Heartbeat] = {}
        self._saved: dict[str, object] = {}

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        self._saved = {}

    @hook_impl
    def before_node_run(self, node, catalog, inputs, is_async, run_id) -> None:
        self._beats[node.name] = Heartbeat(node.name).start()

    @hook_impl
    def after_node_run(self, node, catalog, inputs, outputs, is_async, run_id) -> None:
        beat = self._beats.pop(node.name, None)
        if beat is not None:
            console.info("  %-30s %7.1f s", node.name, beat.stop())

    @hook_impl
    def on_node_error(self, error, node, catalog, inputs, is_async, run_id) -> None:
        beat = self._beats.pop(node.name, None)
        if beat is not None:
            beat.stop()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data, node) -> None:
        if dataset_name in self.SAVED:
            self._saved[dataset_name] = data

    @hook_impl
    def after_pipeline_run(self, run_params, pipeline, catalog) -> None:
        path = None
        if "report" in pipeline.all_outputs() and "report" in catalog:
            path = getattr(catalog.get("report"), "_filepath", None)
        backtest = self._saved.get("backtest_metrics")
        if backtest is not None:
            manifest = self._saved.get("data_manifest")
            if manifest is None and "data_manifest" in catalog:
                with contextlib.suppress(Exception):  # the summary never fails a run
                    manifest = catalog.load("data_manifest")
            for line in summary_lines(manifest or {}, backtest, None):
                click.echo(line)
        if path is not None:
            click.echo(f"Report: {path}")
