"""Project command line: Kedro's own ``run`` with two user-facing fixes.

* ``--params`` takes ``key=value`` and ``key:value`` items (Kedro 1.7 dropped
  the colon form). An item containing ``=`` splits on its first ``=``, any
  other on its first ``:``, so ``sweep.storage:postgresql://host/db`` keeps
  its value intact. Commas inside brackets belong to the value, so a list
  can be given: ``features.sets=[base,advanced,reference]``.
* ``--pipeline NAME`` works as before without Kedro's deprecation warning.

Errors the user can act on (:class:`~ethpredict.errors.ETHPredictError`)
are printed as one message, not a traceback. Everything else is Kedro's
``run`` unchanged: options, help and behaviour.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as _kedro_run
from kedro.framework.cli.utils import CONTEXT_SETTINGS, KedroCliError, _split_params
from omegaconf import OmegaConf

from ethpredict.errors import ETHPredictError


def normalise_param_item(item: str) -> str:
    """``a.b:1`` → ``a.b=1``; an item with ``=`` is left as it is."""
    if "=" not in item and ":" in item:
        key, _, value = item.partition(":")
        return f"{key}={value}"
    return item


def split_items(value: str) -> list[str]:
    """Split ``--params`` at the commas outside brackets (``[..]``, ``{..}``)."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(value):
        depth += (ch in "[{") - (ch in "]}")
        if ch == "," and depth <= 0:
            items.append(value[start:i])
            start = i + 1
    items.append(value[start:])
    return [i.strip() for i in items if i.strip()]


def split_params(ctx: click.Context, param: Any, value: Any) -> Any:
    """``--params`` callback accepting both ``key=value`` and ``key:value``
    (and lists: commas inside brackets stay in the value)."""
    if isinstance(value, dict) or not value:
        return _split_params(ctx, param, value)
    items = [normalise_param_item(i) for i in split_items(value)]
    nested = [i for i in items if "," in i]
    result = _split_params(ctx, param, ",".join(i for i in items if "," not in i))
    for item in nested:  # Kedro's own parser would cut these at their commas
        key, _, val = item.partition("=")
        if not key.strip():
            ctx.fail(f"Invalid format of `{param.name}` option: Item `{item}` "
                     "must contain a key and a value separated by `=`.")  # fmt: skip
        extra = OmegaConf.to_container(OmegaConf.from_dotlist([f"{key.strip()}={val}"]))
        result = OmegaConf.to_container(OmegaConf.merge(result or {}, extra))
    return result


def _run(pipeline: str | None, pipelines: list[str], **kwargs: Any) -> Any:
    if pipeline:
        if pipelines:
            raise KedroCliError(
                "Options '--pipeline' and '--pipelines' cannot be used together"
            )
        pipelines = [pipeline]
    try:
        return _kedro_run.callback(pipeline=None, pipelines=pipelines, **kwargs)
    except ETHPredictError as exc:
        raise click.ClickException(str(exc)) from None


def _with_callback(option: click.Parameter) -> click.Parameter:
    if option.name != "params":
        return option
    option = copy.copy(option)
    option.callback = split_params
    return option


run = click.Command(
    name="run",
    callback=_run,
    params=[_with_callback(p) for p in _kedro_run.params],
    help=_kedro_run.help,
    context_settings=CONTEXT_SETTINGS,
)


@click.group(context_settings=CONTEXT_SETTINGS, name=__file__)
def cli() -> None:
    """Command line tools for ETHPredict."""


cli.add_command(run)


@cli.command()
@click.option(
    "--runs",
    "runs_folder",
    default=None,
    help="A folder of run folders, each with metrics.json (and report.html, "
    "parameters.json). Default: the runs tracked in MLflow.",
)
@click.option(
    "--tracking-uri", default="sqlite:///mlflow.db", show_default=True,
    help="MLflow tracking store to read when --runs is not given.",
)  # fmt: skip
@click.option(
    "--output", default="data/08_reporting/summary.html", show_default=True,
    help="Where to write the page.",
)  # fmt: skip
def summary(runs_folder: str | None, tracking_uri: str, output: str) -> None:
    """Write the experiment matrix of many runs: a sortable table of their
    changed parameters and key metrics, links to each run's report, and
    return against drawdown."""
    from ethpredict.io.atomic import atomic_path
    from ethpredict.summary import runs_from_folder, runs_from_mlflow, summary_html

    try:
        runs = (
            runs_from_folder(runs_folder)
            if runs_folder
            else runs_from_mlflow(tracking_uri)
        )
        page = summary_html(runs)
    except ETHPredictError as exc:
        raise click.ClickException(str(exc)) from None
    with atomic_path(output) as tmp:
        tmp.write_text(page, encoding="utf-8")
    click.echo(f"Summary of {len(runs)} runs: {Path(output).resolve()}")
