"""The experiment matrix: many runs side by side in one sortable page.

Runs come from the MLflow tracking store (every tracked `kedro run`) or from
a folder holding one sub-folder per run with ``metrics.json`` (and, when
present, ``report.html`` and a flat ``parameters.json``). The page shows the
parameters that differ between runs, the key metrics, a link to each run's
report, and return against drawdown.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from ethpredict.errors import ETHPredictError
from ethpredict.params import Parameters

KEY_METRICS = [
    "backtest.total_pnl",
    "backtest.sharpe",
    "backtest.max_drawdown",
    "backtest.fills",
    "backtest.gas",
    "signal_added.total_pnl",
    "baseline.total_pnl",
    "signal.primary.log_loss",
    "signal.prior.log_loss",
    "data.bars",
]


def runs_from_mlflow(tracking_uri: str, experiment: str = "ethpredict") -> pd.DataFrame:
    """One row per finished run: ``run``, ``report`` (path or ""), ``param:<name>``
    and ``<metric>`` columns."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise ETHPredictError(
            f"no MLflow experiment '{experiment}' in {tracking_uri}: run `kedro run` first"
        )
    rows = []
    finished = client.search_runs(
        [exp.experiment_id],
        "attributes.status = 'FINISHED'",
        order_by=["attributes.start_time ASC"],
        max_results=10_000,
    )
    for r in finished:
        if not r.data.metrics:  # a run stopped before it measured anything
            continue
        report = (
            Path(r.info.artifact_uri.removeprefix("file://")) / "report" / "report.html"
        )
        rows.append(
            {
                "run": f"{r.info.run_name or 'run'} {pd.Timestamp(r.info.start_time, unit='ms'):%Y-%m-%d %H:%M:%S}",  # noqa: E501
                "report": str(report) if report.exists() else "",
                **{f"param:{k}": v for k, v in r.data.params.items() if _is_dotted(k)},
                **r.data.metrics,
            }
        )
    return pd.DataFrame(rows)


def _is_dotted(key: str) -> bool:
    """Our parameters are logged as ``namespace.key``; kedro-mlflow also logs
    each namespace whole (``mm``, ``parameters.mm``), which is not shown."""
    head, _, rest = key.partition(".")
    return bool(rest) and head in Parameters.model_fields


def runs_from_folder(folder: str | Path) -> pd.DataFrame:
    """One row per sub-folder (or the folder itself) holding ``metrics.json``."""
    root = Path(folder)
    found = sorted(root.glob("*/metrics.json")) + sorted(root.glob("metrics.json"))
    if not found:
        raise ETHPredictError(
            f"no metrics.json under {root} (looked in it and its sub-folders)"
        )
    rows = []
    for path in found:
        params_file = path.with_name("parameters.json")
        params = json.loads(params_file.read_text()) if params_file.exists() else {}
        report = path.with_name("report.html")
        rows.append(
            {
                "run": path.parent.name,
                "report": str(report) if report.exists() else "",
                **{f"param:{k}": v for k, v in params.items()},
                **json.loads(path.read_text()),
            }
        )
    return pd.DataFrame(rows)


def summary_html(runs: pd.DataFrame) -> str:
    """The sortable table and the return-against-drawdown scatter."""
    if runs.empty:
        raise ETHPredictError("no finished runs to summarise")
    params = [c for c in runs if c.startswith("param:")]
    changed = [c for c in params if (runs[c].astype(str) != str(runs[c].iloc[0])).any()]
    metrics = [m for m in KEY_METRICS if m in runs]
    head = ["run", *[c.removeprefix("param:") for c in changed], *metrics, "report"]
    body = []
    for _, row in runs.iterrows():
        cells = [html.escape(str(row["run"]))]
        cells += [html.escape(str(row[c])) for c in changed]
        cells += [_fmt(row.get(m)) for m in metrics]
        link = (
            f'<a href="{html.escape(Path(row["report"]).as_uri())}">report</a>'
            if row["report"]
            else "—"
        )
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in [*cells, link]) + "</tr>")
    label = runs["run"] + (
        "<br>"
        + runs[changed]
        .astype(str)
        .apply(
            lambda r: "<br>".join(
                f"{k.removeprefix('param:')}={v}" for k, v in r.items()
            ),
            axis=1,
        )
        if changed
        else ""
    )
    fig = go.Figure(
        go.Scatter(
            x=runs.get("backtest.max_drawdown"),
            y=runs.get("backtest.total_pnl"),
            mode="markers",
            text=label,
            hovertemplate="%{text}<br>drawdown %{x:,.0f}<br>PnL %{y:,.0f}<extra></extra>",
            marker={"size": 10},
        )
    )
    fig.update_layout(
        title="Return against drawdown (USD)",
        xaxis_title="max drawdown",
        yaxis_title="total PnL",
        template="plotly_white",
        height=460,
    )
    th = "".join(
        f"<th onclick='sortBy({i})'>{html.escape(h)} ⇅</th>" for i, h in enumerate(head)
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>ETHPredict runs</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px}}
table{{border-collapse:collapse;font-size:13px}}
th{{cursor:pointer;background:#f3f3f3;position:sticky;top:0}}th,td{{padding:4px 10px;
border-bottom:1px solid #eee;text-align:right;white-space:nowrap}}
td:first-child{{text-align:left}}</style>
<script>
function sortBy(i){{const t=document.getElementById('runs').tBodies[0];
const rows=[...t.rows];const asc=t.dataset.col==i&&t.dataset.dir!='asc';
const key=r=>{{const s=r.cells[i].innerText.replace(/,/g,'');const n=parseFloat(s);
return isNaN(n)?s:n}};rows.sort((a,b)=>{{const x=key(a),y=key(b);
return (x>y?1:x<y?-1:0)*(asc?1:-1)}});rows.forEach(r=>t.appendChild(r));
t.dataset.col=i;t.dataset.dir=asc?'asc':'desc'}}
</script></head><body><h1>ETHPredict runs ({len(runs)})</h1>
<p>Parameters shown are those that differ between runs; click a header to sort.</p>
<table id="runs"><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>
{fig.to_html(full_html=False, include_plotlyjs=True)}
</body></html>"""


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "—"
    return f"{v:,.4f}" if isinstance(v, float) else html.escape(str(v))
