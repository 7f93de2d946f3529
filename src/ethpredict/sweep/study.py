"""The Optuna study of a sweep: where it is stored, what identifies it, how
it is opened, and the sampler each worker draws with."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
from kedro.pipeline import Pipeline
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ethpredict.params import Distribution, Parameters, SweepParams
from ethpredict.secrets import redact
from ethpredict.sweep import journal
from ethpredict.sweep.grid import ExactGridSampler
from ethpredict.sweep.plan import SweepError

# heartbeats are "experimental" in Optuna 5 and say so on every storage opened
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

HEARTBEAT_S = 5  # a trial without a heartbeat for 4x this is failed
#: sweep keys that do not change what a study is (so the same study resumes)
RUN_ONLY = (
    "n_trials",
    "n_jobs",
    "timeout_s",
    "storage",
    "storage_credentials",
    "study_name",
    "max_failures",
    "mlflow_trials",
    "report_rows",
)


@dataclass(frozen=True)
class StudyRef:
    """Where a sweep's study is and how it is run: what every worker needs
    to open it.

    Args:
        url: the storage URL, with its password (``redact`` it to show it).
        name: the study's name in that storage.
        sweep: the sweep's parameters.
    """

    url: str
    name: str
    sweep: SweepParams

    def load(self, storage: optuna.storages.BaseStorage | None = None) -> optuna.Study:
        """The study, from ``storage`` or from a storage opened on ``url``."""
        if storage is None:
            storage = open_storage(self.url)
        return optuna.load_study(study_name=self.name, storage=storage)


def distributions(space: dict[str, Distribution]) -> dict[str, BaseDistribution]:
    """``sweep.space`` as Optuna distributions."""
    out: dict[str, BaseDistribution] = {}
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


def worker_seed(sp: SweepParams, worker: int, n_trials_so_far: int) -> int:
    """The sampler seed of one worker.

    A new seed per worker and per resumption: a resumed sweep must not replay
    the values it already tried. With several processes, maybe on several
    machines, that may start on the same study at once, the host and process
    are mixed in, so that none replays another's values (parallel studies are
    not reproducible trial by trial anyway).

    Args:
        sp: the sweep (its ``seed``, ``n_jobs`` and ``storage``).
        worker: the worker's index on this machine.
        n_trials_so_far: trials in the study, in any state.
    """
    seed = sp.seed + 1_000_003 * worker + n_trials_so_far
    if sp.n_jobs > 1 or sp.storage is not None:
        mixed = f"{seed}:{socket.gethostname()}:{os.getpid()}".encode()
        seed = int.from_bytes(hashlib.sha256(mixed).digest()[:4], "little")
    return seed


def make_sampler(
    sp: SweepParams, seed: int, worker: int = 0
) -> optuna.samplers.BaseSampler:
    """The sampler ``sp.sampler`` names (the grid ignores ``seed``: its order
    is ``sp.seed``'s in every worker)."""
    if sp.sampler == "grid":
        return ExactGridSampler(sp, worker)
    if sp.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)


def default_storage(project_path: Path) -> str:
    """``<project>/data/09_tracking/optuna.journal``: a journal file."""
    return str(project_path / "data" / "09_tracking" / "optuna.journal")


def is_rdb(url: str) -> bool:
    """An RDB URL (``sqlite:///…``, ``postgresql://…``), not a journal file."""
    return "://" in url


def record_heartbeat(storage: optuna.storages.BaseStorage, trial_id: int) -> None:
    """Mark a running trial alive: Optuna's heartbeat on an RDB (the
    database's clock, right for several machines), a system attribute on a
    journal file (one machine's clock)."""
    if isinstance(storage, optuna.storages.RDBStorage):
        storage.record_heartbeat(trial_id)
    else:
        journal.record_heartbeat(storage, trial_id)


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


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """The journal file at ``url`` (a path), or an RDB storage with
    heartbeats (SQLite in WAL mode). Retries the schema creation race of
    several workers starting on an empty database."""
    if not is_rdb(url):
        try:
            return journal.open_journal(Path(url))
        except (OSError, ValueError) as exc:
            raise SweepError(
                f"sweep.storage: cannot open the journal file {url}: {exc} "
                "(a path to an Optuna journal file, or an RDB URL such as "
                "sqlite:///data/09_tracking/optuna.db)"
            ) from None
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 60}}
    last: Exception | None = None
    for attempt in range(8):
        try:
            storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=kwargs,
                heartbeat_interval=HEARTBEAT_S,
                grace_period=4 * HEARTBEAT_S,
            )
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
            raise SweepError(
                f"sweep.storage: {redact(url)} needs {exc.name}: pip install "
                '"psycopg[binary]" for PostgreSQL'
            ) from None
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
    storage: optuna.storages.BaseStorage, ref: StudyRef, print_: str, attrs: dict
) -> optuna.Study:
    """Create the study or load it; refuse one created by another config.

    Args:
        storage: an open storage at ``ref.url``.
        ref: the study.
        print_: its :func:`fingerprint`.
        attrs: user attributes set when the study is created (the report's
            objectives, pipeline, sampler and space).
    """
    directions = list(ref.sweep.objectives.values())
    for attempt in range(8):
        try:
            study = optuna.create_study(
                storage=storage,
                study_name=ref.name,
                directions=directions,
                load_if_exists=True,
            )
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
            f"study '{ref.name}' in {redact(ref.url)} was made with other parameters, "
            "objectives or pipeline; set a new sweep.study_name (or leave it null)"
        )
    if [d.name.lower() for d in study.directions] != directions:
        raise SweepError(f"study '{ref.name}' has other objective directions")
    return study
