"""A gas price series (``backtest.gas_price_path``), per bar and causal.

The file is a table (CSV, ``.csv.gz``, Parquet, Feather, or JSON records /
JSON lines) with one row per block or per minute:

* a **time** column (``time``, ``timestamp``, ``block_timestamp``, ``date``,
  ``datetime``, ``ts``; epoch s/ms/µs/ns or ISO text, UTC unless it carries an
  offset) and/or a **block** column (``block``, ``block_number``,
  ``number``);
* the price in gwei: ``base_fee_gwei`` plus an optional
  ``priority_fee_gwei`` (the tip; missing: 0), or one ``gas_price_gwei``.

Each bar gets the last observation *at or before its open* — by block when
the file and the bars both have block numbers, else by time. A bar before the
first observation is refused unless it lies within one observation interval
of it (then it takes the first); a bar whose last observation is more than
:data:`MAX_AGE_STEPS` intervals old is refused too: a gas price is not
carried across a hole in the file.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError, ParameterError
from ethpredict.io.files import open_text, read_bytes
from ethpredict.io.tables import OHLCV_SUFFIXES
from ethpredict.io.times import parse_times
from ethpredict.timeaxis import epoch_ns

TIME_COLUMNS = ("time", "timestamp", "block_timestamp", "date", "datetime", "ts")
BLOCK_COLUMNS = ("block", "block_number", "number")
#: gwei above this is almost surely wei or a typo (the 2021 peaks were ~2,000)
MAX_GWEI = 100_000.0
#: a bar's last observation may be at most this many observation steps old
MAX_AGE_STEPS = 10
SUFFIXES = (*OHLCV_SUFFIXES, ".jsonl", ".jsonl.gz")  # tables and JSON lines
PARAM = "backtest.gas_price_path"


def _read(path: Path) -> tuple[pd.DataFrame, int]:
    """The table and the file line of its first row."""
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        raise ParameterError(
            f"{PARAM} '{path}': unknown file type; expected one of {', '.join(SUFFIXES)}"
        )
    try:
        if name.endswith((".csv", ".csv.gz")):
            return pd.read_csv(io.BytesIO(read_bytes(path))), 2
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path), 1
        if name.endswith((".feather", ".ftr")):
            return pd.read_feather(path), 1
        with open_text(path) as fh:
            text = fh.read()
        if name.endswith((".jsonl", ".jsonl.gz")):
            rows = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        else:
            doc = json.loads(text)
            rows = doc.get("result", doc) if isinstance(doc, dict) else doc
        if isinstance(rows, dict):  # {"column": [values]}
            return pd.DataFrame(rows), 1
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DataValidationError(
                "expected JSON records (a list of objects) or columns (an object "
                "of lists)",
                file=str(path),
            )
        return pd.DataFrame.from_records(rows), 1
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, DataValidationError):
            raise
        raise DataValidationError(
            f"cannot be read as a gas price table ({str(exc).splitlines()[0][:200]})",
            file=str(path),
        ) from None


def _pick(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def _numbers(frame, col, label, lines, *, lo=0.0, hi=MAX_GWEI, unit="gwei"):
    raw = frame[col]
    v = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(v) | (v < lo) | (v > hi))
    if bad.size:
        i = int(bad[0])
        why = (
            f"{v[i]:g} {unit} is above {hi:g}"
            + (" (is it in wei?)" if unit == "gwei" else "")
            if np.isfinite(v[i]) and v[i] > hi
            else f"'{raw.iat[i]}' is not a number ≥ {lo:g}"
        )
        raise DataValidationError(why, file=label, row=int(lines[i]), column=str(col))
    return v


def read_gas_prices(path: str | Path) -> dict:
    """The file's observations: ``gwei`` and ``time_ns`` and/or ``block``
    (sorted, unique), ``label``, ``lines``.

    Raises:
        ParameterError: the path is missing or of an unknown type.
        DataValidationError: a column is missing or a value is bad (file,
            line, column named).
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"{PARAM} '{path}' is not a file")
    frame, first = _read(path)
    label = str(path)
    if frame.empty:
        raise DataValidationError("the gas price table has no rows", file=label)
    cols = ", ".join(map(str, frame.columns))
    lines = np.arange(first, first + len(frame))
    tcol, bcol = _pick(frame, TIME_COLUMNS), _pick(frame, BLOCK_COLUMNS)
    if tcol is None and bcol is None:
        raise DataValidationError(
            f"no time or block column (looked for {', '.join(TIME_COLUMNS)}, "
            f"{', '.join(BLOCK_COLUMNS)}); the file has {cols}",
            file=label,
        )
    base, tip = _pick(frame, ("base_fee_gwei",)), _pick(frame, ("priority_fee_gwei",))
    total = _pick(frame, ("gas_price_gwei",))
    if base is not None and total is not None:
        raise DataValidationError(
            f"both {base} and {total}: give base_fee_gwei (+ priority_fee_gwei) or "
            "gas_price_gwei, not both",
            file=label,
            column=str(total),
        )
    if base is None and total is None:
        raise DataValidationError(
            "no gas price column: expected base_fee_gwei (and optionally "
            f"priority_fee_gwei) or gas_price_gwei; the file has {cols}",
            file=label,
        )
    gwei = _numbers(frame, total if base is None else base, label, lines)
    if base is not None and tip is not None:
        gwei = gwei + _numbers(frame, tip, label, lines)
    out: dict = {"gwei": gwei, "label": label, "lines": lines}
    if tcol is not None:
        out["time_ns"] = parse_times(
            frame[tcol], label=label, column=str(tcol), lines=lines
        )
    if bcol is not None:
        b = _numbers(frame, bcol, label, lines, hi=1e12, unit="as a block number")
        if (b != np.floor(b)).any():
            i = int(np.flatnonzero(b != np.floor(b))[0])
            raise DataValidationError(
                f"block {b[i]:g} is not a whole number",
                file=label,
                row=int(lines[i]),
                column=str(bcol),
            )
        out["block"] = b.astype(np.int64)
    for key, col in (("block", bcol), ("time_ns", tcol)):
        if key in out:
            d = np.diff(out[key])
            bad = np.flatnonzero(d <= 0)
            if bad.size:
                i = int(bad[0]) + 1
                what = "repeats" if d[i - 1] == 0 else "goes back from"
                raise DataValidationError(
                    f"rows must be in increasing {key.removesuffix('_ns')} order: "
                    f"this row {what} the previous one (line {lines[i - 1]})",
                    file=label,
                    row=int(lines[i]),
                    column=str(col),
                )
    return out


def _align(
    obs: np.ndarray, at: np.ndarray, gwei: np.ndarray, label, what: str, show
) -> np.ndarray:
    """The last ``obs`` ≤ each ``at``, within the documented tolerances."""
    step = int(np.median(np.diff(obs))) if obs.size > 1 else 0
    j = np.searchsorted(obs, at, side="right") - 1
    early = (j < 0) & (at >= obs[0] - step)
    if ((j < 0) & ~early).any():
        i = int(np.flatnonzero((j < 0) & ~early)[0])
        raise ParameterError(
            f"{PARAM} '{label}': the gas prices start at {what} {show(obs[0])}, after "
            f"the bars' {what} {show(at[i])}; the series must cover the bars (one "
            "observation interval of slack at the start)"
        )
    j = np.where(early, 0, j)
    if step:
        age = at - obs[j]
        old = np.flatnonzero(age > MAX_AGE_STEPS * step)
        if old.size:
            i = int(old[0])
            raise ParameterError(
                f"{PARAM} '{label}': no gas price for the bar at {what} {show(at[i])} "
                f"— the last one is at {show(obs[j[i]])}, more than {MAX_AGE_STEPS} "
                f"observation intervals before it (a hole in the series, or it ends "
                "before the bars)"
            )
    return gwei[j]


def gas_price_per_bar(
    path: str, index: pd.DatetimeIndex, blocks: np.ndarray | None = None
) -> np.ndarray:
    """The gas price in gwei (base fee + priority fee) for each bar: the last
    observation at or before the bar's open (by block number when both the
    file and ``blocks`` have them, else by time).

    Args:
        path: ``backtest.gas_price_path``.
        index: The bars' open times (UTC).
        blocks: The bars' block numbers, if known.

    Returns:
        float64 gwei, one per bar (empty for an empty index).

    Raises:
        ParameterError: the file does not cover the bars (see the module
            docstring), or it is per block only and ``blocks`` is None.
        ValueError: ``blocks`` is not one per bar.
        DataValidationError: a malformed file (file, line, column named).
    """
    g = read_gas_prices(path)
    if not len(index):
        return np.empty(0)
    if blocks is not None and "block" in g:
        blocks = np.asarray(blocks, dtype=np.int64)
        if blocks.shape != (len(index),):
            raise ValueError(
                f"blocks has shape {blocks.shape}; expected ({len(index)},)"
            )
        return _align(g["block"], blocks, g["gwei"], g["label"], "block", str)
    if "time_ns" not in g:
        raise ParameterError(
            f"{PARAM} '{g['label']}' is per block (no time column) but the bars have "
            "no block numbers; add a time column (e.g. block_timestamp)"
        )

    def show(ns) -> str:
        return pd.Timestamp(int(ns), tz="UTC").isoformat()

    return _align(g["time_ns"], epoch_ns(index), g["gwei"], g["label"], "time", show)
