"""The io layer's shape: readers are siblings over shared helpers, every
source has a reader, and market making and backtesting place bars in time
through :mod:`ethpredict.timeaxis` (drawn with grimp)."""

from __future__ import annotations

from typing import get_args

import grimp
import pytest

READERS = (
    "ethpredict.io.binance",
    "ethpredict.io.trades",
    "ethpredict.io.ohlcv",
    "ethpredict.io.funding",
    "ethpredict.io.gas",
    "ethpredict.io.uniswap",
)
HELPERS = {
    "ethpredict.io.files",
    "ethpredict.io.tables",
    "ethpredict.io.times",
    "ethpredict.io.plausibility",
}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("ethpredict", cache_dir=None)


def _io_imports(graph, module: str) -> set[str]:
    return {
        d
        for d in graph.find_modules_directly_imported_by(module)
        if d.startswith("ethpredict.io.")
    }


@pytest.mark.parametrize("reader", READERS)
def test_a_reader_imports_only_helpers(graph, reader):
    own = {reader} | graph.find_descendants(reader)
    for module in own:
        other = _io_imports(graph, module) - own - HELPERS
        assert not other, f"{module} imports {sorted(other)}"


def test_helpers_import_no_reader(graph):
    for helper in HELPERS:
        up = graph.find_upstream_modules(helper)
        assert not [m for m in up if m.startswith(READERS)], helper


def test_every_source_has_a_reader():
    from ethpredict.io.sources import READERS as registry
    from ethpredict.params import DataParams

    sources = get_args(DataParams.model_fields["source"].annotation)
    assert set(registry) == set(sources)


@pytest.mark.parametrize(
    "module", ["ethpredict.market_making", "ethpredict.backtesting"]
)
def test_quoting_and_backtesting_take_time_from_timeaxis(graph, module):
    direct = graph.find_modules_directly_imported_by(module)
    assert "ethpredict.timeaxis" in direct
    assert not [m for m in direct if m.startswith("ethpredict.io")]
    assert not {"ethpredict.labeling", "ethpredict.backtesting"} & (direct - {module})
    assert "ethpredict.market_making" not in direct
