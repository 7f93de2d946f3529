"""``report``: the run report."""

from __future__ import annotations

from pydantic import Field

from ethpredict.params.base import Strict


class ReportParams(Strict):
    """The run report (data/08_reporting/report.html)."""

    max_points: int = Field(
        2000,
        ge=50,
        le=100_000,
        description="time buckets per plotted series (min and max of each kept)",
    )
    mlflow_copy: bool = Field(
        False,
        description=(
            "also log report.html (~7 MB a run) as an artefact of the MLflow "
            "run; metrics.json always is"
        ),
    )
