"""The default study storage: an Optuna journal file on this machine.

Optuna's ``JournalStorage`` keeps the study in memory and appends each change
to a log file, so reading the trials back — which TPE does on every ``ask`` —
costs no database round trip (a sweep trial's Optuna share: 8–17 ms instead
of 25–35 ms on SQLite, ``docs/benchmarks.md``). It has no heartbeats, so a
trial's heartbeat is a system attribute written by its worker
(:func:`record_heartbeat`), read by :func:`stale_trials`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.storages.journal import (
    JournalFileBackend,
    JournalFileOpenLock,
    JournalStorage,
)
from optuna.storages.journal._file import get_lock_file  # the backend's own lock
from optuna.trial import FrozenTrial, TrialState

#: a trial's last heartbeat (seconds since the epoch) on a journal storage
HEARTBEAT_ATTR = "ethpredict:heartbeat"
#: a lock file older than this is a killed writer's (an append takes ms)
LOCK_GRACE_S = 10


class JournalFile(JournalFileBackend):
    """Optuna's journal file, safe against a writer killed mid-line.

    A ``kill -9`` during an append (a trial's result is several pages) can
    leave a last line without its newline; Optuna would append the next log
    to it and then refuse the whole file. Before each append, under the
    file's lock, a torn last line is cut off: it was never a complete log,
    so no reader has applied it."""

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs)
        with get_lock_file(self._lock), open(self._file_path, "r+b") as f:
            _cut_torn_tail(f)
            f.seek(0, os.SEEK_END)
            f.write((text + "\n").encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())


def _cut_torn_tail(f) -> None:
    """Truncate ``f`` after its last newline if it does not end with one."""
    end = f.seek(0, os.SEEK_END)
    if end == 0:
        return
    f.seek(end - 1)
    if f.read(1) == b"\n":
        return
    pos = end
    while pos > 0:
        start = max(0, pos - 65536)
        f.seek(start)
        block = f.read(pos - start)
        i = block.rfind(b"\n")
        if i >= 0:
            f.truncate(start + i + 1)
            return
        pos = start
    f.truncate(0)


def open_journal(path: Path) -> JournalStorage:
    """The journal storage in ``path`` (made, with its folder, if absent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = JournalFileOpenLock(str(path), grace_period=LOCK_GRACE_S)
    return JournalStorage(JournalFile(str(path), lock_obj=lock))


def record_heartbeat(storage: JournalStorage, trial_id: int) -> None:
    """Mark the running trial ``trial_id`` alive now."""
    storage.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())


def stale_trials(study: optuna.Study, grace_s: float) -> list[FrozenTrial]:
    """Running trials without a heartbeat (or, before their first one,
    without a start) for more than ``grace_s`` seconds: their worker died."""
    now = time.time()
    out = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        last = t.system_attrs.get(HEARTBEAT_ATTR)
        if last is None and t.datetime_start is not None:
            last = t.datetime_start.timestamp()
        if last is not None and now - float(last) > grace_s:
            out.append(t)
    return out
