"""A pool's files: which form a folder holds, its events in chain order
(checked for overlaps), and :func:`read_pool` — bars, swaps and liquidity."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ethpredict.errors import DataValidationError
from ethpredict.io.files import list_files, read_bytes
from ethpredict.io.tables import SourceFrame
from ethpredict.io.uniswap.bars import bars_from_swaps
from ethpredict.io.uniswap.pools import ADDRESS, CHAIN_BLOCK_S, Pool, resolve_pool
from ethpredict.io.uniswap.prices import block_time_s, liquidity_series, swaps_table
from ethpredict.io.uniswap.readers import (
    read_decoded,
    read_minutes,
    read_raw_csv,
    read_raw_json,
)
from ethpredict.params import INTERVALS_S, UniswapParams
from ethpredict.timeaxis import epoch_ns, in_window

log = logging.getLogger(__name__)
UNISWAP_SUFFIXES = (".csv", ".csv.gz", ".json", ".json.gz", ".jsonl", ".jsonl.gz")
_NAME_KINDS = (
    (".tx.raw.", "other"),
    (".rel-price.", "other"),
    (".raw.", "raw"),
    (".pool.tick.", "decoded"),
    (".minute.", "minute"),
    (".tick.", "decoded_proxy"),
)
_HEADER_KINDS = (("topics", "raw"), ("tx_type", "decoded"), ("closeTick", "minute"))
_JSON = (".json", ".json.gz", ".jsonl", ".jsonl.gz")


def _csv(path: Path, **kw) -> pd.DataFrame:
    """A CSV (gzip by content: a truncated one is one line; BOM dropped)."""
    return pd.read_csv(io.BytesIO(read_bytes(path)), **kw)


def _kind(path: Path) -> str:
    """raw / decoded / decoded_proxy / minute / other, from the file name (in
    demeter-fetch's naming) or else from the CSV header."""
    name = path.name.lower()
    if name.endswith(_JSON):
        return "raw"
    kind = next((k for tag, k in _NAME_KINDS if tag in name), None)
    if kind is None:
        head = set(_csv(path, nrows=0).columns)
        kind = next((k for col, k in _HEADER_KINDS if col in head), "other")
    return kind


@dataclass
class PoolData:
    """What a pool's files give."""

    pool: Pool
    form: str
    bars: list[SourceFrame]
    swaps: pd.DataFrame
    liquidity: pd.DataFrame
    files: list[str]
    other_logs: int = 0
    events: int = 0
    removed_logs: int = 0  # re-orged away ("removed": true), dropped


def _choose_files(path, p: UniswapParams) -> tuple[str, list[Path], str | None]:
    """The form to read, its files and the pool address in their names."""
    files = list_files(path, UNISWAP_SUFFIXES, "Uniswap v3")
    kinds = {f: _kind(f) for f in files}
    want = {
        "auto": ["raw", "decoded", "decoded_proxy", "minute"],
        "raw": ["raw"],
        "decoded": ["decoded", "decoded_proxy"],
        "minute": ["minute"],
    }[p.form]
    form = next((k for k in want if k in kinds.values()), None)
    if form is None:
        found = ", ".join(sorted(set(kinds.values()))) or "none"
        raise DataValidationError(
            f"data.path '{path}' holds no Uniswap v3 {p.form if p.form != 'auto' else ''}"
            f" files (file kinds found: {found}); expected raw logs (*.raw.csv, "
            "eth_getLogs JSON), decoded events (*.pool.tick.csv) or per-minute "
            "summaries (*.minute.csv)"
        )
    chosen = [f for f in files if kinds[f] == form]
    found = {m.group(0).lower() for f in chosen if (m := ADDRESS.search(f.name))}
    if len(found) > 1:
        raise DataValidationError(
            f"data.path '{path}' holds files of several pools ({', '.join(sorted(found))})"
        )
    return form, chosen, next(iter(found), None)


def _read_events(
    chosen: list[Path], form: str
) -> tuple[pd.DataFrame, int, str | None, int]:
    """Every event of the files, in chain order, checked for overlaps; the
    counts of other logs and of re-orged logs dropped (one log line)."""
    parts, other, addresses, removed = [], 0, set(), 0
    for f in chosen:
        gone = 0
        if f.name.endswith(_JSON):
            ev, o, address, gone = read_raw_json(f)
            addresses |= {address} - {None}
        elif form == "raw":
            ev, o, gone = read_raw_csv(_csv(f, dtype=str), str(f))
        else:
            ev, o = read_decoded(_csv(f), str(f)), 0
        ev["file"] = str(f)
        parts.append(ev)
        other += o
        removed += gone
    if removed:
        log.warning(
            'Dropped %d log(s) marked "removed": true (their block was re-orged '
            "away) from %s",
            removed,
            ", ".join(str(f) for f in chosen),
        )
    if len(addresses) > 1:
        raise DataValidationError(
            f"the JSON log files hold logs of several pools ({', '.join(sorted(addresses))})"
        )
    events = pd.concat(parts, ignore_index=True)
    events = events.sort_values(["block", "log_index"], kind="stable")
    dup = events.duplicated(["block", "log_index"]).to_numpy()
    if dup.any():
        r = events.iloc[int(np.flatnonzero(dup)[0])]
        raise DataValidationError(
            f"the log at block {r['block']}, index {r['log_index']} appears twice "
            "(overlapping files?)",
            file=r["file"],
            row=int(r["line"]),
        )
    back = np.flatnonzero(np.diff(events["time_ns"].to_numpy()) < 0)
    if back.size:
        r = events.iloc[int(back[0]) + 1]
        raise DataValidationError(
            f"block {r['block']} has an earlier timestamp than block "
            f"{events['block'].iat[int(back[0])]}",
            file=r["file"],
            row=int(r["line"]),
            column="block_timestamp",
        )
    return events.reset_index(drop=True), other, next(iter(addresses), None), removed


def read_pool(
    path: str | Path,
    p: UniswapParams,
    interval: str | None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> PoolData:
    """Read a pool's files (see :mod:`ethpredict.io.uniswap`) into bars,
    swaps and the liquidity series.

    Args:
        path: A pool file or a folder of them.
        p: The ``data.uniswap`` parameters (form, the pool's tokens).
        interval: The bar interval (``"1m"`` …); None: one bar per block
            (per-minute summaries: 1m bars).
        start_ns: Swaps and liquidity from this time on (epoch ns); bars are
            windowed by the caller. None: from the first.
        end_ns: Swaps and liquidity before this time (epoch ns); None: all.

    Returns:
        The pool, the form read, the bars (one source frame), the swaps as
        trades, the liquidity series, the files and the event counts.
    """
    form, chosen, address = _choose_files(path, p)
    names = [str(f) for f in chosen]
    if form == "minute":
        if interval not in (None, "1m"):
            raise DataValidationError(
                f"per-minute pool summaries are 1m bars; data.interval is '{interval}'"
            )
        pool = resolve_pool(p, address)
        if pool.block_time_s is None:
            block = CHAIN_BLOCK_S.get(pool.chain)
            pool = Pool(**{**pool.__dict__, "block_time_s": block})
        bars, liq = [], []
        for f in chosen:
            frame = _csv(f)
            src = read_minutes(frame, str(f), pool)
            bars.append(src)
            if "currentLiquidity" in frame:
                level = pd.to_numeric(frame["currentLiquidity"], errors="coerce")
                keep = in_window(src.time_ns, start_ns, end_ns)
                liq.append(
                    pd.DataFrame(
                        {
                            "time": pd.to_datetime(
                                src.time_ns[keep], unit="ns", utc=True
                            ),
                            "liquidity": level.to_numpy(np.float64)[keep],
                            "price": src.values["close"].to_numpy()[keep],
                        }
                    )
                )
        empty = pd.DataFrame(columns=["time", "price", "qty", "side"])
        liquidity = pd.concat(liq, ignore_index=True) if liq else pd.DataFrame()
        return PoolData(pool, form, bars, empty, liquidity, names)

    events, other, json_address, removed = _read_events(chosen, form)
    if address and json_address and address != json_address:
        raise DataValidationError(
            f"the file names say pool {address} but the logs come from {json_address}",
            file=names[0],
        )
    pool = resolve_pool(p, address or json_address)
    if pool.block_time_s is None:
        pool = Pool(**{**pool.__dict__, "block_time_s": block_time_s(events)})
    liquidity = liquidity_series(events, pool)
    liquidity = liquidity.loc[in_window(epoch_ns(liquidity["time"]), start_ns, end_ns)]
    swaps = swaps_table(events, pool)
    swaps = swaps.loc[in_window(epoch_ns(swaps["time"]), start_ns, end_ns)]
    if len(swaps) < 2:
        raise DataValidationError(
            f"data.path '{path}' holds {len(swaps)} swap(s) in the selected period; "
            "bars need at least 2"
        )
    label = chosen[0].name if len(chosen) == 1 else f"{len(chosen)} pool files"
    step = INTERVALS_S[interval] if interval else int(pool.block_time_s)
    bars = [bars_from_swaps(swaps.reset_index(drop=True), step, label)]
    return PoolData(
        pool,
        form,
        bars,
        swaps.reset_index(drop=True),
        liquidity.reset_index(drop=True),
        names,
        other,
        len(events),
        removed,
    )
