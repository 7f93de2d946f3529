"""Runs that never mix.

* **One run at a time in a project.** A run takes ``data/.run.lock`` before
  its first node (after a sweep's trials, which write nothing there, so the
  workers of a shared study still run side by side); a second run waits for
  it and says so in one line.
* **Stale temporary files are removed at start.** Outputs are written to
  ``.<name>.<pid>.<random>.tmp`` beside their target and renamed
  (:mod:`ethpredict.io.atomic`); a run that was killed leaves its temporary
  file behind, and the next run removes those whose process is gone.
* **Every output records what it was made from** (``data/.lineage.json``):
  the run that made it (command, pipeline, status, the fingerprint of its
  parameters), its content hash, and the hashes of every output it was made
  from, transitively (the bars and the data manifest included). A pipeline
  whose inputs hold two versions of one dataset — predictions made from the
  bars a failed run has since replaced, say — stops before any node with one
  line naming them, unless ``ETHPREDICT_ALLOW_MIXED_RUNS=1``. Re-making an
  output with the same content (the same data, the same parameters) is no
  new version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

from ethpredict.errors import ETHPredictError
from ethpredict.io.atomic import atomic_path

log = logging.getLogger(__name__)

LOCK_NAME = ".run.lock"
LINEAGE_NAME = ".lineage.json"
#: runs kept in the lineage file besides those that made a current output
KEEP_RUNS = 20
ALLOW_MIXED = "ETHPREDICT_ALLOW_MIXED_RUNS"
#: ``.<target>.<pid>.<random>.tmp`` (and, from before pids, ``.<target>.<random>.tmp``)
_TMP = re.compile(r"^\..+\.tmp$")
_TMP_PID = re.compile(r"^\..+\.(?P<pid>\d+)\.[^.]+\.tmp$")
#: a temporary file with no pid in its name is stale after this long
STALE_S = 600.0


class MixedRunsError(ETHPredictError):
    """A pipeline's inputs were made by runs that do not belong together."""


def fingerprint(value: Any) -> str:
    """A short, stable hash of a JSON-able value."""
    blob = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temps(data: Path, now: float | None = None) -> list[Path]:
    """Remove the temporary files of writes that never finished: those whose
    writer process is gone, or (no pid in the name) older than
    :data:`STALE_S`. Returns what was removed."""
    import time

    now = time.time() if now is None else now
    removed = []
    if not data.is_dir():
        return removed
    for path in data.rglob(".*.tmp"):
        if not path.is_file() or not _TMP.match(path.name):
            continue
        m = _TMP_PID.match(path.name)
        try:
            stale = (
                (not _alive(int(m["pid"])))
                if m
                else now - path.stat().st_mtime > STALE_S
            )
        except OSError:
            continue
        if stale:
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.warning(
            "removed %d temporary file(s) left by an interrupted run: %s",
            len(removed),
            ", ".join(str(p.relative_to(data)) for p in removed[:5]),
        )
    return removed


class RunLock:
    """An exclusive ``flock`` on ``data/.run.lock``, held for a run."""

    def __init__(self, data: Path) -> None:
        self.path = data / LOCK_NAME
        self._file = None

    def acquire(self, command: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+")  # noqa: SIM115 — held until release()
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another run"
            # one line, then wait: the other run ends (or is stopped) and this one goes on
            print(
                f"Another run is using this project ({holder}); waiting for it to end",
                file=sys.stderr,
                flush=True,
            )
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} since {_now()}: {command}")
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.seek(0)
                self._file.truncate()
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def file_hash(path: Path) -> str | None:
    """The SHA-256 (16 hex digits) of a file or of a folder's files."""
    h = hashlib.sha256()
    files = (
        sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    )
    try:
        for f in files:
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    except OSError:
        return None
    return h.hexdigest()[:16]


class Lineage:
    """``data/.lineage.json``: for each output, the run that made it, its
    content hash and the versions (hashes) of every output it was made from,
    transitively; for each run its command, status and the fingerprint of
    its parameters."""

    def __init__(self, data: Path) -> None:
        self.path = data / LINEAGE_NAME
        self.state: dict[str, Any] = {"runs": {}, "outputs": {}}
        if self.path.exists():
            try:
                state = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(state, dict) and {"runs", "outputs"} <= set(state):
                    self.state = state
            except (OSError, ValueError):
                log.warning(
                    "%s is unreadable; the lineage of older outputs is unknown",
                    self.path,
                )
        #: this run's in-memory datasets: the versions they were made from
        self._memory: dict[str, dict[str, str]] = {}

    def save(self) -> None:
        runs, outputs = self.state["runs"], self.state["outputs"]
        used = {o["run"] for o in outputs.values()}
        recent = sorted(runs, key=lambda r: runs[r]["started"])[-KEEP_RUNS:]
        self.state["runs"] = {r: v for r, v in runs.items() if r in used or r in recent}
        with atomic_path(self.path) as tmp:
            tmp.write_text(
                json.dumps(self.state, indent=1, sort_keys=True), encoding="utf-8"
            )

    def start(self, run_id: str, command: str, pipeline: str, params_fp: str) -> None:
        for run in self.state[
            "runs"
        ].values():  # none runs now: this one holds the lock
            if run["status"] == "running":
                run["status"] = "interrupted"
        self.state["runs"][run_id] = {
            "command": command,
            "pipeline": pipeline,
            "started": _now(),
            "status": "running",
            "parameters": params_fp,
        }
        self._memory = {}

    def made_from(self, inputs: list[str]) -> dict[str, str]:
        """The versions of everything ``inputs`` were made from, themselves included."""
        out: dict[str, str] = {}
        for name in inputs:
            rec = self.state["outputs"].get(name)
            if rec is not None:
                out.update(rec["from"])
                out[name] = rec["hash"]
            elif name in self._memory:
                out.update(self._memory[name])
        return out

    def node_ran(
        self, inputs: list[str], outputs: list[str], persisted: set[str]
    ) -> None:
        """Remember what this node's in-memory outputs were made from."""
        origin = self.made_from(inputs)
        for name in outputs:
            if name not in persisted:
                self._memory[name] = origin

    def saved(self, run_id: str, name: str, path: Path, inputs: list[str]) -> None:
        origin = self.made_from(inputs)
        origin.pop(name, None)
        self.state["outputs"][name] = {
            "run": run_id,
            "saved": _now(),
            "hash": file_hash(path),
            "from": origin,
        }

    def end(self, run_id: str, status: str) -> None:
        run = self.state["runs"].get(run_id)
        if run is not None:
            run["status"] = status

    def check(self, inputs: list[str]) -> None:
        """Stop when ``inputs`` hold two versions of one dataset: one input
        was made from a version of another (or of an ancestor they share)
        that has since been replaced."""
        outputs, runs = self.state["outputs"], self.state["runs"]
        seen: dict[
            str, dict[str, list[str]]
        ] = {}  # name -> hash -> inputs that carry it
        for x in inputs:
            rec = outputs.get(x)
            if rec is None or rec["hash"] is None:
                continue
            for name, h in {**rec["from"], x: rec["hash"]}.items():
                seen.setdefault(name, {}).setdefault(h, []).append(x)
        for name, versions in sorted(seen.items()):
            if len(versions) < 2:
                continue
            current = (outputs.get(name) or {}).get("hash")
            stale = sorted(
                {x for h, xs in versions.items() if h != current for x in xs}
            )
            newer = outputs.get(name, {})
            run = runs.get(newer.get("run"), {})
            made = (
                f"{name} was remade by `{run.get('command', '?')}` at "
                f"{newer.get('saved', '?')} ({run.get('status', 'unknown')})"
            )
            raise MixedRunsError(
                f"the inputs come from different runs: {made}, but {', '.join(stale)} "
                f"{'was' if len(stale) == 1 else 'were'} made from its earlier version; "
                f"run the pipelines that make {', '.join(stale)} again (e.g. `kedro run`), "
                f"or set {ALLOW_MIXED}=1 to use them as they are"
            )
