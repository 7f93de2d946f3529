"""Optuna sweeps over the parameter tree, run by :class:`~ethpredict.hooks.SweepHook`.

A sweep is the selected pipeline split in two:

* the **fixed part** — nodes that no swept parameter reaches — runs (or its
  outputs load) once;
* the **trial part** — nodes downstream of a swept parameter that the
  objectives need (up to ``metrics``; the HTML report is left to the final
  run) — runs once per trial, in this process, node by node, on values held
  in memory. A trial's parameters are validated like a run's.

Trials are counted in the Optuna storage, so a study is resumable (the same
command continues it) and shared (workers on several machines point at one
PostgreSQL study). Each worker reserves a trial with ``ask`` and abandons it
if enough trials are already ahead of it, so a study ends with exactly
``n_trials`` complete trials. Heartbeats let a worker fail the trials of a
killed one.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import math
import multiprocessing as mp
import os
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from kedro.pipeline import Pipeline
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState
from threadpoolctl import threadpool_limits

from ethpredict.errors import ETHPredictError
from ethpredict.params import Distribution, Parameters, SweepParams, validate_parameters
from ethpredict.secrets import redact

log = logging.getLogger(__name__)
# heartbeats are "experimental" in Optuna 5 and say so on every storage opened
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

METRICS = "metrics"  # the output that holds the objectives (metrics.json)
# the ablation's book (the same quotes without the signal): in a trial only
# when ``sweep.trial_baseline`` asks for it (SweepParams.baseline_in_trials)
BASELINE_OUTPUTS = frozenset(
    {"quotes_baseline", "book_baseline", "fills_baseline", "orders_baseline"}
)
HEARTBEAT_S = 5  # a trial without a heartbeat for 4x this is failed
#: workers may ask at once: the last this-many trials check who is ahead
RESERVE_MARGIN = 64
#: sweep keys that do not change what a study is (so the same study resumes)
RUN_ONLY = ("n_trials", "n_jobs", "timeout_s", "storage", "storage_credentials",
            "study_name", "max_failures", "mlflow_trials", "report_rows")  # fmt: skip


class SweepError(ETHPredictError):
    """A sweep that cannot start or go on (not a failed trial)."""


# --- parameters as catalog entries ------------------------------------------


def param_entries(params: Parameters) -> dict[str, Any]:
    """What Kedro puts in the catalog for a parameter tree: ``parameters``,
    ``params:<ns>`` (the validated model) and every nested ``params:a.b``."""
    out: dict[str, Any] = {
        "parameters": {k: getattr(params, k) for k in type(params).model_fields}
    }

    def add(name: str, value: Any) -> None:
        out[f"params:{name}"] = value
        fields = (
            {k: getattr(value, k) for k in type(value).model_fields}
            if hasattr(type(value), "model_fields")
            else value
            if isinstance(value, dict)
            else None
        )
        for key, sub in (fields or {}).items():
            add(f"{name}.{key}", sub)

    for ns in type(params).model_fields:
        add(ns, getattr(params, ns))
    return out


def with_values(params: Parameters, values: dict[str, Any]) -> Parameters:
    """``params`` with dotted ``values`` set, validated as a whole.

    Raises:
        ParameterError: naming the dotted key and what is allowed.
    """
    tree = params.model_dump()
    for key, value in values.items():
        node = tree
        *path, leaf = key.split(".")
        for part in path:
            node = node[part]
        node[leaf] = value
    return validate_parameters(tree)


def reached_entries(keys) -> set[str]:
    """Catalog entries that change when the dotted ``keys`` change."""
    out = {"parameters"}
    for key in keys:
        parts = key.split(".")
        out.update(f"params:{'.'.join(parts[:i])}" for i in range(1, len(parts) + 1))
    return out


def split_pipeline(
    pipeline: Pipeline, keys, absent: frozenset[str] = frozenset()
) -> tuple[Pipeline, Pipeline]:
    """``(fixed, trial)``: the nodes a trial re-runs are those downstream of a
    swept key that ``metrics`` needs; ``fixed`` makes the rest of their inputs.
    Nodes that make only ``absent`` outputs run in neither: a trial gets None
    for those (``BASELINE_OUTPUTS`` without ``sweep.trial_baseline``)."""
    if METRICS not in pipeline.all_outputs():
        raise SweepError(
            "a sweep needs a pipeline that writes metrics (its objectives are "
            "metrics.json keys): use --pipeline=backtest or the default pipeline"
        )
    inputs = pipeline.inputs()
    unused = [k for k in keys if not (reached_entries([k]) - {"parameters"}) & inputs]
    if unused:
        raise SweepError(
            f"sweep.space: {', '.join(unused)} reach no node of this pipeline; "
            "sweep them with the pipeline that uses them (the default one has all)"
        )
    entries = (reached_entries(keys) - {"parameters"}) & inputs
    to_metrics = pipeline.to_outputs(METRICS)
    downstream = pipeline.from_inputs(*entries)
    trial = Pipeline([n for n in to_metrics.nodes if n in set(downstream.nodes)
                      and not set(n.outputs) <= absent])  # fmt: skip
    if not trial.nodes:
        raise SweepError(
            f"sweep.space: {', '.join(keys)} do not change metrics in this pipeline"
        )
    needed = (trial.inputs() & pipeline.all_outputs()) - absent
    fixed = (
        Pipeline(
            [n for n in pipeline.to_outputs(*needed).nodes if n not in set(trial.nodes)]
        )
        if needed
        else Pipeline([])
    )
    return fixed, trial


# --- study ------------------------------------------------------------------


def distributions(space: dict[str, Distribution]) -> dict[str, Any]:
    out = {}
    for key, d in space.items():
        if d.type == "categorical":
            out[key] = CategoricalDistribution(d.choices)
        elif d.type == "int":
            out[key] = IntDistribution(
                int(d.low), int(d.high), log=d.log, step=int(d.step or 1)
            )
        else:
            out[key] = FloatDistribution(d.low, d.high, log=d.log, step=d.step)
    return out


def make_sampler(sp: SweepParams, seed: int) -> optuna.samplers.BaseSampler:
    if sp.sampler == "grid":  # the points are enqueued by the worker loop
        return optuna.samplers.RandomSampler(seed=seed)
    if sp.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)


def grid_size(sp: SweepParams) -> int | None:
    if sp.sampler != "grid":
        return None
    return math.prod(len(d.grid() or []) for d in sp.space.values())


def default_storage(project_path: Path) -> str:
    folder = project_path / "data" / "09_tracking"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def storage_from_credentials(params: Parameters, credentials: dict) -> Parameters:
    """``sweep.storage_credentials: KEY`` → ``sweep.storage`` set to
    ``credentials[KEY].con`` (Kedro's convention for SQL connections, read
    from ``conf/<env>/credentials.yml``), so the password is in no
    parameter file. Without the key: ``params`` unchanged."""
    key = params.sweep.storage_credentials
    if key is None:
        return params
    entry = (credentials or {}).get(key)
    con = entry.get("con") if isinstance(entry, dict) else None
    if not isinstance(con, str) or not con:
        raise SweepError(
            f"sweep.storage_credentials: '{key}' needs an entry `{key}: {{con: "
            "postgresql://user:password@host/db}` in conf/local/credentials.yml "
            f"(found {'no entry' if entry is None else 'no `con` string'})"
        )
    sweep = params.sweep.model_copy(update={"storage": con})
    return params.model_copy(update={"sweep": sweep})


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """An RDB storage with heartbeats; SQLite in WAL mode. Retries the schema
    creation race of several workers starting on an empty database."""
    import sqlalchemy

    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 60}}
    last: Exception | None = None
    for attempt in range(8):
        try:
            storage = optuna.storages.RDBStorage(
                url, engine_kwargs=kwargs, heartbeat_interval=HEARTBEAT_S,
                grace_period=4 * HEARTBEAT_S,
            )  # fmt: skip
            if url.startswith("sqlite"):
                sqlalchemy.event.listen(storage.engine, "connect", _sqlite_pragmas)
                storage.engine.dispose()
            return storage
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError) as exc:
            last = exc  # another worker is creating the schema
            time.sleep(0.2 * (attempt + 1))
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.ArgumentError) as exc:
            raise SweepError(
                f"sweep.storage: cannot open {redact(url)}: {exc.args[0]}"
            ) from None
        except ImportError as exc:
            raise SweepError(f"sweep.storage: {redact(url)} needs {exc.name}: pip install "
                             "\"psycopg[binary]\" for PostgreSQL") from None  # fmt: skip
    raise SweepError(
        f"sweep.storage: cannot create the schema in {redact(url)}: {last}"
    )


def fingerprint(params: Parameters, pipeline_name: str, trial: Pipeline) -> str:
    """What defines a study: every parameter except how the sweep is run,
    the pipeline and the nodes a trial runs."""
    tree = params.model_dump(mode="json")
    for key in RUN_ONLY:
        tree["sweep"].pop(key, None)
    blob = json.dumps(
        [tree, pipeline_name, sorted(n.name for n in trial.nodes)], sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def open_study(
    storage, url: str, name: str, sp: SweepParams, print_: str, attrs: dict
) -> optuna.Study:
    """Create the study or load it; refuse one created by another config."""
    directions = list(sp.objectives.values())
    for attempt in range(8):
        try:
            study = optuna.create_study(storage=storage, study_name=name,
                                        directions=directions, load_if_exists=True)  # fmt: skip
            break
        except Exception as exc:  # the create race between workers
            if attempt == 7 or "unique" not in str(exc).lower():
                raise
            time.sleep(0.2 * (attempt + 1))
    stored = study.user_attrs.get("fingerprint")
    if stored is None:
        study.set_user_attr("fingerprint", print_)
        for key, value in attrs.items():
            study.set_user_attr(key, value)
    elif stored != print_:
        raise SweepError(
            f"study '{name}' in {redact(url)} was made with other parameters, "
            "objectives or pipeline; set a new sweep.study_name (or leave it null)"
        )
    if [d.name.lower() for d in study.directions] != directions:
        raise SweepError(f"study '{name}' has other objective directions")
    return study


# --- running trials ---------------------------------------------------------


@dataclass
class TrialRunner:
    """Runs the trial part for one set of dotted values."""

    base: Parameters
    trial: Pipeline
    fixed_data: dict[str, Any]
    objectives: dict[str, str]
    _nodes: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self._nodes = list(self.trial.nodes)  # topological order

    def run(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(metrics, outputs)`` of one trial. Raises what a node raises."""
        params = with_values(self.base, values)
        data = {**self.fixed_data, **param_entries(params)}
        for node in self._nodes:
            data.update(node.run({name: data[name] for name in node.inputs}))
        return data[METRICS], data

    def objective_values(self, metrics: dict) -> list[float]:
        missing = [k for k in self.objectives if k not in metrics]
        if missing:
            import difflib

            hints = {
                k: difflib.get_close_matches(k, list(metrics), n=3) for k in missing
            }
            raise SweepError(
                "sweep.objectives: "
                + "; ".join(
                    f"{k} is not a metrics.json key (close: {', '.join(h) or '—'})"
                    for k, h in hints.items()
                )
            )
        out = []
        for key in self.objectives:
            value = metrics[key]
            if value is None or not np.isfinite(float(value)):
                raise ValueError(
                    f"objective {key} is undefined ({value}) for this trial"
                )
            out.append(float(value))
        return out


def _reuse_freed_memory() -> None:
    """Keep large freed blocks in the heap: a trial allocates and frees the
    same few hundred MB each time, and fresh pages cost more than the work."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-4, 0)  # M_MMAP_MAX: no mmap'd blocks
        libc.mallopt(-1, 2**31 - 1)  # M_TRIM_THRESHOLD: never give the heap back
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


class _Heartbeat:
    """Records the running trial's heartbeat every few seconds."""

    def __init__(self, storage) -> None:
        self.storage, self.trial_id = storage, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            tid = self.trial_id
            if tid is not None:
                with contextlib.suppress(Exception):
                    self.storage.record_heartbeat(tid)

    def stop(self) -> None:
        self._stop.set()


def work(
    runner: TrialRunner, url: str, name: str, sp: SweepParams, worker: int, quiet: bool
) -> dict[str, int]:
    """One worker: run trials until the study has ``n_trials`` complete ones,
    the timeout passes or too many trials failed here."""
    _reuse_freed_memory()
    was_disabled = logging.root.manager.disable
    if quiet:  # node logs once per trial would drown the run's own
        logging.disable(logging.WARNING)
    # One BLAS thread per worker: the workers are the parallelism. OpenBLAS's
    # threads spin after each call and took the other worker's core (two
    # workers' trials ran 75 % slower each, 1.2x in all instead of 1.9x).
    limits = threadpool_limits(1) if sp.n_jobs > 1 else contextlib.nullcontext()
    try:
        with limits:
            return _work(runner, url, name, sp, worker)
    finally:
        logging.disable(was_disabled)


def _work(
    runner: TrialRunner, url: str, name: str, sp: SweepParams, worker: int
) -> dict:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(url)
    study = optuna.load_study(study_name=name, storage=storage)
    # a new seed per worker and per resumption: a resumed sweep must not
    # replay the values it already tried
    seed = sp.seed + 1_000_003 * worker + len(study.get_trials(deepcopy=False))
    if sp.n_jobs > 1 or sp.storage is not None:
        # several processes, maybe on several machines, may start on the same
        # study at once: mix in the process so that none replays another's
        # values (parallel studies are not reproducible trial by trial anyway)
        import socket

        seed = int.from_bytes(
            hashlib.sha256(
                f"{seed}:{socket.gethostname()}:{os.getpid()}".encode()
            ).digest()[:4],
            "little",
        )
    study.sampler = make_sampler(sp, seed)
    dists = distributions(sp.space)
    limit = min(sp.n_trials, grid_size(sp) or sp.n_trials)
    grid = grid_points(sp, sp.seed) if sp.sampler == "grid" else None
    max_failures = sp.max_failures or sp.n_trials
    deadline = time.monotonic() + sp.timeout_s if sp.timeout_s else math.inf
    done = failed = 0
    beat = _Heartbeat(storage)
    stale_check = 0.0
    live = (TrialState.COMPLETE, TrialState.RUNNING)
    try:
        while time.monotonic() < deadline:
            if time.monotonic() > stale_check:  # trials of killed workers fail
                _fail_stale(study, storage)
                stale_check = time.monotonic() + HEARTBEAT_S
            complete, n_live = _live_counts(storage, study._study_id)
            if complete >= limit:
                break
            if n_live >= limit:  # the rest are running elsewhere
                time.sleep(0.1)
                stale_check = 0.0
                continue
            if grid is not None:
                # a point is done once complete, running, or failed with an error
                # (not re-run: the same values fail the same way)
                taken = {_point(t.params) for t in study.get_trials(deepcopy=False)
                         if t.state in live or "error" in t.user_attrs}  # fmt: skip
                todo = [g for g in grid if _point(g) not in taken]
                if not todo:
                    break
                study.enqueue_trial(todo[worker % len(todo)], skip_if_exists=False)
            trial = study.ask(dists)
            storage.record_heartbeat(trial._trial_id)  # from now on a kill is noticed
            beat.trial_id = trial._trial_id
            if grid is not None and _grid_point_taken(study, trial, live):
                trial.set_user_attr("skipped", "grid point drawn by another worker")
                study.tell(trial, state=TrialState.FAIL)
                continue
            # near the end, other workers may have asked at the same moment:
            # keep this trial only if fewer than n_trials are ahead of it
            if (
                n_live >= limit - RESERVE_MARGIN
                and sum(
                    t.number < trial.number
                    for t in study.get_trials(deepcopy=False, states=live)
                )
                >= limit
            ):
                trial.set_user_attr("skipped", "n_trials reached by other workers")
                study.tell(trial, state=TrialState.FAIL)
                continue
            beat.trial_id = trial._trial_id
            ok, message = _one_trial(runner, study, trial, storage)
            beat.trial_id = None
            if ok is None:  # the same trial, finished by another worker
                continue
            done, failed = done + ok, failed + (not ok)
            if failed >= max_failures:
                raise SweepError(
                    f"{failed} trials failed in this worker (sweep.max_failures); "
                    f"the last: {message[:300]}"
                )
    finally:
        beat.stop()
    return {"complete": done, "failed": failed}


def _live_counts(storage, study_id: int) -> tuple[int, int]:
    """``(complete, complete + running)`` trials of the study, by one COUNT
    query: fetching the trials themselves (``study.get_trials``) costs about
    10 ms per trial at 1000 trials and grows with the study."""
    import sqlalchemy

    with storage.engine.connect() as conn:
        rows = conn.execute(
            sqlalchemy.text("SELECT state, COUNT(*) FROM trials WHERE study_id = :s "
                            "AND state IN ('COMPLETE', 'RUNNING') GROUP BY state"),
            {"s": int(study_id)},
        ).all()  # fmt: skip
    counts = {str(getattr(state, "name", state)): int(n) for state, n in rows}
    complete = counts.get("COMPLETE", 0)
    return complete, complete + counts.get("RUNNING", 0)


def _fail_stale(study, storage) -> None:
    """Fail the trials of killed workers: those whose heartbeat stopped
    (Optuna's check), and those killed between their creation and their first
    heartbeat (running for longer than the grace period without one)."""
    import datetime as dt

    import sqlalchemy

    optuna.storages.fail_stale_trials(study)
    now = dt.datetime.now()
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    old = [
        t
        for t in running
        if t.datetime_start
        and (now - t.datetime_start).total_seconds() > 4 * HEARTBEAT_S
    ]
    if not old:
        return
    ids = [t._trial_id for t in old]
    with storage.engine.connect() as conn:
        beating = {row[0] for row in conn.execute(
            sqlalchemy.text("SELECT trial_id FROM trial_heartbeats WHERE trial_id IN "
                            f"({', '.join(str(int(i)) for i in ids)})"))}  # fmt: skip
    for tid in set(ids) - beating:
        with contextlib.suppress(Exception):  # another worker got there first
            storage.set_trial_state_values(tid, TrialState.FAIL)


def _point(params: dict) -> tuple:
    return tuple(sorted(params.items()))


def grid_points(sp: SweepParams, seed: int) -> list[dict]:
    """Every point of the grid, in a seeded random order."""
    import itertools

    keys = list(sp.space)
    points = [dict(zip(keys, values, strict=True)) for values in
              itertools.product(*(sp.space[k].grid() for k in keys))]  # fmt: skip
    order = np.random.default_rng(seed).permutation(len(points))
    return [points[i] for i in order]


def _grid_point_taken(study, trial, live) -> bool:
    """Two workers can take the same grid point at the same moment: the
    later trial gives way."""
    mine = _point(trial.params)
    return any(_point(t.params) == mine and t.number < trial.number
               for t in study.get_trials(deepcopy=False, states=live))  # fmt: skip


def _one_trial(runner: TrialRunner, study, trial, storage) -> tuple[bool | None, str]:
    """Run one asked trial and tell the study; ``(complete, error)``, with
    ``complete`` None when another worker finished the same trial first."""
    try:
        metrics, outputs = runner.run(trial.params)
        values = runner.objective_values(metrics)
    except SweepError:
        study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        raise
    except Exception as exc:
        message = (str(exc) if isinstance(exc, ETHPredictError)
                   else f"{type(exc).__name__}: {exc}")  # fmt: skip
        attrs = {"error": message[:2000]}
        if not isinstance(exc, ETHPredictError | ValueError):
            attrs["traceback"] = traceback.format_exc()[-4000:]
        if not _tell(study, trial, attrs, state=TrialState.FAIL):
            return None, ""
        return False, message
    daily = outputs.get("backtest_metrics", {}).get("daily", {})
    result: dict[str, Any] = {"metrics": _kept_metrics(metrics)}
    if daily.get("with_signal") is not None:
        result["daily"] = {"first": daily["date"][:1], "pnl": daily["with_signal"]}
    if not _tell(study, trial, {"result": result}, values):  # one write
        return None, ""
    return True, ""


def _tell(study, trial, attrs: dict, values=None, state=None) -> bool:
    """Set ``attrs`` on the trial and tell the study; False when the trial
    had been finished already: two workers can pop the same enqueued (grid)
    trial from SQLite at one moment — seen once in a full test run — and the
    first to finish it records it."""
    try:
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    study.tell(trial, values, state=state, skip_if_finished=True)
    return True


def _kept_metrics(metrics: dict) -> dict:
    keep = ("backtest.", "baseline.total_pnl", "signal_added.total_pnl",
            "signal.primary.log_loss", "signal.primary.roc_auc")  # fmt: skip
    return {k: v for k, v in metrics.items()
            if k.startswith(keep) and (isinstance(v, int | float | bool) or v is None)}  # fmt: skip


def _child(
    runner, url, name, sp, worker, queue
) -> None:  # pragma: no cover - in a fork
    try:
        queue.put((worker, "ok", work(runner, url, name, sp, worker, quiet=True)))
    except ETHPredictError as exc:
        queue.put((worker, "error", str(exc)))
    except BaseException as exc:
        queue.put(
            (worker, "error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        )


def run_workers(
    runner: TrialRunner, url: str, name: str, sp: SweepParams
) -> dict[str, int]:
    """``sp.n_jobs`` workers: this process alone, or forked processes that
    share the computed upstream outputs copy-on-write."""
    if sp.n_jobs == 1 or "fork" not in mp.get_all_start_methods():
        return work(runner, url, name, sp, 0, quiet=True)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(runner, url, name, sp, w, queue), daemon=False)
             for w in range(sp.n_jobs)]  # fmt: skip
    for p in procs:
        p.start()
    import queue as queue_module

    results, errors, reported = {"complete": 0, "failed": 0}, [], set()
    while len(reported) < len(procs):
        try:
            worker, status, payload = queue.get(timeout=1.0)
        except queue_module.Empty:
            # a worker that died without reporting (killed, out of memory)
            dead = [w for w, p in enumerate(procs) if w not in reported
                    and not p.is_alive() and queue.empty()]  # fmt: skip
            for w in dead:
                reported.add(w)
                errors.append(f"sweep worker {w} died (exit code {procs[w].exitcode}); "
                              "run the same command again to finish the study")  # fmt: skip
            continue
        reported.add(worker)
        if status == "ok":
            for k in results:
                results[k] += payload[k]
        else:
            errors.append(payload)
    for p in procs:
        p.join()
    if errors:
        raise SweepError(
            errors[0].splitlines()[0] if len(errors[0]) < 2000 else errors[0][:2000]
        )
    return results


# --- results ----------------------------------------------------------------


def completed(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    """The best trial; with several objectives, the Pareto-front trial best
    on the first objective."""
    if len(study.directions) == 1:
        return study.best_trial
    front = study.best_trials
    sign = 1 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else -1
    return max(front, key=lambda t: sign * t.values[0])


def ranked(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    sign = 1 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else -1
    return sorted(completed(study), key=lambda t: (-sign * t.values[0], t.number))


def _daily(t) -> list | None:
    return t.user_attrs.get("result", {}).get("daily", {}).get("pnl")


def trial_metrics(t) -> dict:
    return t.user_attrs.get("result", {}).get("metrics", {})


def overfitting(study: optuna.Study, chosen: optuna.trial.FrozenTrial) -> dict:
    """Deflated Sharpe ratio of the chosen trial and PBO over the trials'
    daily PnL (trials without daily PnL are left out)."""
    from ethpredict.core.overfitting import deflated_sharpe, pbo_cscv, sharpe

    rows = [(t.number, np.asarray(_daily(t), dtype=np.float64))
            for t in completed(study) if _daily(t) is not None]  # fmt: skip
    if not rows or _daily(chosen) is None:
        return {"available": False, "reason": "no trial recorded daily PnL"}
    lengths = {len(r) for _, r in rows}
    if len(lengths) != 1:
        return {"available": False, "reason": "trials cover different days"}
    matrix = np.column_stack([r for _, r in rows])
    srs = np.array([sharpe(matrix[:, j]) for j in range(matrix.shape[1])])
    dsr = deflated_sharpe(np.asarray(_daily(chosen)), srs)
    blocks = min(16, 2 * (matrix.shape[0] // 4))  # 16 blocks, fewer on short samples
    pbo = (pbo_cscv(matrix, n_blocks=blocks) if blocks >= 2
           else {"pbo": math.nan, "splits": 0, "n_blocks": 0, "logits": np.empty(0)})  # fmt: skip
    return {"available": True, **dsr, "pbo": pbo["pbo"], "pbo_splits": pbo["splits"],
            "pbo_blocks": pbo["n_blocks"], "logits": pbo["logits"].tolist(),
            "trial_sharpes": srs.tolist()}  # fmt: skip


def best_config(pipeline_name: str | None, values: dict[str, Any]) -> str:
    """YAML for ``kedro run --config FILE``: the pipeline and the best
    trial's values (``repr`` floats round-trip exactly)."""
    items = ",".join(f"{k}={_literal(v)}" for k, v in sorted(values.items()))
    lines = ["# The best trial of a sweep. Reproduce it with:",
             "#   kedro run --config <this file>", "run:"]  # fmt: skip
    if pipeline_name:
        lines.append(f"  pipeline: {pipeline_name}")
    lines.append(f"  params: {json.dumps(items)}")
    return "\n".join(lines) + "\n"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def elapsed_since(t0: float) -> str:
    return f"{time.perf_counter() - t0:.1f} s"


# --- the whole sweep ----------------------------------------------------------


def _write(path: Path, text: str) -> None:
    from ethpredict.io.atomic import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _fixed_data(
    fixed: Pipeline, trial: Pipeline, catalog, params: Parameters,
    absent: frozenset[str] = frozenset(),
) -> dict:  # fmt: skip
    """Every non-parameter input of the trial part: loaded from the catalog,
    or made once by the fixed part; None for the ``absent`` ones."""
    entries = param_entries(params)
    data: dict[str, Any] = dict.fromkeys(absent & trial.inputs())
    produced = fixed.all_outputs()
    wanted = {n for n in (fixed.inputs() | trial.inputs())
              if n not in entries and n not in absent}  # fmt: skip
    for name in sorted(wanted - produced):
        data[name] = catalog.load(name)
    data.update(entries)
    for node in fixed.nodes:
        data.update(node.run({name: data[name] for name in node.inputs}))
    return {k: v for k, v in data.items() if k in trial.inputs() and k not in entries}


def echo(message: str) -> None:
    import click

    click.echo(message, err=True)


def run_sweep(
    params: Parameters, pipeline: Pipeline, catalog, pipeline_name: str | None,
    project_path: Path,
) -> Parameters:  # fmt: skip
    """Run (or resume) the study, write its report and best configuration,
    log it to MLflow and return the best trial's parameters."""
    t0 = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sp = params.sweep
    keys = list(sp.space)
    absent = frozenset() if sp.baseline_in_trials() else BASELINE_OUTPUTS
    fixed, trial = split_pipeline(pipeline, keys, absent)
    name_ = pipeline_name or "__default__"
    print_ = fingerprint(params, name_, trial)
    url = sp.storage or default_storage(project_path)
    study_name = sp.study_name or f"{name_}-{print_[:10]}"
    echo(f"Sweep: {len(keys)} parameters, each trial runs {len(trial.nodes)} node(s): "
         f"{', '.join(n.name for n in trial.nodes)}"
         + (" (not the book without the signal: sweep.trial_baseline)"
            if absent & trial.inputs() else ""))  # fmt: skip
    fixed_data = _fixed_data(fixed, trial, catalog, params, absent)
    runner = TrialRunner(params, trial, fixed_data, dict(sp.objectives))
    attrs = {
        "objectives": dict(sp.objectives), "pipeline": name_, "sampler": sp.sampler,
        "space": {k: d.model_dump(exclude_none=True) for k, d in sp.space.items()},
    }  # fmt: skip
    storage = open_storage(url)
    study = open_study(storage, url, study_name, sp, print_, attrs)
    before = len(completed(study))
    echo(f"Sweep: study '{study_name}' in {redact(url)}: {before} complete trial(s); "
         f"running to {sp.n_trials} with {sp.n_jobs} worker(s) ({sp.sampler})")  # fmt: skip
    storage.engine.dispose()  # forked workers open their own connections
    t1 = time.perf_counter()
    result = run_workers(runner, url, study_name, sp)
    t_trials = time.perf_counter() - t1
    t2 = time.perf_counter()
    study = optuna.load_study(study_name=study_name, storage=open_storage(url))
    done = completed(study)
    if not done:
        raise SweepError(f"study '{study_name}' has no complete trial: see the failed "
                         "trials' errors in optuna-dashboard or sweep_report.html")  # fmt: skip
    best = best_trial(study)
    stats = overfitting(study, best)
    report = project_path / "data" / "08_reporting" / "sweep_report.html"
    best_path = project_path / "data" / "08_reporting" / "sweep_best.yml"
    info = {"study_name": study_name, "storage": redact(url), "pipeline": name_,
            "sampler": sp.sampler, "best_config": best_path.relative_to(project_path)}  # fmt: skip
    from ethpredict.sweep_report import build_sweep_report

    _write(best_path, best_config(pipeline_name, best.params))
    _write(report, build_sweep_report(study, best, stats, sp.report_rows, info))
    rate = result["complete"] / t_trials if t_trials > 0 else float("nan")
    echo(f"Sweep: {result['complete']} trial(s) here in {t_trials:.1f} s ({rate:.1f}/s), "
         f"{result['failed']} failed; study has {len(done)} complete")  # fmt: skip
    values = ", ".join(f"{k}={_literal(v)}" for k, v in best.params.items())
    echo(f"Sweep: best trial {best.number}: "
         + ", ".join(f"{k} {v:.6g}" for k, v in zip(sp.objectives, best.values, strict=True))
         + f" with {values}")  # fmt: skip
    if stats.get("available"):
        echo(f"Sweep: deflated Sharpe ratio {stats['dsr']:.3f}, probability of backtest "
             f"overfitting {stats['pbo']:.3f} ({len(done)} trials)")  # fmt: skip
    echo(f"Sweep report: {report}\nBest configuration: {best_path} "
         f"(kedro run --config {info['best_config']})")  # fmt: skip
    t3 = time.perf_counter()
    log_to_mlflow(study, best, stats, sp, [report, best_path], info)
    t4 = time.perf_counter()
    echo(f"Sweep: done in {elapsed_since(t0)} (set-up {t1 - t0:.1f} s, trials {t2 - t1:.1f} s, "
         f"results {t3 - t2:.1f} s, MLflow {t4 - t3:.1f} s); now the best trial as an "
         "ordinary run")  # fmt: skip
    return with_values(params, best.params)


def log_to_mlflow(study, best, stats, sp: SweepParams, files, info) -> None:
    """The active (kedro-mlflow) run is the study's parent run: sweep
    metrics, every trial's objectives as a metric history (step = trial
    number, one batched call per 1,000), and the ``sp.mlflow_trials`` best
    trials as nested runs. Nothing when no run is active."""
    import mlflow
    from mlflow.entities import Metric, Param

    parent = mlflow.active_run()
    if parent is None:
        return
    client = mlflow.MlflowClient()
    rid = parent.info.run_id
    now = int(time.time() * 1000)
    done = completed(study)
    metrics = [Metric("sweep.complete_trials", len(done), now, 0),
               Metric("sweep.best_trial", best.number, now, 0)]  # fmt: skip
    for key, value in zip(sp.objectives, best.values, strict=True):
        metrics.append(Metric(f"sweep.best.{key}", value, now, 0))
    if stats.get("available"):
        metrics += [Metric("sweep.deflated_sharpe", stats["dsr"], now, 0),
                    Metric("sweep.pbo", stats["pbo"], now, 0)]  # fmt: skip
    for t in done:
        for key, value in zip(sp.objectives, t.values, strict=True):
            metrics.append(Metric(f"trial.{key}", value, now, t.number))
    for i in range(0, len(metrics), 1000):
        client.log_batch(rid, metrics=metrics[i : i + 1000])
    client.set_tag(rid, "sweep.study", info["study_name"])
    client.set_tag(rid, "sweep.storage", info["storage"])
    for path in files:
        client.log_artifact(rid, str(path), artifact_path="sweep")
    for t in ranked(study)[: sp.mlflow_trials]:
        child = client.create_run(
            parent.info.experiment_id, run_name=f"{info['study_name']} trial {t.number}",
            tags={"mlflow.parentRunId": rid, "sweep.trial": str(t.number)},
        )  # fmt: skip
        cid = child.info.run_id
        params = [Param(k, str(v)) for k, v in t.params.items()]
        ms = [Metric(k, float(v), now, 0) for k, v in trial_metrics(t).items()
              if isinstance(v, int | float) and v is not None and np.isfinite(v)]  # fmt: skip
        client.log_batch(cid, metrics=ms[:1000], params=params)
        client.set_terminated(cid)
