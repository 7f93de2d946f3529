"""The synthetic market and model settings of the modeling tests live in
``ethpredict.testing.modeling``; re-exported here for the test files of this
folder until they import it from there."""

from __future__ import annotations

from ethpredict.testing.modeling import FP, LP, MP, make_bars, upstream

__all__ = ["FP", "LP", "MP", "make_bars", "upstream"]
