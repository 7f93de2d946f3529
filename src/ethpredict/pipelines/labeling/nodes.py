"""Nodes of the labeling pipeline: events, triple-barrier labels, weights."""

from __future__ import annotations

import logging

import pandas as pd

from ethpredict import labeling
from ethpredict.params import LabelsParams

log = logging.getLogger(__name__)


def sample_events(bars: pd.DataFrame, params: LabelsParams) -> pd.DataFrame:
    """Event bars (all, or CUSUM-sampled) with the volatility at each."""
    events = labeling.sample_events(bars, params)
    events.attrs.update(bars.attrs)
    log.info(
        "Sampled %d events from %d bars (%s)", len(events), len(bars), params.events
    )
    return events


def label_events(
    bars: pd.DataFrame, events: pd.DataFrame, params: LabelsParams
) -> pd.DataFrame:
    """Triple-barrier outcome, label and average uniqueness of every event."""
    labels = labeling.triple_barrier(bars, events, params)
    labels["uniqueness"] = labeling.average_uniqueness(
        labels, len(bars), params.horizon
    )
    labels.attrs.update(bars.attrs)
    counts = labels["label"].value_counts(dropna=False).to_dict()
    log.info("Labelled %d events: %s", len(labels), counts)
    return labels
