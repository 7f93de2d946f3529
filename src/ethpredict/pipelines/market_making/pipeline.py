"""market_making: bars + predictions → the aligned signal and the calibration →
GLFT quotes (and the same quotes without the signal, for the ablation)."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import align_signal, calibrate_market, make_baseline_quotes, make_quotes

CALIBRATION_PARAMS = [
    f"params:mm.{k}" for k in ("calib_window", "calib_every", "sigma", "A", "k")
]
QUOTE_INPUTS = [
    "bars",
    "signal",
    "calibration",
    "params:mm",
    "params:labels",
    "params:risk",
    "params:backtest.venue",
    "params:backtest.maker_fee_bps",
]


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                calibrate_market,
                ["bars", "trades", *CALIBRATION_PARAMS],
                "calibration",
                name="calibrate_market",
            ),
            node(
                align_signal,
                ["bars", "predictions", "params:labels.vol_span"],
                "signal",
                name="align_signal",
            ),
            node(make_quotes, QUOTE_INPUTS, "quotes", name="make_quotes"),
            node(
                make_baseline_quotes,
                QUOTE_INPUTS,
                "quotes_baseline",
                name="make_baseline_quotes",
            ),
        ]
    )
