"""labeling: bars → events → triple-barrier labels with sample uniqueness."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import label_events, sample_events


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                sample_events, ["bars", "params:labels"], "events", name="sample_events"
            ),
            node(
                label_events,
                ["bars", "events", "params:labels"],
                "labels",
                name="label_events",
            ),
        ]
    )
