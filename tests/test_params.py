"""A wrong or unknown parameter is refused, naming key, value and what is allowed."""

from __future__ import annotations

import pytest

from ethpredict.errors import ParameterError
from ethpredict.params import DataParams, Parameters, coerce, validate_parameters
from ethpredict.testing.project import project_root

PROJECT = project_root(__file__)

CASES = [
    (
        {"data": {"sorce": "x"}},
        ["unknown parameter data.sorce = 'x'", "allowed keys: source, path"],
    ),
    (
        {"dta": {}},
        [
            "unknown parameter dta",
            "allowed keys: data, features, labels, model, mm, backtest, risk, report, download",
        ],
    ),
    (
        {"data": {"source": "csv"}},
        ["data.source = 'csv'", "'ohlcv', 'uniswap_v3' or 'synthetic_pool'"],
    ),
    (
        {"data": {"on_gap": "ignore"}},
        ["data.on_gap = 'ignore'", "'fail' or 'flag'"],
    ),
    (
        {"data": {"on_stale": "skip"}},
        ["data.on_stale = 'skip'", "'flag', 'drop' or 'fail'"],
    ),
    (
        {"data": {"stale_min_bars": 0}},
        ["data.stale_min_bars = 0", "greater than or equal to 1"],
    ),
    (
        {"data": {"source": "binance_klines"}},
        ["data.path is required when data.source is 'binance_klines'"],
    ),
    (
        {"data": {"interval": "7m"}},
        ["data.interval = '7m'", "'1m'"],
    ),
    (
        {"data": {"symbol": "eth/usdt"}},
        ["data.symbol = 'eth/usdt'", "pattern"],
    ),
    (
        {"data": {"synthetic": {"days": 1}}},
        ["data.synthetic.days = 1", "greater than or equal to 2"],
    ),
    (
        {"data": {"synthetic": {"annual_vol": -0.1}}},
        ["data.synthetic.annual_vol = -0.1", "greater than 0"],
    ),
    (
        {"data": {"synthetic": {"seed": "abc"}}},
        ["data.synthetic.seed = 'abc'", "valid integer"],
    ),
    (
        {"data": {"synthetic": {"signal_ic": -0.1}}},
        ["data.synthetic.signal_ic = -0.1", "greater than or equal to 0"],
    ),
    (
        {"data": {"synthetic": {"signal_ic": 0.5, "signal_half_life": 1}}},
        [
            "data.synthetic.signal_ic = 0.5 is more than a flow with a half-life of 1",
            "15 bars ahead (at most 0.312",
            "raise data.synthetic.signal_half_life",
        ],
    ),
    (
        {"features": {"sets": ["base", "fancy"]}},
        ["features.sets.1 = 'fancy'", "'base', 'advanced' or 'reference'"],
    ),
    (
        {"features": {"sets": []}},
        ["features.sets = []", "at least 1 item"],
    ),
    (
        {"features": {"vol_window": 1}},
        ["features.vol_window = 1", "greater than or equal to 2"],
    ),
    (
        {"features": {"ema_pairs": [[26, 12]]}},
        ["features.ema_pairs", "fast < slow"],
    ),
    (
        {"features": {"return_horizons": [1, 1]}},
        ["features.return_horizons", "unique"],
    ),
    (
        {"features": {"fracdiff_d": 0}},
        ["features.fracdiff_d = 0", "greater than 0"],
    ),
    (
        {"download": {"start": "2024-1"}},
        ["download.start must be YYYY-MM for monthly files, got '2024-1'"],
    ),
    (
        {"download": {"start": "2024-03", "end": "2024-01"}},
        ["download.end (2024-01) is before download.start"],
    ),
    (
        {"download": {"market": "margin"}},
        ["download.market = 'margin'", "'spot', 'um' or 'cm'"],
    ),
    (
        {"labels": {"pt": 0}},
        ["labels.pt = 0", "greater than 0"],
    ),
    (
        {"labels": {"both_touch": "random"}},
        [
            "labels.both_touch = 'random'",
            "'nearest_to_open', 'stop_first' or 'profit_first'",
        ],
    ),
    (
        {"model": {"kind": "xgboost"}},
        [
            "model.kind = 'xgboost'",
            "'primary', 'logistic', 'gbt', 'ensemble' or 'prior'",
        ],
    ),
    (
        {"model": {"cv": {"val_frac": 0.95}}},
        ["model.cv.val_frac = 0.95", "less than 0.9"],
    ),
    (
        {"model": {"net": {"arch": "transformer"}}},
        ["model.net.arch = 'transformer'", "'mlp', 'conv' or 'gru'"],
    ),
    (
        {"model": {"calibration": {"method": "beta"}}},
        ["model.calibration.method = 'beta'", "'bias_temperature', 'platt'"],
    ),
    (
        {"model": {"calibration": {"holdout_frac": 0}}},
        ["model.calibration.holdout_frac = 0", "greater than 0"],
    ),
    (
        {"model": {"calibration": {"prior_weight": -1}}},
        ["model.calibration.prior_weight = -1", "greater than or equal to 0"],
    ),
    (
        {"model": {"calibration": {"prior_fallback": "maybe"}}},
        ["model.calibration.prior_fallback = 'maybe'", "valid boolean"],
    ),
    (
        {"model": {"meta": {"auc_margin": 0.5}}},
        ["model.meta.auc_margin = 0.5", "less than 0.5"],
    ),
    (
        {
            "model": {
                "cv": {
                    "stress_periods": [
                        {"name": "crash", "start": "2024-08-06", "end": "2024-08-05"}
                    ]
                }
            }
        },
        ["model.cv.stress_periods.0", "'crash' ends", "before it starts"],
    ),
    (
        {
            "model": {
                "cv": {"stress_periods": [{"name": "crash", "start": "2024-08-05"}]}
            }
        },
        ["model.cv.stress_periods.0.end"],
    ),
    (
        {
            "model": {
                "cv": {
                    "stress_periods": [
                        {"name": "a", "start": "2024-08-01", "end": "2024-08-02"},
                        {"name": "a", "start": "2024-08-03", "end": "2024-08-04"},
                    ]
                }
            }
        },
        ["model.cv.stress_periods", "names repeat"],
    ),
    (
        {"mm": {"gamma": -0.3}},
        ["mm.gamma = -0.3", "greater than 0"],
    ),
    (
        {"mm": {"gama": 0.3}},
        ["unknown parameter mm.gama = 0.3", "allowed keys: gamma, spread_scale"],
    ),
    (
        {"mm": {"sizing": "kelly"}},
        ["mm.sizing = 'kelly'", "'fixed', 'vol_target' or 'bet_size'"],
    ),
    (
        {"backtest": {"fill_model": "queue"}},
        ["backtest.fill_model = 'queue'", "'touch' or 'intensity'"],
    ),
    (
        {"backtest": {"block_time_s": -1}},
        ["backtest.block_time_s = -1", "greater than or equal to 0"],
    ),
    (
        {"risk": {"max_drawdown": -5}},
        ["risk.max_drawdown = -5", "greater than 0"],
    ),
    (
        {"download": {"base_url": "ftp://x"}},
        ["download.base_url = 'ftp://x'"],
    ),
]


@pytest.mark.parametrize(("raw", "words"), CASES, ids=[str(c[0]) for c in CASES])
def test_bad_parameters_are_named(raw, words):
    with pytest.raises(ParameterError) as exc:
        validate_parameters(raw)
    for w in words:
        assert w in str(exc.value)


def test_several_problems_are_all_reported():
    with pytest.raises(ParameterError) as exc:
        validate_parameters({"data": {"on_gap": "x"}, "features": {"vol_window": 0}})
    assert "data.on_gap" in str(exc.value) and "features.vol_window" in str(exc.value)


def test_shipped_configuration_is_valid():
    from kedro.config import OmegaConfigLoader

    from ethpredict.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(PROJECT / "conf"), **CONFIG_LOADER_ARGS)
    raw = loader["parameters"]  # ${globals:…} resolved, as Kedro does
    assert raw["data"]["symbol"] == raw["download"]["symbol"] == "ETHUSDT"
    assert validate_parameters(raw) == Parameters.model_validate(raw)


def test_coerce_accepts_dict_or_model_and_names_the_namespace():
    m = coerce(DataParams, {"on_gap": "fail"}, "data")
    assert m.on_gap == "fail" and coerce(DataParams, m, "data") is m
    with pytest.raises(ParameterError, match="data.on_gap = 'x'"):
        coerce(DataParams, {"on_gap": "x"}, "data")


def _loaded_parameters() -> dict:
    from kedro.config import OmegaConfigLoader

    from ethpredict.settings import CONFIG_LOADER_ARGS

    return OmegaConfigLoader(str(PROJECT / "conf"), **CONFIG_LOADER_ARGS)["parameters"]


def test_the_yaml_files_say_what_the_models_default_to():
    """A default is written in the model and in conf/base: they must agree
    (the YAML's sweep space is the one place that sets more than the model)."""
    from ethpredict.hooks import flatten

    shipped = flatten(
        Parameters.model_validate(_loaded_parameters()).model_dump(mode="json")
    )
    model = flatten(Parameters().model_dump(mode="json"))
    drift = {
        k: (v, model.get(k, "not in the model"))
        for k, v in shipped.items()
        if not k.startswith("sweep.space.") and model.get(k, "not in the model") != v
    }
    assert not drift, drift


def test_every_parameter_has_a_row_in_the_docs():
    import re

    from pydantic import BaseModel

    rows: dict[str, set[str]] = {}
    section = None
    for line in (PROJECT / "docs" / "parameters.md").read_text().splitlines():
        head = re.match(r"^## `(\w+)`", line)
        if head or line.startswith("## "):
            section = head.group(1) if head else None
            rows.setdefault(section, set())
        elif section and line.startswith("| `"):
            rows[section].update(re.findall(r"`([^`]+)`", line.split("|")[1]))

    def leaves(model, prefix=""):
        for name, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from leaves(kind, f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}"

    missing = {}
    for ns, field in Parameters.model_fields.items():
        keys = rows.get(ns, set())
        # data.reference.ohlcv.* is documented as "the same keys as data.ohlcv"
        lost = [
            p
            for p in leaves(field.annotation)
            if p not in keys
            and p.rsplit(".", 1)[-1] not in keys
            and not p.startswith("reference.ohlcv.")
        ]
        if lost:
            missing[ns] = lost
    assert not missing, missing


def test_conf_and_docs_are_what_the_generator_writes(capsys):
    """conf/base/parameters_*.yml and the tables of docs/parameters.md are
    generated from the models: a hand edit there (or a model change without
    re-running ``python -m ethpredict.params.generate``) fails here."""
    from ethpredict.params.generate import main

    assert main(["--check", "--root", str(PROJECT)]) == 0, capsys.readouterr().out


def test_the_check_names_every_drifted_file(tmp_path, capsys):
    import shutil

    from ethpredict.params.generate import main

    shutil.copytree(PROJECT / "conf" / "base", tmp_path / "conf" / "base")
    (tmp_path / "docs").mkdir()
    docs = (PROJECT / "docs" / "parameters.md").read_text(encoding="utf-8")
    (tmp_path / "docs" / "parameters.md").write_text(
        docs.replace("| `gamma` | `0.05` |", "| `gamma` | `0.5` |"), encoding="utf-8"
    )
    mm = tmp_path / "conf" / "base" / "parameters_market_making.yml"
    mm.write_text(mm.read_text(encoding="utf-8").replace("gamma: 0.05", "gamma: 0.3"))
    assert main(["--check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "parameters_market_making.yml" in out and "parameters.md" in out
    assert "parameters_backtesting.yml" not in out
    assert main(["--root", str(tmp_path)]) == 0  # writes them back
    assert main(["--check", "--root", str(tmp_path)]) == 0


def test_nested_models_render_in_their_namespace_table():
    from ethpredict.params.generate import render_table

    table = render_table("data")
    for row in (
        "| `synthetic.seed` | `42` | ≥ 0 |",
        "| `synthetic.start` | `2024-01-01` | date |",
        "| `synthetic_pool.fee_bps` | `5` | `1`, `5`, `30`, `100` |",
        "| `reference.ohlcv.timezone` | `UTC` | text |",
    ):
        assert row in table
    assert "\n\n" not in table  # one unbroken markdown table
