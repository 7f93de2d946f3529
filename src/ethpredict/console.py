"""What a run prints: one line per node with its time, a progress line every
few seconds for a long node when the output is not a terminal, and a summary
block at the end (``conf/logging.yml`` routes the logger ``ethpredict.console``
to plain stdout; Kedro's own per-dataset lines are at ``--verbose``, i.e.
``KEDRO_LOGGING_CONFIG=conf/logging_verbose.yml``). MLflow's warning about
kedro-mlflow's model class is dropped by :class:`KnownWarnings`, installed in
``ethpredict/__init__.py``."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

log = logging.getLogger("ethpredict.console")


#: warnings raised by the libraries' own code at import, which a user cannot act on
KNOWN_WARNINGS = (
    # MLflow 3 on kedro-mlflow's PythonModel subclass (kedro_pipeline_model.py)
    "Add type hints to the `predict` method",
)


class KnownWarnings(logging.Filter):
    """Drop the captured ``py.warnings`` records listed in :data:`KNOWN_WARNINGS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not any(k in text for k in KNOWN_WARNINGS)


class LikeKedro(logging.Filter):
    """Let a plugin's INFO records through only when Kedro's own are
    (``conf/logging.yml`` sets the ``kedro`` logger): kedro-mlflow sets its
    logger to INFO when imported, after the logging configuration."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or logging.getLogger("kedro").isEnabledFor(
            record.levelno
        )


class Heartbeat:
    """While a node runs and stdout is not a terminal (CI, ``nohup``, a pipe),
    print ``  … <node> still running (N s)`` every ``every_s`` seconds."""

    def __init__(self, name: str, every_s: float = 15.0) -> None:
        self.name, self.every_s = name, every_s
        self._stop = threading.Event()
        self._start = time.perf_counter()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        if not sys.stdout.isatty() and log.isEnabledFor(logging.INFO):
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.every_s):
            elapsed = time.perf_counter() - self._start
            log.info("  … %s still running (%.0f s)", self.name, elapsed)

    def stop(self) -> float:
        self._stop.set()
        return time.perf_counter() - self._start


def _usd(value: Any) -> str:
    return f"{value:+,.0f}" if isinstance(value, (int, float)) else "n/a"


def _abs_usd(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, (int, float)) else "n/a"


def _interval(pair: Any) -> str:
    if isinstance(pair, (list, tuple)) and len(pair) == 2 and None not in pair:
        return f" [{pair[0]:+,.0f}, {pair[1]:+,.0f}]"
    return ""


def summary_lines(manifest: dict, backtest: dict, report_path: str | None) -> list[str]:
    """The end-of-run block, from the data manifest and ``backtest_metrics``."""
    lines = ["", "Summary"]
    if manifest:
        kind = " (synthetic)" if manifest.get("synthetic") else ""
        lines.append(
            f"  data       {manifest.get('symbol', '?')} {manifest.get('interval') or ''}"
            f" {str(manifest.get('start', ''))[:16]} → {str(manifest.get('end', ''))[:16]},"
            f" {manifest.get('bars', 0):,} bars{kind}; filled {manifest.get('filled_bars', 0):,},"
            f" stale {manifest.get('stale_bars', 0):,}"
        )
    if backtest:
        venue = backtest.get("venue") or {}
        if venue.get("description"):
            lines.append(f"  venue      {venue['description'].removeprefix('venue ')}")
        book = backtest.get("with_signal") or {}
        base = backtest.get("without_signal") or {}
        added = backtest.get("signal_added") or {}
        iv = backtest.get("intervals") or {}
        lines.append(
            f"  PnL        {_usd(book.get('total_pnl'))} USD"
            f"{_interval((iv.get('backtest') or {}).get('total_pnl'))}; without the signal "
            f"{_usd(base.get('total_pnl'))}; signal added {_usd(added.get('total_pnl'))}"
            f"{_interval((iv.get('signal_added') or {}).get('total_pnl'))}"
        )
        sharpe = book.get("sharpe")
        sharpe_s = f"{sharpe:.2f}" if isinstance(sharpe, (int, float)) else "n/a"
        halted = book.get("stopped_at") or ("yes" if book.get("halted") else "no")
        drawdown = _abs_usd(book.get("max_drawdown"))
        lines.append(
            f"  risk       Sharpe {sharpe_s}, max drawdown {drawdown} USD, stopped: {halted}"
        )
    if report_path:
        lines.append(f"  report     {report_path}")
    return lines
