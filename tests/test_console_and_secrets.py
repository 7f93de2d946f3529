"""Secrets masked wherever parameters are written, one line for every bad
command, a quiet console with a summary, and the configuration resolvers
(globals, environment variables)."""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import subprocess
import time

import click
import pytest
from kedro.io.core import DatasetError

from ethpredict import cli
from ethpredict.console import Heartbeat, KnownWarnings, summary_lines
from ethpredict.errors import ParameterError
from ethpredict.params import validate_parameters
from ethpredict.secrets import MASK, redact, redact_tree
from ethpredict.sweep import SweepError, storage_from_credentials
from ethpredict.testing.project import (
    kedro,
    kedro_command,
    project_root,
    scratch_project,
)

PROJECT = project_root(__file__)

PASSWORD = "hunter2secret"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://user:pw@host:5432/db", "postgresql://user:***@host:5432/db"),
        ("postgresql+psycopg://u:p%40ss@h/db", "postgresql+psycopg://u:***@h/db"),
        (
            "https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161",
            "https://mainnet.infura.io/v3/***",
        ),
        (
            "https://eth-mainnet.g.alchemy.com/v2/AbCdEf123456GhIjKl7890mn",
            "https://eth-mainnet.g.alchemy.com/v2/***",
        ),
        (
            "https://rpc.example/x?apikey=XYZ123&chain=1",
            "https://rpc.example/x?apikey=***&chain=1",
        ),
        ("wss://node/ws?token=abc", "wss://node/ws?token=***"),
        (
            "--params=sweep.storage=mysql://a:b@h/d,mm.gamma:0.3",
            "--params=sweep.storage=mysql://a:***@h/d,mm.gamma:0.3",
        ),
    ],
)
def test_secrets_in_urls_are_masked(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://host/db",
        "sqlite:///data/09_tracking/optuna.db",
        "https://data.binance.vision/data/spot/monthly/klines/ETHUSDT/1m/ETHUSDT-1m-2024-05.zip",
        "https://example.org/averyveryverylongwordwithoutdigits/x",
        "mm.gamma",
        "",
    ],
)
def test_what_is_no_secret_is_left_alone(text):
    assert redact(text) == text


def test_a_tree_masks_secret_names_and_urls_and_keeps_the_rest():
    tree = {
        "sweep": {"storage": "postgresql://u:p@h/d", "n_trials": 3},
        "rpc": {
            "api_key": "abc",
            "token": "",
            "urls": ["https://x/v3/ab12cd34ef56gh78ij90"],
        },
        "mm": {"gamma": 0.3},
    }
    out = redact_tree(tree)
    assert out == {
        "sweep": {"storage": "postgresql://u:***@h/d", "n_trials": 3},
        "rpc": {"api_key": MASK, "token": "", "urls": ["https://x/v3/***"]},
        "mm": {"gamma": 0.3},
    }
    assert tree["sweep"]["storage"] == "postgresql://u:p@h/d"  # a copy


def test_a_models_str_masks_and_its_value_connects():
    p = validate_parameters({"sweep": {"storage": f"postgresql://u:{PASSWORD}@h/d"}})
    assert PASSWORD not in str(p.sweep) and PASSWORD not in repr(p)
    assert p.sweep.storage == f"postgresql://u:{PASSWORD}@h/d"
    assert p.model_dump()["sweep"]["storage"].endswith(f"{PASSWORD}@h/d")


def test_storage_from_kedro_credentials():
    p = validate_parameters({"sweep": {"storage_credentials": "db"}})
    url = f"postgresql://u:{PASSWORD}@h/d"
    assert storage_from_credentials(p, {"db": {"con": url}}).sweep.storage == url
    with pytest.raises(
        SweepError, match=r"'db' needs an entry .*credentials.yml \(found no entry\)"
    ):
        storage_from_credentials(p, {})
    with pytest.raises(SweepError, match="found no `con` string"):
        storage_from_credentials(p, {"db": {"url": url}})
    plain = validate_parameters({})
    assert storage_from_credentials(plain, {}) is plain
    with pytest.raises(
        ParameterError, match="storage or storage_credentials, not both"
    ):
        validate_parameters({"sweep": {"storage": url, "storage_credentials": "db"}})


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (
            {"mm": {"order_size": 1e300}},
            "mm.order_size = 1e+300: input should be less than",
        ),
        (
            {"mm": {"gamma": float("nan")}},
            "mm.gamma = nan: input should be a finite number",
        ),
        ({"risk": {"max_drawdown": float("inf")}}, "risk.max_drawdown = inf"),
        ({"mm": {"max_inventory": 1e9}}, "mm.max_inventory"),
        ({"data": {"synthetic": {"start_price": 1e300}}}, "data.synthetic.start_price"),
    ],
)
def test_absurd_sizes_are_refused_by_the_parameter_models(tree, message):
    with pytest.raises(ParameterError, match=message.replace("+", r"\+")):
        validate_parameters(tree)


def _params(value: str):
    ctx = click.Context(cli.run)
    param = next(p for p in cli.run.params if p.name == "params")
    return cli.split_params(ctx, param, value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mm.gamma:!!python/name:os.system", "YAML tags are not accepted"),
        ("mm.gamma=!!binary aGk=", "YAML tags are not accepted"),
        ("mm.gamma:[1,2", "while parsing a flow sequence"),
    ],
)
def test_params_that_yaml_cannot_take_are_one_line(value, message):
    with pytest.raises(click.BadParameter, match=message) as info:
        _params(value)
    assert "\n" not in info.value.format_message()


def test_a_full_disk_is_found_behind_kedros_dataset_error(monkeypatch):
    full = OSError(errno.ENOSPC, "No space left on device", "data/07/x.parquet")
    try:
        try:
            raise full
        except OSError as exc:
            raise DatasetError("Failed while saving data to dataset x") from exc
    except DatasetError as wrapped:
        assert cli.disk_full(wrapped) is full
    assert cli.disk_full(ValueError("x")) is None

    def callback(**kwargs):
        raise DatasetError("Failed while saving") from full

    monkeypatch.setattr(cli._kedro_run, "callback", callback)
    with pytest.raises(
        click.ClickException, match="disk full writing data/07/x.parquet: free"
    ):
        cli._run(pipeline=None, pipelines=[], env=None, conf_source=None)


def test_a_heartbeat_speaks_off_a_terminal(caplog, monkeypatch):
    monkeypatch.setattr("sys.stdout.isatty", lambda: False, raising=False)
    with caplog.at_level(logging.INFO, logger="ethpredict.console"):
        beat = Heartbeat("fit_models", every_s=0.05).start()
        time.sleep(0.3)
        elapsed = beat.stop()
    assert elapsed >= 0.3
    assert "fit_models still running" in caplog.text


def test_known_library_warnings_are_dropped_and_others_kept():
    record = logging.LogRecord(
        "py.warnings",
        logging.WARNING,
        "x",
        1,
        "UserWarning: \x1b[33mAdd type hints to the `predict` "
        "method to enable data validation",
        None,
        None,
    )
    other = logging.LogRecord(
        "py.warnings", logging.WARNING, "x", 1, "UserWarning: x", None, None
    )
    assert not KnownWarnings().filter(record) and KnownWarnings().filter(other)


def test_the_summary_block_reads_the_run():
    manifest = {
        "symbol": "ETHUSDC",
        "interval": "1m",
        "start": "2024-01-01 00:00:00+00:00",
        "end": "2024-01-02 00:00:00+00:00",
        "bars": 1441,
        "filled_bars": 3,
        "stale_bars": 0,
        "synthetic": False,
    }
    backtest = {
        "venue": {"description": "venue cex_spot: maker 10 bp"},
        "with_signal": {
            "total_pnl": -12.4,
            "sharpe": 1.234,
            "max_drawdown": 55.0,
            "halted": True,
            "stopped_at": "2024-01-01 12:00:00+00:00",
        },
        "without_signal": {"total_pnl": -20.0},
        "signal_added": {"total_pnl": 7.6},
        "intervals": {
            "backtest": {"total_pnl": [-30.0, 5.0]},
            "signal_added": {"total_pnl": None},
        },
    }
    text = "\n".join(summary_lines(manifest, backtest, "/r/report.html"))
    assert (
        "ETHUSDC 1m 2024-01-01 00:00 → 2024-01-02 00:00, 1,441 bars; filled 3" in text
    )
    assert "venue      cex_spot: maker 10 bp" in text
    assert (
        "PnL        -12 USD [-30, +5]; without the signal -20; signal added +8\n"
        in text
    )
    assert (
        "Sharpe 1.23, max drawdown 55 USD, stopped: 2024-01-01 12:00:00+00:00" in text
    )
    assert text.endswith("report     /r/report.html")


# --- real commands in a scratch project --------------------------------------

FAST = (
    "data.synthetic.days=2,features.zscore_window=60,model.cv.train_bars=1440,"
    "model.cv.test_bars=720,mm.calib_window=240,model.net.max_epochs=3,"
    "model.gbt_iter=20,model.meta.min_events=50"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return scratch_project(tmp_path_factory.mktemp("console"), PROJECT)


@pytest.mark.cli
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--pipeline=nope",),
            "Error: --pipeline: no pipeline named 'nope'; the pipelines are:",
        ),
        (("--pipelines=modeling,nope",), "no pipeline named 'nope'"),
        (("--env=nope",), "Error: --env: no environment 'nope' (no folder "),
        (
            ("--params=mm.gamma:!!python/object/apply:os.system [ls]",),
            "YAML tags are not accepted",
        ),
        (("--params=mm.order_size:1e300",), "parameter mm.order_size = 1e+300"),
    ],
)
def test_bad_commands_are_one_line_before_any_node(project, args, expected):
    r = kedro(project, "run", *args)
    text = r.stdout + r.stderr
    assert r.returncode != 0
    assert expected in text, text[-2000:]
    assert "Traceback" not in text and "╭" not in text
    assert not (project / "data" / "02_intermediate" / "bars.parquet").exists()


@pytest.mark.cli
def test_kedro_help_starts_with_no_warning(project):
    r = kedro(project, "--help", timeout=120, PYTHONWARNINGS="")  # Python's filters
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: kedro")
    assert "Warning" not in r.stdout + r.stderr, (r.stdout + r.stderr)[:2000]


@pytest.mark.cli
def test_a_run_is_quiet_summarised_and_writes_no_password(project):
    storage = f"postgresql://user:{PASSWORD}@127.0.0.1:1/db"
    r = kedro(project, "run", f"--params={FAST},sweep.storage={storage}")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    # the console: a line per node with its time, then the summary
    assert "Loading data from" not in out and "Running node" not in out
    lines = out.splitlines()
    assert any(
        line.split()[:1] == ["run_backtest"] and line.endswith(" s") for line in lines
    )
    block = out[out.index("Summary") :]
    for head in (
        "  data       ETHUSDT 1m",
        "  venue      cex_mm",
        "  PnL        ",
        "without the signal",
        "signal added",
        "  risk       Sharpe",
    ):
        assert head in block, block
    assert r.stdout.splitlines()[-1].startswith("Report: ")
    assert len(lines) < 60, out
    assert PASSWORD not in out
    # every file the run wrote
    for path in (project / "data").rglob("*"):
        if path.is_file() and path.suffix in {".html", ".json", ".csv", ".txt", ".yml"}:
            assert PASSWORD not in path.read_text(errors="replace"), path
    report = (project / "data/08_reporting/report.html").read_text()
    assert "postgresql://user:***@127.0.0.1:1/db" in report
    assert "quote currency" in report and "USDT per ETH" in report  # the data's quote
    # MLflow: parameters and tags (runtime_params) in the SQLite store
    with sqlite3.connect(project / "mlflow.db") as db:
        rows = db.execute(
            "SELECT key, value FROM params UNION ALL SELECT key, value FROM tags"
        ).fetchall()
    assert rows and not [r for r in rows if PASSWORD in str(r[1])]
    assert any("user:***@" in str(v) for _, v in rows)
    metrics = json.loads((project / "data/08_reporting/metrics.json").read_text())
    assert PASSWORD not in json.dumps(metrics)
    # MLflow artefacts are bounded: the 7 MB report only when asked
    assert _report_artefacts(project) == [False]
    r = kedro(
        project,
        "run",
        "--pipeline=reporting",
        f"--params={FAST},report.mlflow_copy:true",
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert _report_artefacts(project) == [False, True]


def _report_artefacts(project) -> list[bool]:
    """Per finished run with parameters, oldest first: is report.html an artefact?"""
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    exp = client.get_experiment_by_name("ethpredict")
    runs = client.search_runs(
        [exp.experiment_id], order_by=["attributes.start_time ASC"]
    )
    return [
        "report/report.html"
        in {a.path for a in client.list_artifacts(r.info.run_id, "report")}
        for r in runs
        if r.data.params
    ]


@pytest.mark.cli
def test_globals_and_environment_variables_reach_the_parameters(tmp_path):
    project = scratch_project(tmp_path / "p", PROJECT)
    (project / "conf/local/globals.yml").write_text("symbol: ETHUSDC\n")
    (project / "conf/local/parameters.yml").write_text(
        "data:\n  synthetic:\n    days: ${oc.env:ETHP_TEST_DAYS}\n"
    )
    r = kedro(
        project,
        "run",
        "--pipeline=data_engineering",
        "--params=features.zscore_window=60",
        timeout=300,
        ETHP_TEST_DAYS="3",
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    manifest = json.loads(
        (project / "data/02_intermediate/data_manifest.json").read_text()
    )
    assert manifest["symbol"] == "ETHUSDC" and manifest["bars"] == 3 * 1440
    # the same command without the variable (and none inherited from here)
    argv, env = kedro_command(
        "run", "--pipeline=data_engineering", "--params=features.zscore_window=60"
    )
    env.pop("ETHP_TEST_DAYS", None)
    r = subprocess.run(
        argv,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert r.returncode != 0
    assert "ETHP_TEST_DAYS" in r.stdout + r.stderr


def test_no_command_writes_into_tracked_files():
    """kedro-telemetry writes a project id into pyproject.toml when there is
    none, and kedro-viz rewrites .viz/ on every run: the id is settled in the
    project and .viz/ is ignored, so a newcomer's clone stays clean."""
    import tomllib

    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    assert len(pyproject["tool"]["kedro_telemetry"]["project_id"]) == 32
    ignored = (PROJECT / ".gitignore").read_text().splitlines()
    assert ".viz/" in ignored and "mlflow.db" in ignored and "mlruns/" in ignored
