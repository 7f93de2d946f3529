"""The power test (docs/modeling.md): at the planted signal's default strength
the whole default chain finds it and the book earns from it, on more than one
seed; without a signal neither the book's gain nor a 200-trial sweep claims a
discovery.

Each chain is the real ``kedro run`` on the embedded default (90 days, 60
tested), with the one comparison model that does not reach the quotes
(gradient boosting) made smaller to fit the CI budget; the primary network,
its calibration, the meta gate and the market making are the defaults'.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import kedro, scratch_project

FAST = {"model": {"progress": False, "gbt_iter": 20}}
#: a deflated Sharpe ratio is the probability that the best trial's Sharpe
#: ratio beats what the best of that many trials would show by luck
SIGNIFICANT = 0.95


def run_chain(root: Path, synthetic: dict) -> tuple[Path, dict]:
    project = scratch_project(root)
    local = {**FAST, "data": {"synthetic": synthetic}}
    (project / "conf" / "local" / "parameters.yml").write_text(json.dumps(local))
    r = kedro(project, "run", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = project / "data" / "08_reporting" / "metrics.json"
    return project, json.loads(metrics.read_text())


def first_line(project: Path) -> str:
    page = (project / "data" / "08_reporting" / "report.html").read_text()
    return re.search(r'class="answer"[^>]*>(.*?)</', page, re.S).group(1)


@pytest.mark.cli
@pytest.mark.parametrize("seed", [42, 7])
def test_at_the_default_strength_the_chain_finds_the_signal_and_it_pays(seed, tmp_path):
    project, m = run_chain(tmp_path / "p", {"seed": seed})
    assert m["signal.primary.log_loss"] < m["signal.prior.log_loss"]
    assert m["signal.primary.roc_auc"] > 0.5
    assert m["signal_added.total_pnl"] > 0
    assert m["signal_added.total_pnl_lo"] > 0  # the whole 95 % interval
    # the default book trades through the whole period
    assert not m["backtest.halted"] and m["backtest.days"] == 60
    assert first_line(project).startswith(
        "Does the learned signal make the market maker more money? Yes"
    )


@pytest.fixture(scope="module")
def no_signal(tmp_path_factory) -> tuple[Path, dict]:
    return run_chain(tmp_path_factory.mktemp("power0"), {"signal_ic": 0.0})


@pytest.mark.cli
def test_without_a_signal_the_book_gains_nothing_from_the_model(no_signal):
    _, m = no_signal
    assert m["signal_added.total_pnl_lo"] < 0 < m["signal_added.total_pnl_hi"]


@pytest.mark.cli
def test_without_a_signal_a_200_trial_sweep_calls_no_discovery(no_signal):
    project, _ = no_signal
    r = kedro(project, "run", "--pipeline=backtest",
              "--params=sweep.n_trials=200,sweep.sampler=random,sweep.n_jobs=2",
              timeout=900)  # fmt: skip
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "200 trial(s) here" in out
    dsr = float(re.search(r"deflated Sharpe ratio ([-\d.]+)", out).group(1))
    assert dsr < SIGNIFICANT
