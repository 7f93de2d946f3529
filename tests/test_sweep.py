"""Optuna sweeps: what a trial re-runs, parameter handling, and whole sweeps
through the real CLI (failures, reproduction, SIGKILL and resume, two
workers on one PostgreSQL study)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ethpredict.errors import ParameterError
from ethpredict.params import MMParams, validate_parameters
from ethpredict.pipeline_registry import register_pipelines
from ethpredict.sweep import (
    BASELINE_OUTPUTS,
    SweepError,
    best_config,
    param_entries,
    split_pipeline,
    with_values,
)
from ethpredict.sweep.grid import ExactGridSampler, grid_size, point
from ethpredict.sweep.study import distributions, open_storage, record_heartbeat
from ethpredict.sweep.trial import run_trial
from ethpredict.testing.project import (
    kedro,
    kedro_command,
    project_root,
    scratch_project,
)

PROJECT = project_root(__file__)
SPACE = {"mm.gamma": {"type": "float", "low": 0.01, "high": 0.5, "log": True}}


def test_param_entries_are_what_kedro_puts_in_the_catalog():
    p = validate_parameters({"mm": {"gamma": 0.3}})
    e = param_entries(p)
    assert isinstance(e["params:mm"], MMParams) and e["params:mm.gamma"] == 0.3
    assert e["params:model.cv.train_bars"] == p.model.cv.train_bars
    assert e["params:data.synthetic.days"] == p.data.synthetic.days
    assert e["parameters"]["mm"] is p.mm


def test_with_values_validates_like_a_run():
    p = validate_parameters({})
    assert (
        with_values(p, {"mm.gamma": 0.2, "backtest.fill_model": "intensity"}).mm.gamma
        == 0.2
    )
    with pytest.raises(ParameterError, match=r"mm\.gamma = -1\.0"):
        with_values(p, {"mm.gamma": -1.0})


class _StubRunner:
    def run(self, params):
        return {"backtest.sharpe": 1.0}, {}

    def objective_values(self, metrics):
        return [metrics["backtest.sharpe"]]


def test_a_trial_another_worker_finished_first_is_neither_complete_nor_failed():
    """Two workers can pop one enqueued trial from SQLite at once; the
    one that finishes second must not stop its worker (it did: Optuna's
    UpdateFinishedTrialError ended the sweep)."""
    study = optuna.create_study()
    study.enqueue_trial({"x": 1.0})
    mine = study.ask({"x": optuna.distributions.FloatDistribution(0, 2)})
    study.tell(mine.number, 2.0)  # the other worker's result
    assert run_trial(_StubRunner(), study, mine) == (None, "")
    (t,) = study.get_trials()
    assert t.state == TrialState.COMPLETE and t.value == 2.0 and not t.user_attrs


def _names(pipe):
    return {n.name for n in pipe.nodes}


def test_a_trial_reruns_only_what_the_swept_keys_reach():
    backtest = register_pipelines()["backtest"]
    quotes = {"make_quotes", "make_baseline_quotes"}
    books = {
        "run_backtest",
        "run_baseline_backtest",
        "evaluate_backtest",
        "collect_metrics",
        "run_lp_baselines",  # (remembered: the same in every trial of a sweep)
    }
    fixed, trial = split_pipeline(backtest, ["mm.gamma"])
    assert _names(trial) == quotes | books  # not calibration, not the HTML report
    assert _names(fixed) == {"calibrate_market", "align_signal"}
    # without the baseline (sweep.trial_baseline) its two nodes run nowhere
    fixed, trial = split_pipeline(backtest, ["mm.gamma"], BASELINE_OUTPUTS)
    assert _names(trial) == (quotes | books) - {
        "make_baseline_quotes",
        "run_baseline_backtest",
    }
    assert _names(fixed) == {"calibrate_market", "align_signal"}
    _, trial = split_pipeline(backtest, ["labels.vol_span"])
    assert "align_signal" in _names(trial)
    _, trial = split_pipeline(backtest, ["backtest.requote_threshold"])
    assert _names(trial) == books
    _, trial = split_pipeline(backtest, ["mm.calib_window"])
    assert "calibrate_market" in _names(trial)
    full = register_pipelines()["__default__"]
    fixed, trial = split_pipeline(full, ["labels.pt"])
    assert {"fit_models", "make_quotes"} <= _names(trial)
    assert "ingest_market_data" in _names(fixed)
    with pytest.raises(SweepError, match=r"model\.lr reach no node"):
        split_pipeline(backtest, ["model.lr"])
    with pytest.raises(SweepError, match="writes metrics"):
        split_pipeline(register_pipelines()["market_making"], ["mm.gamma"])


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        (
            {
                "n_trials": 5,
                "space": {"mm.gama": {"type": "float", "low": 0, "high": 1}},
            },
            r"mm\.gama is not a parameter",
        ),
        (
            {"n_trials": 5, "space": {"mm": {"type": "float", "low": 0, "high": 1}}},
            r"mm is not a parameter",
        ),
        (
            {
                "n_trials": 5,
                "space": {"sweep.seed": {"type": "int", "low": 0, "high": 3}},
            },
            r"sweep\.seed cannot be swept",
        ),
        ({"n_trials": 5, "space": {}}, "sweep.space is empty"),
        (
            {"space": {"mm.gamma": {"type": "float", "low": 0.5, "high": 0.1}}},
            r"low \(0\.5\) must be below high",
        ),
        (
            {
                "space": {
                    "mm.gamma": {"type": "float", "low": 0.0, "high": 1, "log": True}
                }
            },
            "log scale needs low > 0",
        ),
        (
            {"space": {"mm.sizing": {"type": "categorical", "low": 0, "high": 1}}},
            "needs choices",
        ),
        (
            {
                "sampler": "grid",
                "space": {"mm.gamma": {"type": "float", "low": 0.1, "high": 1}},
            },
            "needs a step or choices for the grid",
        ),
        ({"n_trials": 0}, r"sweep\.n_trials = 0"),
        ({"sampler": "bayes"}, r"sweep\.sampler = 'bayes'"),
        (
            {"objectives": {"backtest.sharpe": "up"}},
            r"sweep\.objectives\.backtest\.sharpe",
        ),
    ],
)
def test_bad_sweep_parameters_are_named(sweep, message):
    with pytest.raises(ParameterError, match=message):
        validate_parameters({"sweep": sweep})


def test_a_null_space_key_is_not_swept():
    # conf/local merges into conf/base key by key: null removes a base key
    p = validate_parameters(
        {
            "sweep": {
                "space": {
                    "mm.gamma": None,
                    "model.seed": {"type": "int", "low": 0, "high": 4},
                }
            }
        }
    )
    assert list(p.sweep.space) == ["model.seed"]
    assert p.sweep.baseline_in_trials() is False
    p = validate_parameters(
        {"sweep": {"objectives": {"signal_added.total_pnl": "maximize"}}}
    )
    assert p.sweep.baseline_in_trials() is True


def test_grid_values_and_best_config_round_trip():
    p = validate_parameters(
        {
            "sweep": {
                "sampler": "grid",
                "space": {
                    "mm.spread_scale": {
                        "type": "float",
                        "low": 0.5,
                        "high": 1.5,
                        "step": 0.25,
                    },
                    "backtest.requote_threshold": {
                        "type": "int",
                        "low": 10,
                        "high": 30,
                        "step": 10,
                    },
                    "mm.sizing": {
                        "type": "categorical",
                        "choices": ["fixed", "bet_size"],
                    },
                },
            }
        }
    )
    grids = {k: d.grid() for k, d in p.sweep.space.items()}
    assert grids["mm.spread_scale"] == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert grids["backtest.requote_threshold"] == [10, 20, 30]
    text = best_config("backtest", {"mm.gamma": 0.1 + 0.2, "mm.sizing": "fixed"})
    assert "pipeline: backtest" in text and "mm.gamma=0.30000000000000004" in text


def test_the_grid_sampler_draws_each_point_once_across_workers():
    """Optuna's GridSampler may give one point to workers that ask at once;
    ours gives workers of one machine different points, and of two trials
    that drew the same point (two machines) the later gives way."""
    space = {
        "mm.spread_scale": {"type": "float", "low": 0.5, "high": 1.5, "step": 0.5},
        "mm.sizing": {"type": "categorical", "choices": ["fixed", "bet_size"]},
    }
    sp = validate_parameters({"sweep": {"sampler": "grid", "space": space}}).sweep
    dists = distributions(sp.space)
    storage = optuna.storages.InMemoryStorage()
    optuna.create_study(storage=storage, study_name="g")

    def worker(w: int) -> optuna.Study:
        sampler = ExactGridSampler(sp, w)
        return optuna.load_study(study_name="g", storage=storage, sampler=sampler)

    a, b, c = worker(0), worker(1), worker(0)  # c: worker 0 of another machine
    assert [s.sampler.is_exhausted(s) for s in (a, b, c)] == [False] * 3
    ta, tb, tc = a.ask(dists), b.ask(dists), c.ask(dists)  # all at once
    assert ta.params != tb.params
    assert tc.params == ta.params
    assert not a.sampler.gives_way(a, ta) and not b.sampler.gives_way(b, tb)
    assert c.sampler.gives_way(c, tc)
    c.tell(tc, state=TrialState.FAIL)
    a.tell(ta, 1.0)
    tb.set_user_attr("error", "the same values fail the same way")  # not retried
    b.tell(tb, state=TrialState.FAIL)
    seen, killed = {point(ta.params), point(tb.params)}, None
    while not a.sampler.is_exhausted(a):
        t = a.ask(dists)
        assert point(t.params) not in seen
        if killed is None:  # its worker was killed: the point is drawn again
            killed = point(t.params)
            a.tell(t, state=TrialState.FAIL)
            continue
        seen.add(point(t.params))
        a.tell(t, 1.0)
    assert killed in seen and len(seen) == grid_size(sp) == 6


def test_a_journal_torn_by_a_kill_is_repaired_by_the_next_append(tmp_path):
    path = tmp_path / "t" / "optuna.journal"
    study = optuna.create_study(study_name="j", storage=open_storage(str(path)))
    study.tell(study.ask({"x": optuna.distributions.FloatDistribution(0, 1)}), 0.5)
    whole = path.read_bytes()
    with path.open("ab") as f:  # a writer killed in the middle of a line
        f.write(b'{"op_code":5,"worker_id":"dead","trial_id":0,"user_attr')
    again = optuna.load_study(study_name="j", storage=open_storage(str(path)))
    assert [t.value for t in again.trials] == [0.5]
    again.tell(again.ask({"x": optuna.distributions.FloatDistribution(0, 1)}), 0.7)
    assert path.read_bytes().startswith(whole) and b"dead" not in path.read_bytes()
    last = optuna.load_study(study_name="j", storage=open_storage(str(path)))
    assert [t.value for t in last.trials] == [0.5, 0.7]


def test_a_journal_trial_without_heartbeat_for_the_grace_period_is_stale(
    tmp_path, monkeypatch
):
    from ethpredict.sweep import journal

    storage = open_storage(str(tmp_path / "optuna.journal"))
    study = optuna.create_study(study_name="h", storage=storage)
    beating, silent = study.ask(), study.ask()  # silent: killed before its first
    record_heartbeat(storage, beating._trial_id)
    assert journal.stale_trials(study, 20) == []
    now = time.time()
    monkeypatch.setattr(journal.time, "time", lambda: now + 30)
    record_heartbeat(storage, beating._trial_id)
    assert [t.number for t in journal.stale_trials(study, 20)] == [silent.number]
    monkeypatch.setattr(journal.time, "time", lambda: now + 60)
    assert len(journal.stale_trials(study, 20)) == 2


def test_a_journal_that_cannot_be_made_is_one_error_naming_it(tmp_path):
    (tmp_path / "f").write_text("a file, not a folder")
    with pytest.raises(SweepError, match=r"cannot open the journal file .*f/optuna"):
        open_storage(str(tmp_path / "f" / "optuna.journal"))


# --- whole sweeps through the CLI ------------------------------------------

CHAIN = {
    "data": {"synthetic": {"days": 3}},
    "features": {"zscore_window": 60},
    "model": {
        "cv": {"train_bars": 1440, "test_bars": 720},
        "net": {"max_epochs": 2},
        "gbt_iter": 10,
        "progress": False,
    },
    "mm": {"calib_window": 240},
}


def _local(project: Path, sweep: dict | None = None) -> None:
    """Write the chain's settings to conf/local and the sweep to
    parameters_sweep.yml (conf/local would merge key by key with its space)."""
    (project / "conf" / "local" / "parameters.yml").write_text(json.dumps(CHAIN))
    if sweep:
        (project / "conf" / "base" / "parameters_sweep.yml").write_text(
            json.dumps({"sweep": sweep})
        )


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    """A scratch project on which the whole chain has run once."""
    project = scratch_project(tmp_path_factory.mktemp("sweep"), PROJECT)
    _local(project)
    r = kedro(project, "run")
    assert r.returncode == 0, r.stderr[-3000:]
    return project


def _copy(chain: Path, dest: Path, sweep: dict) -> Path:
    shutil.copytree(
        chain,
        dest,
        ignore=shutil.ignore_patterns("mlflow.db", "optuna.db*", "optuna.journal*"),
    )
    _local(dest, sweep)
    return dest


def _journal(project: Path) -> str:
    """The default storage: the project's journal file."""
    return str(project / "data" / "09_tracking" / "optuna.journal")


def _study(project: Path, name: str, url: str | None = None) -> optuna.Study:
    storage = open_storage(url or _journal(project))
    return optuna.load_study(study_name=name, storage=storage)


def _metrics(project: Path) -> dict:
    return json.loads((project / "data" / "08_reporting" / "metrics.json").read_text())


@pytest.mark.cli
def test_sweep_records_failures_ends_with_the_best_run_and_reproduces(chain, tmp_path):
    project = _copy(
        chain,
        tmp_path / "p",
        {
            "sampler": "random",
            "seed": 3,
            "study_name": "fail-test",
            "max_failures": 60,
            "objectives": {
                "backtest.total_pnl": "maximize",
                "backtest.max_drawdown": "minimize",
            },
            # a negative gamma is not a valid parameter: those trials fail
            "space": {
                "mm.gamma": {"type": "float", "low": -0.3, "high": 0.5},
                "mm.alpha_weight": {"type": "float", "low": 0.0, "high": 2.0},
            },
        },
    )
    r = kedro(project, "run", "--pipeline=backtest", "--params=sweep.n_trials:12")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Replacing dataset" not in r.stderr  # ~120 lines that buried the result
    study = _study(project, "fail-test")
    states = [t.state for t in study.trials]
    assert states.count(TrialState.COMPLETE) == 12
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert failed and all("mm.gamma" in t.user_attrs["error"] for t in failed)
    assert all(t.params["mm.gamma"] < 0 for t in failed)
    # no objective needs the book without the signal: trials do not book it,
    # the ordinary run that ends the sweep does
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert all(
        "baseline.total_pnl" not in t.user_attrs["result"]["metrics"] for t in done
    )
    # several objectives: the best is the Pareto trial best on the first
    best = max(study.best_trials, key=lambda t: t.values[0])
    final = _metrics(project)  # the ordinary run that ends the sweep
    assert final["signal_added.total_pnl"] is not None
    assert final["backtest.total_pnl"] == best.values[0]
    assert final["backtest.max_drawdown"] == best.values[1]
    page = (project / "data" / "08_reporting" / "sweep_report.html").read_text()
    for text in (
        "Pareto front",
        "deflated Sharpe ratio",
        "probability of backtest overfitting",
        "Parallel coordinates",
        "Parameter importances",
        f"Failed trials ({len(failed)})",
    ):
        assert text in page, text
    # the best configuration reproduces the trial exactly in a new run
    (project / "data" / "08_reporting" / "metrics.json").unlink()
    r = kedro(project, "run", "--config", "data/08_reporting/sweep_best.yml")
    assert r.returncode == 0, r.stderr[-3000:]
    again = _metrics(project)
    assert again == final
    assert "Sweep" not in r.stderr  # an ordinary run
    # MLflow: the sweep's run is the parent of the best trials' runs
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    runs = client.search_runs(
        client.search_experiments()[0].experiment_id,
        filter_string="tags.`sweep.trial` != ''",
    )
    parents = {run.data.tags["mlflow.parentRunId"] for run in runs}
    assert len(runs) == 12 and len(parents) == 1
    parent = client.get_run(parents.pop())
    assert parent.data.metrics["sweep.complete_trials"] == 12
    history = client.get_metric_history(parent.info.run_id, "trial.backtest.total_pnl")
    assert len(history) == 12


@pytest.mark.cli
def test_sweep_errors_are_one_line(chain, tmp_path):
    typo = {
        "space": SPACE,
        "study_name": "typo",
        "objectives": {"backtest.sharp": "maximize"},
    }
    project = _copy(chain, tmp_path / "p", typo)
    r = kedro(project, "run", "--pipeline=backtest", "--params=sweep.n_trials:3")
    assert r.returncode == 1
    assert (
        "Error: sweep.objectives: backtest.sharp is not a metrics.json key" in r.stderr
    )
    assert "backtest.sharpe" in r.stderr and "Traceback" not in r.stderr
    r = kedro(project, "run", "--pipeline=market_making", "--params=sweep.n_trials:3")
    assert (
        r.returncode == 1
        and "Error: a sweep needs a pipeline that writes metrics" in r.stderr
    )
    # the same study name with another configuration is refused
    _local(project, {"space": SPACE, "study_name": "err"})
    r = kedro(project, "run", "--pipeline=backtest", "--params=sweep.n_trials:2")
    assert r.returncode == 0, r.stderr[-2000:]
    skew = {"mm.skew_scale": {"type": "float", "low": 0, "high": 2}}
    _local(project, {"space": {**SPACE, **skew}, "study_name": "err"})
    r = kedro(project, "run", "--pipeline=backtest", "--params=sweep.n_trials:2")
    assert r.returncode == 1 and "was made with other parameters" in r.stderr


@pytest.mark.cli
def test_grid_sweep_visits_each_point_once_and_stops(chain, tmp_path):
    space = {
        "mm.spread_scale": {"type": "float", "low": 0.5, "high": 1.5, "step": 0.5},
        "mm.sizing": {"type": "categorical", "choices": ["fixed", "bet_size"]},
    }
    project = _copy(
        chain,
        tmp_path / "p",
        {
            "sampler": "grid",
            "study_name": "grid",
            "space": space,
            "n_jobs": 2,
            "trial_baseline": True,
        },
    )
    r = kedro(project, "run", "--pipeline=backtest", "--params=sweep.n_trials:20")
    assert r.returncode == 0, r.stderr[-3000:]
    url = _journal(project)
    points = {
        (t.params["mm.spread_scale"], t.params["mm.sizing"])
        for t in _complete("grid", url)
    }
    assert len(_complete("grid", url)) == 6  # the grid, not n_trials
    assert points == {(a, b) for a in (0.5, 1.0, 1.5) for b in ("fixed", "bet_size")}
    # sweep.trial_baseline: every trial also booked the quotes without the signal
    for t in _complete("grid", url):
        m = t.user_attrs["result"]["metrics"]
        assert m["signal_added.total_pnl"] == pytest.approx(
            m["backtest.total_pnl"] - m["baseline.total_pnl"]
        )


def _popen(project: Path, *args: str) -> subprocess.Popen:
    argv, env = kedro_command(*args)
    return subprocess.Popen(
        argv,
        cwd=project,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _complete(study_name: str, url: str) -> list:
    if not Path(url).exists():
        return []
    try:
        study = optuna.load_study(study_name=study_name, storage=open_storage(url))
    except KeyError:  # not created yet
        return []
    return [t for t in study.trials if t.state == TrialState.COMPLETE]


@pytest.mark.cli
def test_sigkill_then_the_same_command_resumes_to_exactly_n_trials(chain, tmp_path):
    project = _copy(
        chain,
        tmp_path / "p",
        {
            "space": {
                **SPACE,
                "mm.skew_scale": {"type": "float", "low": 0.0, "high": 2.0},
            },
            "study_name": "kill",
            "n_jobs": 2,
        },
    )
    url = _journal(project)
    args = ("run", "--pipeline=backtest", "--params=sweep.n_trials:60")
    proc = _popen(project, *args)
    deadline = time.monotonic() + 300
    while len(_complete("kill", url)) < 10 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and both workers
    proc.wait()
    before = {t.number: (t.values, t.params) for t in _complete("kill", url)}
    assert 10 <= len(before) < 60
    r = kedro(project, *args)
    assert r.returncode == 0, r.stderr[-3000:]
    after = _complete("kill", url)
    assert len(after) == 60
    assert all(
        before[t.number] == (t.values, t.params) for t in after if t.number in before
    )
    params = [tuple(sorted(t.params.items())) for t in after]
    assert len(set(params)) == 60  # nothing tried twice


def _postgres_url() -> str:
    url = os.environ.get("ETHPREDICT_TEST_POSTGRES")
    if not url:
        pytest.skip(
            "no PostgreSQL server: set ETHPREDICT_TEST_POSTGRES (.ci/run starts one)"
        )
    pytest.importorskip("psycopg", reason="psycopg is not installed")
    import sqlalchemy

    try:
        sqlalchemy.create_engine(url).connect().close()
    except sqlalchemy.exc.OperationalError as exc:
        pytest.skip(
            f"PostgreSQL at ETHPREDICT_TEST_POSTGRES is not reachable: {exc.args[0]}"
        )
    return url


@pytest.mark.cli
def test_two_workers_share_one_postgresql_study(chain, tmp_path):
    url = _postgres_url()
    name = f"pg-{uuid.uuid4().hex[:8]}"
    sweep = {
        "space": {**SPACE, "mm.skew_scale": {"type": "float", "low": 0.0, "high": 2.0}},
        "study_name": name,
        "storage": url,
        "sampler": "tpe",
    }
    machines = [_copy(chain, tmp_path / f"m{i}", sweep) for i in range(2)]
    procs = [
        _popen(m, "run", "--pipeline=backtest", "--params=sweep.n_trials:40")
        for m in machines
    ]
    here = []
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
        here.append(int(re.search(r"Sweep: (\d+) trial\(s\) here", err).group(1)))
    study = optuna.load_study(study_name=name, storage=url)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 40 and sum(here) == 40 and min(here) > 0  # both worked
    assert len({t.number for t in study.trials}) == len(study.trials)
    assert len({tuple(sorted(t.params.items())) for t in complete}) == 40
