"""Workers that run a study's trials until it has ``n_trials`` complete ones.

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
import datetime as dt
import logging
import math
import multiprocessing as mp
import queue as queue_module
import threading
import time
import traceback

import optuna
import sqlalchemy
from optuna.trial import TrialState
from threadpoolctl import threadpool_limits

from ethpredict.errors import ETHPredictError
from ethpredict.sweep import journal
from ethpredict.sweep.grid import LIVE, ExactGridSampler, grid_size
from ethpredict.sweep.plan import SweepError
from ethpredict.sweep.study import (
    HEARTBEAT_S,
    StudyRef,
    distributions,
    make_sampler,
    open_storage,
    record_heartbeat,
    worker_seed,
)
from ethpredict.sweep.trial import TrialRunner, run_trial

#: workers may ask at once: the last this-many trials check who is ahead
RESERVE_MARGIN = 64


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
                    record_heartbeat(self.storage, tid)

    def stop(self) -> None:
        self._stop.set()


def work(
    runner: TrialRunner, ref: StudyRef, worker: int, quiet: bool
) -> dict[str, int]:
    """One worker: run trials until the study has ``n_trials`` complete ones,
    the timeout passes or too many trials failed here.

    Args:
        runner: runs one trial.
        ref: the study.
        worker: this worker's index on this machine.
        quiet: silence the nodes' logs below warnings (once per trial, they
            would drown the run's own).

    Returns:
        ``{"complete": n, "failed": m}``: trials this worker finished.
    """
    _reuse_freed_memory()
    was_disabled = logging.root.manager.disable
    if quiet:
        logging.disable(logging.WARNING)
    # One BLAS thread per worker: the workers are the parallelism. OpenBLAS's
    # threads spin after each call and took the other worker's core (two
    # workers' trials ran 75 % slower each, 1.2x in all instead of 1.9x).
    several = ref.sweep.n_jobs > 1
    limits = threadpool_limits(1) if several else contextlib.nullcontext()
    try:
        with limits:
            return _work(runner, ref, worker)
    finally:
        logging.disable(was_disabled)


def _work(runner: TrialRunner, ref: StudyRef, worker: int) -> dict[str, int]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sp = ref.sweep
    storage = open_storage(ref.url)
    study = ref.load(storage)
    seed = worker_seed(sp, worker, len(study.get_trials(deepcopy=False)))
    study.sampler = make_sampler(sp, seed, worker)
    grid = study.sampler if isinstance(study.sampler, ExactGridSampler) else None
    dists = distributions(sp.space)
    limit = min(sp.n_trials, grid_size(sp) or sp.n_trials)
    max_failures = sp.max_failures or sp.n_trials
    deadline = time.monotonic() + sp.timeout_s if sp.timeout_s else math.inf
    done = failed = 0
    beat = _Heartbeat(storage)
    stale_check = 0.0
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
            if grid is not None and grid.is_exhausted(study):
                break
            trial = study.ask(dists)
            record_heartbeat(storage, trial._trial_id)  # from now on a kill is noticed
            beat.trial_id = trial._trial_id
            if grid is not None and grid.gives_way(study, trial):
                trial.set_user_attr("skipped", "grid point drawn by another worker")
                study.tell(trial, state=TrialState.FAIL)
                continue
            if _others_ahead(study, trial, n_live, limit):
                trial.set_user_attr("skipped", "n_trials reached by other workers")
                study.tell(trial, state=TrialState.FAIL)
                continue
            ok, message = run_trial(runner, study, trial)
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


def _others_ahead(study, trial, n_live: int, limit: int) -> bool:
    """Near the end, other workers may have asked at the same moment: True
    when ``limit`` live trials are ahead of ``trial`` (it is not needed)."""
    if n_live < limit - RESERVE_MARGIN:
        return False
    ahead = sum(
        t.number < trial.number for t in study.get_trials(deepcopy=False, states=LIVE)
    )
    return ahead >= limit


def _live_counts(storage, study_id: int) -> tuple[int, int]:
    """``(complete, complete + running)`` trials of the study: from a
    journal's trials in memory, or by one COUNT query on an RDB (fetching the
    trials themselves costs about 10 ms per trial at 1000 trials there)."""
    if not isinstance(storage, optuna.storages.RDBStorage):
        live = storage.get_all_trials(study_id, deepcopy=False, states=LIVE)
        complete = sum(t.state == TrialState.COMPLETE for t in live)
        return complete, len(live)
    query = sqlalchemy.text(
        "SELECT state, COUNT(*) FROM trials WHERE study_id = :s "
        "AND state IN ('COMPLETE', 'RUNNING') GROUP BY state"
    )
    with storage.engine.connect() as conn:
        rows = conn.execute(query, {"s": int(study_id)}).all()
    counts = {str(getattr(state, "name", state)): int(n) for state, n in rows}
    complete = counts.get("COMPLETE", 0)
    return complete, complete + counts.get("RUNNING", 0)


def _fail_stale(study, storage) -> None:
    """Fail the trials of killed workers: those whose heartbeat stopped
    (Optuna's check), and those killed between their creation and their first
    heartbeat (running for longer than the grace period without one)."""
    if not isinstance(storage, optuna.storages.RDBStorage):
        for t in journal.stale_trials(study, 4 * HEARTBEAT_S):
            with contextlib.suppress(Exception):  # another worker got there first
                storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        return
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
    query = sqlalchemy.text(
        "SELECT trial_id FROM trial_heartbeats WHERE trial_id IN "
        f"({', '.join(str(int(i)) for i in ids)})"
    )
    with storage.engine.connect() as conn:
        beating = {row[0] for row in conn.execute(query)}
    for tid in set(ids) - beating:
        with contextlib.suppress(Exception):  # another worker got there first
            storage.set_trial_state_values(tid, TrialState.FAIL)


def _child(runner, ref, worker, queue) -> None:  # pragma: no cover - in a fork
    try:
        queue.put((worker, "ok", work(runner, ref, worker, quiet=True)))
    except ETHPredictError as exc:
        queue.put((worker, "error", str(exc)))
    except BaseException as exc:
        queue.put(
            (worker, "error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        )


def run_workers(runner: TrialRunner, ref: StudyRef) -> dict[str, int]:
    """``ref.sweep.n_jobs`` workers: this process alone, or forked processes
    that share the computed upstream outputs copy-on-write.

    Returns:
        ``{"complete": n, "failed": m}`` summed over the workers.

    Raises:
        SweepError: the first error of a worker, or that one died.
    """
    n_jobs = ref.sweep.n_jobs
    if n_jobs == 1 or "fork" not in mp.get_all_start_methods():
        return work(runner, ref, 0, quiet=True)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_child, args=(runner, ref, w, queue), daemon=False)
        for w in range(n_jobs)
    ]
    for p in procs:
        p.start()
    results, errors, reported = {"complete": 0, "failed": 0}, [], set()
    while len(reported) < len(procs):
        try:
            worker, status, payload = queue.get(timeout=1.0)
        except queue_module.Empty:
            # a worker that died without reporting (killed, out of memory)
            dead = [
                w
                for w, p in enumerate(procs)
                if w not in reported and not p.is_alive() and queue.empty()
            ]
            for w in dead:
                reported.add(w)
                errors.append(
                    f"sweep worker {w} died (exit code {procs[w].exitcode}); "
                    "run the same command again to finish the study"
                )
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
