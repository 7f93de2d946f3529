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
import errno
import re
from pathlib import Path
from typing import Any

import click
import yaml
from kedro.framework.cli.project import run as _kedro_run
from kedro.framework.cli.utils import CONTEXT_SETTINGS, KedroCliError, _split_params
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

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
    (and lists: commas inside brackets stay in the value). A YAML tag
    (``!!python/…``) or a value YAML cannot read is refused in one line."""
    if isinstance(value, dict) or not value:
        return _split_params(ctx, param, value)
    items = [normalise_param_item(i) for i in split_items(value)]
    for item in items:
        if item.partition("=")[2].lstrip().startswith("!"):
            raise click.BadParameter(
                f"`{item}`: YAML tags are not accepted; give a plain number, "
                "string, true/false, null or [list]",
                ctx=ctx,
                param=param,
            )
    try:
        return _parse_items(ctx, param, items)
    except (yaml.YAMLError, OmegaConfBaseException) as exc:
        problem = str(exc).splitlines()[0]
        raise click.BadParameter(
            f"`{value}`: {problem}", ctx=ctx, param=param
        ) from None


def _parse_items(ctx: click.Context, param: Any, items: list[str]) -> Any:
    nested = [i for i in items if "," in i]
    result = _split_params(ctx, param, ",".join(i for i in items if "," not in i))
    for item in nested:  # Kedro's own parser would cut these at their commas
        key, _, val = item.partition("=")
        if not key.strip():
            ctx.fail(
                f"Invalid format of `{param.name}` option: Item `{item}` "
                "must contain a key and a value separated by `=`."
            )
        extra = OmegaConf.to_container(OmegaConf.from_dotlist([f"{key.strip()}={val}"]))
        result = OmegaConf.to_container(OmegaConf.merge(result or {}, extra))
    return result


def check_pipelines(names: list[str]) -> None:
    """Every ``--pipeline`` name is registered, or one line listing them."""
    from kedro.framework.project import pipelines as registry

    unknown = [n for n in names if n not in registry]
    if unknown:
        known = ", ".join(sorted(n for n in registry if n != "__default__"))
        raise click.ClickException(
            f"--pipeline: no pipeline named {', '.join(map(repr, unknown))}; "
            f"the pipelines are: {known} (none given: the default run)"
        )


def check_env(env: str | None, conf_source: str | None) -> None:
    """``--env NAME`` names a folder of the configuration, or one line
    listing the environments there are."""
    from kedro.framework.project import settings
    from kedro.utils import find_kedro_project

    if not env:
        return
    root = Path(conf_source) if conf_source else None
    if root is None:
        project = find_kedro_project(Path.cwd()) or Path.cwd()
        root = project / settings.CONF_SOURCE
    if root.is_dir() and not (root / env).is_dir():
        envs = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir()))
        raise click.ClickException(
            f"--env: no environment '{env}' (no folder {root / env}); "
            f"the environments are: {envs}"
        )


def disk_full(exc: BaseException | None) -> OSError | None:
    """The "no space left" error in ``exc``'s chain (Kedro wraps a dataset's
    failed save in a ``DatasetError``), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _run(pipeline: str | None, pipelines: list[str], **kwargs: Any) -> Any:
    if pipeline:
        if pipelines:
            raise KedroCliError(
                "Options '--pipeline' and '--pipelines' cannot be used together"
            )
        pipelines = [pipeline]
    check_pipelines(pipelines)
    check_env(kwargs.get("env"), kwargs.get("conf_source"))
    try:
        return _kedro_run.callback(pipeline=None, pipelines=pipelines, **kwargs)
    except ETHPredictError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        full = disk_full(exc)
        if full is None:
            raise
        where = f" writing {full.filename}" if full.filename else ""
        raise click.ClickException(
            f"disk full{where}: free some space and run again (each output is "
            "written to a temporary file and renamed, so the previous ones are intact)"
        ) from None


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
    "--tracking-uri",
    default="sqlite:///mlflow.db",
    show_default=True,
    help="MLflow tracking store to read when --runs is not given.",
)
@click.option(
    "--output",
    default="data/08_reporting/summary.html",
    show_default=True,
    help="Where to write the page.",
)
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


#: ``<link>`` tags of kedro-viz's page that fetch its web font from Google
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>\s*", re.S)


def make_offline(site: Path) -> int:
    """Remove every ``<link>`` to another host from the HTML pages of a
    static kedro-viz build (its web font: the page then uses the system's
    sans-serif), so opening it makes no external request. Returns how many."""
    removed = 0
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        clean, n = _EXTERNAL_LINK.subn("", text)
        if n:
            page.write_text(clean, encoding="utf-8")
            removed += n
    return removed


@cli.command()
@click.option(
    "--output", default="build", show_default=True, help="Folder of the static site."
)
def graph(output: str) -> None:
    """Build the kedro-viz graph as a static site that renders offline
    (``kedro viz build``, then its external font links removed). Serve it
    with ``python -m http.server --bind 127.0.0.1 -d build``."""
    import shutil
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("kedro")
    r = subprocess.run([str(exe), "viz", "build"], check=False)
    if r.returncode != 0:
        raise click.ClickException(f"kedro viz build failed (exit code {r.returncode})")
    site = Path(output)
    if site.resolve() != Path("build").resolve():
        shutil.rmtree(site, ignore_errors=True)
        shutil.move("build", site)
    n = make_offline(site)
    click.echo(
        f"Graph: {site.resolve() / 'index.html'} ({n} external links removed); "
        f"serve it with: python -m http.server --bind 127.0.0.1 -d {output}"
    )
