"""Whole-chain truncation (look-ahead) test.

freqtrade's ``lookahead-analysis`` re-runs a strategy on truncated data and
flags what changed. This goes further: the whole default chain
(data_engineering → labeling → modeling → market_making → backtesting; the
reporting nodes are left out) runs once on the embedded synthetic market and
once on the same file cut at bar ``t`` (``data.end``), and every output row
whose information is known by ``t`` must be the same in both runs, bit for
bit (model probabilities to their last bit: see ``TO_THE_LAST_BIT``). The
rule of each dataset is in ``COMPARED``; the fold table is compared fold by
fold. A difference is a look-ahead leak: something at or before ``t`` read a
bar after it (a full-sample normalisation, folds or a calibration anchored at
the end of the data, a centred window, a backward fill, ...).

The cut is placed where leaks hide: in the middle of a walk-forward test
window (the fold the cut falls in is refitted on nothing new, and must
predict exactly as before), between two recalibrations of the GLFT inputs
(and, for the defaults, once more right at a recalibration), after the meta
model has started, and with label windows still open. Two configurations:
the defaults, and one that takes the other branches of the chain.

Not compared, because they legitimately differ: ``data_manifest`` (the
span and bar count of the data read), ``model_metrics`` and
``backtest_metrics`` (totals over the whole run), ``primary_model`` and
``meta_model`` (the *last* fold's estimators, whose training windows the
truncated run never reaches).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from ethpredict.params import validate_parameters
from ethpredict.pipeline_registry import register_pipelines
from ethpredict.sweep import param_entries
from ethpredict.testing.data_engineering import Kept

pytestmark = pytest.mark.lookahead

TRAIN, TEST, CALIB, EVERY, HORIZON = 1440, 720, 240, 60, 10
#: the last bar (position) a truncated run sees. Both cuts fall in the fourth
#: test window [3600, 4320); calibrations are refitted at bars 239 + 60 j.
MID = 3990  # mid window: 31 bars after the refit at 3959, 29 before the next
REFIT = 3959  # at a refit: one that read even one bar ahead would show
DEFAULTS = {
    # the market without the planted signal: with it (signal_ic 0.1) the
    # variants' logistic probabilities of the last two bars before the cut
    # differ by 2.6e-7 relative — the scaled features are float32, so the
    # BLAS-order noise of a shorter test window is float32's, not float64's
    "data": {"synthetic": {"days": 4, "signal_ic": 0.0}},
    "features": {
        "zscore_window": 120,
        "fracdiff_window": 32,
        "vol_window": 30,
        "micro_window": 20,
    },
    "labels": {"cusum_vol_mult": 1.5, "vol_span": 50, "horizon": HORIZON},
    "model": {
        "progress": False,
        "gbt_iter": 20,
        "cv": {"train_bars": TRAIN, "test_bars": TEST, "embargo_bars": 10},
        "net": {"hidden": [16], "max_epochs": 4, "patience": 2, "batch_size": 128},
        "meta": {"min_events": 50},
    },
    "mm": {"calib_window": CALIB, "calib_every": EVERY},
    # the uncut book's drawdown first passes 1.5k USD on bar 5,182 (at most 1.74k)
    "risk": {"max_drawdown": 1_500.0},  # breached at bar 5,182, after both cuts
}
#: the other branches of the chain: rolling folds, a temporal network, time
#: decay, sign labels, the ensemble and a tree meta model, bet-size sizing on a
#: grid, a VaR cap, random fills and a drawdown stop that fires before the cut
#: (with the defaults it fires after it, in the uncut run only)
VARIANTS = {
    "labels": {"time_decay": 0.5, "vertical_label": "sign"},
    "model": {
        "kind": "ensemble",
        "cv": {"scheme": "rolling"},
        "net": {"arch": "conv", "window": 8},
        "meta": {"kind": "gbt"},
    },
    "mm": {"sizing": "bet_size", "levels": 2},
    "risk": {"max_var": 5000.0, "max_drawdown": 300.0},  # breached at bar 3,388
    "backtest": {"fill_model": "intensity"},
}


def merged(base: dict, over: dict) -> dict:
    """``base`` with ``over`` written into it, nested dicts merged."""
    out = dict(base)
    for key, value in over.items():
        nested = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = merged(base[key], value) if nested else value
    return out


CONFIGS = {"defaults": DEFAULTS, "variants": merged(DEFAULTS, VARIANTS)}

Rule = Callable[[pd.DataFrame, int, pd.Timestamp], pd.DataFrame]


def by_index(frame: pd.DataFrame, cut: int, t: pd.Timestamp) -> pd.DataFrame:
    """Rows of bars (or events, trades) at or before ``t``."""
    return frame[frame.index <= t]


def known_by(position: str) -> Rule:
    """Rows whose information is complete by bar ``cut``: the bar position in
    column ``position`` (−1: not yet known) is at or before it."""

    def rule(frame: pd.DataFrame, cut: int, t: pd.Timestamp) -> pd.DataFrame:
        at = frame[position].to_numpy()
        return frame[(at >= 0) & (at <= cut)]

    return rule


def fills_known(frame: pd.DataFrame, cut: int, t: pd.Timestamp) -> pd.DataFrame:
    """Fills in bars at or before ``t``; a markout at horizon ``h`` is only
    known at ``bar + h``, so later ones are blanked in both runs."""
    out = by_index(frame, cut, t).copy()
    for col in [c for c in out if c.startswith("markout_")]:
        h = int(col.removeprefix("markout_"))
        out.loc[out["bar"].to_numpy() + h > cut, col] = np.nan
    return out


def orders_known(frame: pd.DataFrame, cut: int, t: pd.Timestamp) -> pd.DataFrame:
    """Orders decided at or before bar ``cut``; what happens to an order after
    ``cut`` (going live, fills, its end) is blanked in both runs."""
    out = frame[frame["submit_bar"].to_numpy() <= cut].copy()
    later = lambda col: (out[col].to_numpy() < 0) | (out[col].to_numpy() > cut)  # noqa: E731
    live, ended = later("live_bar"), later("end_bar")
    out.loc[live, ["live_bar"]] = -1
    out.loc[ended, ["end_bar"]] = -1
    out.loc[ended, "filled"] = np.nan
    out["end_reason"] = out["end_reason"].astype(str).where(~ended, "open")
    return out


#: every compared dataset and its rule
COMPARED: dict[str, Rule] = {
    "bars": by_index,
    "trades": by_index,
    "pool_liquidity": by_index,
    "features_base": by_index,
    "features_advanced": by_index,
    "features_reference": by_index,
    "model_input": by_index,
    "events": by_index,
    "labels": known_by("t1_idx"),
    "model_predictions": by_index,
    "predictions": by_index,
    "meta_events": known_by("t1_idx"),
    "calibration": by_index,
    "signal": by_index,
    "quotes": by_index,
    "quotes_baseline": by_index,
    "book": by_index,
    "book_baseline": by_index,
    "fills": fills_known,
    "fills_baseline": fills_known,
    "orders": orders_known,
    "orders_baseline": orders_known,
}
#: see the module docstring; ``folds`` has its own test; whole-period
#: summaries (lp_baselines: empty off a pool)
NOT_COMPARED = {
    "data_manifest",
    "model_metrics",
    "backtest_metrics",
    "primary_model",
    "meta_model",
    "folds",
    "venue",
    "fill_rule_sensitivity",
    "lp_baselines",
}


def run_chain(params: dict) -> dict:
    """The default pipeline without reporting, on an in-memory catalog."""
    pipes = register_pipelines()
    pipe = pipes["__default__"] - pipes["reporting"]
    entries = param_entries(validate_parameters(params))
    catalog = DataCatalog(
        {
            **{name: MemoryDataset(value) for name, value in entries.items()},
            **{name: Kept() for name in pipe.all_outputs()},
        }
    )
    SequentialRunner().run(pipe, catalog)
    return {name: catalog[name].load() for name in pipe.all_outputs()}


#: (configuration, cut): every configuration at the mid-window cut, the
#: defaults also at a recalibration
CASES = [("defaults", MID), ("defaults", REFIT), ("variants", MID)]


@pytest.fixture(scope="module")
def uncut(tmp_path_factory) -> Callable[[str], tuple[str, dict]]:
    """Per configuration: the synthetic file's folder and the uncut run."""
    cache: dict = {}

    def get(config: str) -> tuple[str, dict]:
        if config not in cache:
            raw = str(tmp_path_factory.mktemp(config))
            cache[config] = (
                raw,
                run_chain(merged(CONFIGS[config], {"data": {"path": raw}})),
            )
        return cache[config]

    return get


@pytest.fixture(scope="module", params=CASES, ids=[f"{c}-cut{k}" for c, k in CASES])
def runs(request, uncut) -> tuple[dict, dict, int, pd.Timestamp]:
    """The chain on the whole synthetic file and on the same file cut after
    bar ``cut`` (``data.end``, exclusive), that bar and its time."""
    config, cut = request.param
    raw, full = uncut(config)
    end = full["bars"].index[cut + 1].to_pydatetime()
    part = run_chain(merged(CONFIGS[config], {"data": {"path": raw, "end": end}}))
    return full, part, cut, full["bars"].index[cut]


def test_the_cut_is_the_nasty_case(runs, request):
    full, part, cut, t = runs
    assert len(part["bars"]) == cut + 1 and part["bars"].index[-1] == t
    assert TRAIN + 3 * TEST < cut < TRAIN + 4 * TEST  # mid test window
    since_refit = (cut - (CALIB - 1)) % EVERY
    assert since_refit == (0 if cut == REFIT else EVERY // 2 + 1)
    # the meta model running (whether its verdicts size bets depends on its AUC)
    assert part["predictions"]["meta_prob"].notna().any()
    assert (part["labels"]["t1_idx"] < 0).any()  # label windows still open at t
    # the drawdown stop fires in the uncut run: after t with the defaults (the
    # cut run never stops), before t with the variants (both stop alike)
    halted = full["book"]["halted"] > 0
    variants = "variants" in request.node.name
    assert halted.any() and (halted.idxmax() <= t) == variants
    if not variants:  # quoting and filling right up to the cut
        assert (part["fills"].index > t - pd.Timedelta("30min")).any()


def test_every_output_is_covered(runs):
    full = runs[0]
    assert set(full) == set(COMPARED) | NOT_COMPARED


#: Frames holding a model's probabilities (and what is computed from them),
#: compared to 1e-12 relative: a fold predicts its whole test window with one
#: matrix product, and BLAS sums a row's dot product in an order that depends
#: on the number of rows (a cut test window has fewer), so a row can differ in
#: its last bit — seen once in 2,551 rows here, in the meta model's logistic
#: regression. Nothing else is involved: the models, scalers and inputs of
#: the cut fold are identical, and everything else is compared bit for bit
#: (the backtest rounds quotes to the tick, so last-bit noise does not reach
#: the book on this data).
TO_THE_LAST_BIT = {"model_predictions", "predictions", "signal", "quotes"}


@pytest.mark.parametrize("name", list(COMPARED))
def test_outputs_known_by_t_are_unchanged_by_the_cut(runs, name):
    full, part, cut, t = runs
    rule = COMPARED[name]
    a, b = rule(full[name], cut, t), rule(part[name], cut, t)
    if name not in ("trades", "pool_liquidity"):  # empty for candle sources
        assert len(b) > 0
    if name in TO_THE_LAST_BIT:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=0)
    else:
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_folds_before_the_cut_are_unchanged(runs):
    full, part, cut, _ = runs
    by_k = {f["k"]: f for f in full["folds"]}
    assert len(part["folds"]) == 4
    for f in part["folds"]:
        g = dict(by_k[f["k"]])
        if g["test_end"] > cut + 1:  # the fold the cut falls in ends at the cut,
            g.update(test_end=cut + 1, test_bars=cut + 1 - g["test_start"])
        assert f == g  # but is trained on exactly the same events
