"""The report's tables and sentences (HTML fragments)."""

from __future__ import annotations

import html

import pandas as pd

from ethpredict.reporting.metrics import is_scalar


def table(
    rows: dict[str, dict], columns: list[str] | None = None, digits: int = 4
) -> str:
    frame = pd.DataFrame(rows).T
    if columns:
        frame = frame[[c for c in columns if c in frame]]
    return frame.to_html(
        classes="t", float_format=lambda v: f"{v:,.{digits}f}", na_rep="—", border=0
    )


def intervals_table(backtest_metrics: dict) -> str:
    ci = backtest_metrics.get("intervals")
    if not ci:
        return ""
    rows = {}
    for label, (part, key) in {
        "total PnL with the signal (USD)": ("backtest", "total_pnl"),
        "Sharpe ratio with the signal (annualised)": ("backtest", "sharpe"),
        "what the signal added (USD)": ("signal_added", "total_pnl"),
    }.items():
        band = (ci.get(part) or {}).get(key)
        value = (
            backtest_metrics.get("with_signal" if part == "backtest" else part) or {}
        ).get(key)
        rows[label] = {
            "estimate": value,
            "low": band[0] if band else None,
            "high": band[1] if band else None,
        }
    return (
        f"<p>{ci['level']:.0%} intervals: {html.escape(ci['method'])}, blocks of "
        f"{ci['block_days']} days, {ci['resamples']:,} resamples.</p>"
        + table(rows, ["estimate", "low", "high"])
    )


def research_answer(backtest_metrics: dict, synthetic: bool) -> str:
    """The report's first line: does the learned signal make the market
    maker more money — what it added, with its block-bootstrap interval."""
    added = (backtest_metrics.get("signal_added") or {}).get("total_pnl")
    if added is None:
        return "The book without the signal was not run: no answer."
    ci = backtest_metrics.get("intervals") or {}
    band = (ci.get("signal_added") or {}).get("total_pnl")
    period = backtest_metrics["period"]
    days = (ci.get("days") or {}).get("signal_added")
    stop = backtest_metrics["with_signal"].get("stopped_at")
    where = (
        f"on {period['start'][:10]} → {period['end'][:10]} ({days} days"
        f"{', synthetic data' if synthetic else ''}"
        f"{f'; the risk stop ended trading on {stop[:10]}' if stop else ''})"
    )
    if band is None:
        return (
            f"Does the learned signal make the market maker more money? It added "
            f"{added:+,.2f} USD {where}; too few days for an interval."
        )
    lo, hi = band
    verdict = (
        "yes: the whole interval is above 0"
        if lo > 0
        else "no: it cost money (the whole interval is below 0)"
        if hi < 0
        else "not shown: the interval includes 0"
    )
    return (
        f"Does the learned signal make the market maker more money? {verdict[0].upper()}"
        f"{verdict[1:]} — it added {added:+,.2f} USD {where}, "
        f"{ci['level']:.0%} block-bootstrap interval {lo:+,.2f} … {hi:+,.2f} USD "
        f"({ci['block_days']}-day blocks, {ci['resamples']:,} resamples)."
    )


def calibration_html(model_metrics: dict) -> str:
    """Log-loss before and after calibration beside the prior's, the
    reliability of ``p_up`` before and after (the model that feeds market
    making), and which bet size was used."""
    cal = model_metrics.get("calibration")
    if not cal:
        return ""
    prior = cal.get("prior_log_loss")
    rows = {
        m: {
            "before calibration": v["before"],
            "after calibration": v["after"],
            "prior": prior,
        }
        for m, v in cal["log_loss"].items()
    }
    kind = model_metrics.get("model_kind", "primary")
    entry = model_metrics["models"].get(kind, {})
    after = entry.get("calibration_up", {})
    before = entry.get("calibration_up_uncalibrated", {})
    rel = {}
    for name, c in (("before", before), ("after", after)):
        for i, (p, o) in enumerate(
            zip(c.get("predicted", []), c.get("observed", []), strict=True)
        ):
            rel.setdefault(f"bin {i + 1}", {})[f"{name}: predicted"] = p
            rel[f"bin {i + 1}"][f"{name}: observed"] = o
    bet = model_metrics.get("bet_size", {})
    folds = ", ".join(
        f"fold {f['fold']}: {f['source']}"
        + (
            ""
            if f.get("meta_auc_train") is None
            else f" (AUC {f['meta_auc_train']:.3f})"
        )
        for f in bet.get("per_fold", [])
    )
    return (
        f"<p>Calibration ({html.escape(str(cal['method']))}, fitted per fold on the "
        f"last {cal['holdout_frac']:.0%} of its training events): out-of-sample "
        f"log-loss</p>{table(rows)}"
        + (
            f"<p>Reliability of p_up ({html.escape(kind)}), quantile bins:</p>"
            f"{table(rel)}"
            if rel
            else ""
        )
        + f"<p>Bet size: {html.escape(str(bet.get('source', '—')))} — meta model used "
        f"where its out-of-sample AUC over the training folds exceeds "
        f"{0.5 + bet.get('auc_margin', 0):.3f}; {html.escape(folds)}</p>"
    )


def reference_line(ref: dict) -> str:
    """The report's one line about the exchange reference (the manifest's
    ``reference`` entry): name, coverage, its age at the bars (bar open −
    when the price used became known), stale bars."""
    every = f", {ref['interval']} candles" if ref.get("interval") else ""
    age = ref["age_s"]
    return (
        f"{ref['name']} ({ref['source']}{every}): {100 * ref['coverage']:.1f} % of "
        f"bars; age at the bars median {age['median']:g} s, 95 % {age['p95']:g} s; "
        f"{ref['stale_bars']:,} stale bars" + flagged_ranges(ref.get("stale_ranges"))
    )


def flagged_ranges(ranges: list | None, shown: int = 3) -> str:
    """`` (a → b, …)`` for the first runs of flagged bars."""
    if not ranges:
        return ""
    text = ", ".join(f"{a} → {b}" for a, b in ranges[:shown])
    more = f" and {len(ranges) - shown} more" if len(ranges) > shown else ""
    return f" ({text}{more})"


def orders_table(bt: dict) -> str:
    """The orders' fate and the fills' kinds, with and without the signal."""
    keys = [k for k in bt["with_signal"] if k.startswith(("orders", "fills_"))]
    keys += ["taker_fills", "stopped_at"]
    frame = pd.DataFrame(
        {
            "with signal": [bt["with_signal"].get(k) for k in keys],
            "without signal": [bt["without_signal"].get(k) for k in keys],
        },
        index=[k.replace("_", " ") for k in keys],
    )
    note = (
        "<p>An order ends filled (its whole size), replaced (a newer quote of its "
        "side went live), cancelled (its side stopped being quoted, or the risk "
        "stop), rejected (post-only and marketable when it went live) or is still "
        "open. Maker fills: touch (the bar traded through the limit), intensity, "
        "resting through (a resting order the market was already through at the "
        "open — the rest of an order the participation cap cut, or a reopening — "
        "filled at the least favourable price of the bar within its limit); "
        "taker fills: marketable on arrival (post_only false) and the risk stop.</p>"
    )
    return note + frame.to_html(classes="t", na_rep="—", border=0)


def lp_table(bt: dict) -> str:
    """An LP book's PnL as fees − LVR − gas ± inventory, beside the passive
    baselines on the same blocks (a pool only)."""
    if "lp" not in bt.get("with_signal", {}):
        return ""
    cols = {
        "with signal": bt["with_signal"]["lp"],
        "without signal": bt["without_signal"]["lp"],
    }
    cols.update(bt.get("lp_baselines", {}))
    rows = ["fees_earned", "lvr", "gas", "inventory_pnl", "entry_basis", "total_pnl"]
    frame = pd.DataFrame(
        {name: [c.get(r) for r in rows] for name, c in cols.items()},
        index=[r.replace("_", " ") for r in rows],
    )
    marked = bt.get("venue", {}).get("marked_at", "pool")
    against = (
        "the exchange reference (data.reference), the last price known before each block"
        if marked == "reference"
        else "the pool's own price (no data.reference: LVR is then the spread against "
        "the pool, not against a better-informed market)"
    )
    return (
        "<h2>Liquidity provision — fees − LVR − gas ± inventory</h2><p>The range "
        f"positions are marked against {html.escape(against)}. LVR (Milionis et al.) "
        "is what the pool's trades against the book lost relative to trading at the "
        "mark; inventory is the ETH held times the mark's moves. Passive baselines "
        "on the same blocks with the same capital: the full range, a static range, "
        "and holding the initial 50/50 mix (entry basis: buying the position at the "
        "pool price, valued at the mark). USD.</p>"
        + frame.to_html(
            classes="t", float_format=lambda v: f"{v:,.4f}", na_rep="—", border=0
        )
    )


def sensitivity_table(sensitivity: pd.DataFrame | None) -> str:
    """PnL, fills and markouts of the same quotes under each fill rule."""
    if sensitivity is None or not len(sensitivity):
        return ""
    frame = sensitivity.set_index("rule")
    return (
        "<h2>Sensitivity to the fill rule</h2><p>An OHLCV backtest cannot see "
        "queues: the same quotes under each rule (this run's rule marked), from the "
        "start of quoting. USD.</p>"
        + frame.to_html(classes="t", float_format=lambda v: f"{v:,.4f}", border=0)
    )


def risk_table(backtest_metrics: dict) -> pd.DataFrame:
    """The report's risk table: one row per scalar metric, the books with and
    without the signal and their difference. A text row (``stopped_at`` when
    the risk stop ended one book and not the other) has no difference.

    Args:
        backtest_metrics: ``evaluate_backtest``'s output (``with_signal`` and
            ``without_signal`` dicts of one book each).

    Returns:
        The table, indexed by metric name.
    """
    with_signal = backtest_metrics["with_signal"]
    keys = [k for k, v in with_signal.items() if is_scalar(v) or v is None]
    frame = pd.DataFrame(
        {
            "with signal": {k: with_signal[k] for k in keys},
            "without signal": {k: backtest_metrics["without_signal"][k] for k in keys},
        }
    )
    with_s, without = (
        pd.to_numeric(frame[c], errors="coerce")
        for c in ("with signal", "without signal")
    )
    frame["signal added"] = with_s - without
    return frame
