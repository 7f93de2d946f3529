"""``backtest.gas_price_path``: a gas price per bar, causal, from any table
format, per block or per minute, with every documented error."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ethpredict.errors import DataValidationError, ParameterError
from ethpredict.io.gas import gas_price_per_bar
from ethpredict.params import validate_parameters

T0 = pd.Timestamp("2024-01-05", tz="UTC")


def minutes(n=60, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range(T0, periods=n, freq="1min").strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "base_fee_gwei": rng.uniform(5, 40, n).round(3),
            "priority_fee_gwei": rng.uniform(0, 2, n).round(3),
        }
    )


def blocks_index(n: int, start=T0) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="12s", tz="UTC")


def slow(obs_t: np.ndarray, gwei: np.ndarray, at: np.ndarray) -> np.ndarray:
    return np.array(
        [gwei[[k for k in range(obs_t.size) if obs_t[k] <= t][-1]] for t in at]
    )


@pytest.mark.parametrize(
    "fmt", ["csv", "csv.gz", "parquet", "feather", "json", "jsonl"]
)
def test_per_minute_series_in_every_format(tmp_path, fmt):
    df = minutes()
    path = tmp_path / f"gas.{fmt}"
    if fmt.startswith("csv"):
        df.to_csv(path, index=False)
    elif fmt == "parquet":
        df.to_parquet(path)
    elif fmt == "feather":
        df.to_feather(path)
    elif fmt == "json":
        path.write_text(json.dumps(df.to_dict(orient="records")))
    else:
        path.write_text("\n".join(json.dumps(r) for r in df.to_dict(orient="records")))
    idx = blocks_index(290, T0 + pd.Timedelta(seconds=7))
    got = gas_price_per_bar(str(path), idx)
    t = pd.DatetimeIndex(pd.to_datetime(df["timestamp"], utc=True)).as_unit("ns").asi8
    total = (df["base_fee_gwei"] + df["priority_fee_gwei"]).to_numpy()
    want = slow(t, total, idx.as_unit("ns").asi8)
    np.testing.assert_array_equal(got, want)
    # a bar exactly at an observation takes it (at or before the open)
    at = pd.DatetimeIndex([T0 + pd.Timedelta(minutes=3)])
    assert gas_price_per_bar(str(path), at)[0] == total[3]


def test_per_block_series_by_block_number(tmp_path):
    rng = np.random.default_rng(1)
    blocks = np.arange(18_937_380, 18_937_480)
    df = pd.DataFrame(
        {"block_number": blocks, "gas_price_gwei": rng.uniform(5, 30, 100)}
    )
    df.to_parquet(tmp_path / "g.parquet")
    bar_blocks = np.arange(18_937_381, 18_937_470, 3)
    got = gas_price_per_bar(
        str(tmp_path / "g.parquet"), blocks_index(bar_blocks.size), bar_blocks
    )
    np.testing.assert_array_equal(
        got, df["gas_price_gwei"].to_numpy()[bar_blocks - blocks[0]]
    )
    # per block only and no block numbers for the bars: said so
    with pytest.raises(ParameterError, match="per block .* no block numbers"):
        gas_price_per_bar(str(tmp_path / "g.parquet"), blocks_index(5))
    # one block before the first is within one interval; two are not
    assert (
        gas_price_per_bar(str(tmp_path / "g.parquet"), blocks_index(1), blocks[:1] - 1)[
            0
        ]
        == df["gas_price_gwei"].iat[0]
    )
    with pytest.raises(ParameterError, match=r"g.parquet'.*start at block 18937380"):
        gas_price_per_bar(str(tmp_path / "g.parquet"), blocks_index(1), blocks[:1] - 2)


def test_coverage_of_the_bars(tmp_path):
    df = minutes(30)
    df.to_csv(tmp_path / "g.csv", index=False)
    path = str(tmp_path / "g.csv")
    # within one minute before the first observation: its price
    early = pd.DatetimeIndex([T0 - pd.Timedelta(seconds=48)])
    assert gas_price_per_bar(path, early)[0] == pytest.approx(
        df["base_fee_gwei"].iat[0] + df["priority_fee_gwei"].iat[0]
    )
    with pytest.raises(
        ParameterError, match=r"backtest.gas_price_path '.*g.csv'.*start"
    ):
        gas_price_per_bar(path, pd.DatetimeIndex([T0 - pd.Timedelta(seconds=61)]))
    # more than 10 intervals past the last observation, or over a hole: refused
    gas_price_per_bar(path, pd.DatetimeIndex([T0 + pd.Timedelta(minutes=39)]))
    with pytest.raises(ParameterError, match="more than 10 observation intervals"):
        gas_price_per_bar(path, pd.DatetimeIndex([T0 + pd.Timedelta(minutes=41)]))
    df.drop(index=range(5, 20)).to_csv(tmp_path / "hole.csv", index=False)
    with pytest.raises(ParameterError, match="no gas price for the bar at time"):
        gas_price_per_bar(str(tmp_path / "hole.csv"), blocks_index(150))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.drop(columns=["timestamp"]), "no time or block column"),
        (lambda d: d.drop(columns=["base_fee_gwei"]), "no gas price column"),
        (
            lambda d: d.assign(gas_price_gwei=1.0),
            "both base_fee_gwei and gas_price_gwei",
        ),
        (
            lambda d: d.assign(
                base_fee_gwei=d["base_fee_gwei"].where(d.index != 4, -1)
            ),
            r"g.csv, line 6, column 'base_fee_gwei': '-1.0' is not a number ≥ 0",
        ),
        (
            lambda d: d.assign(
                priority_fee_gwei=d["priority_fee_gwei"]
                .astype(str)
                .where(d.index != 2, "x")
            ),
            r"line 4, column 'priority_fee_gwei': 'x' is not a number",
        ),
        (
            lambda d: d.assign(base_fee_gwei=d["base_fee_gwei"] * 1e9),
            r"line 2, column 'base_fee_gwei': .* gwei is above 100000 \(is it in wei\?\)",
        ),
        (
            lambda d: d.iloc[[0, 2, 1]],
            r"line 4, column 'timestamp': rows must be in "
            "increasing time order",
        ),
        (lambda d: d.assign(timestamp="soon"), r"line 2, column 'timestamp'"),
    ],
)
def test_bad_files_are_named(tmp_path, edit, match):
    edit(minutes(10)).to_csv(tmp_path / "g.csv", index=False)
    with pytest.raises(DataValidationError, match=match):
        gas_price_per_bar(str(tmp_path / "g.csv"), blocks_index(10))


def test_paths_and_the_parameter(tmp_path):
    with pytest.raises(
        ParameterError, match="gas_price_path '/nowhere.csv' is not a file"
    ):
        gas_price_per_bar("/nowhere.csv", blocks_index(3))
    (tmp_path / "g.txt").write_text("x")
    with pytest.raises(ParameterError, match="unknown file type"):
        gas_price_per_bar(str(tmp_path / "g.txt"), blocks_index(3))
    p = validate_parameters({"backtest": {"gas_price_path": "data/01_raw/gas.csv"}})
    assert p.backtest.gas_price_path == "data/01_raw/gas.csv"
    assert validate_parameters({}).backtest.gas_price_path is None
