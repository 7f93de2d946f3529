"""The run report: one self-contained interactive HTML page and flat metrics.

Long series are decimated for display by keeping the minimum and the maximum
of each of ``report.max_points`` time buckets (in time order), so a spike is
never dropped; the report embeds plotly.js once and opens offline.

Modules: :mod:`.figures` (plotly figures, decimation), :mod:`.tables` (HTML
tables and sentences), :mod:`.page` (the page), :mod:`.metrics`
(``metrics.json``, the code version).
"""

from ethpredict.reporting.figures import (
    MODEL_ORDER,
    book_figure,
    decimate,
    fig_html,
    signal_figures,
)
from ethpredict.reporting.metrics import code_version, flat_metrics
from ethpredict.reporting.page import CSS, build_report
from ethpredict.reporting.tables import (
    calibration_html,
    reference_line,
    research_answer,
)

#: the former private name (ethpredict.sweep_report imports it)
_fig_html = fig_html

__all__ = [
    "CSS",
    "MODEL_ORDER",
    "book_figure",
    "build_report",
    "calibration_html",
    "code_version",
    "decimate",
    "fig_html",
    "flat_metrics",
    "reference_line",
    "research_answer",
    "signal_figures",
]
