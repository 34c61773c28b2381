"""Pairwise grouping precision and recall of the signature function on the corpus."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from track_operator.signatures import Termination, compute_signature

CORPUS = Path(__file__).parent / "corpus" / "crashes.jsonl"


def load_corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def grouping_scores(items: list[dict]) -> dict[str, float]:
    """Return precision and recall over all pairs of corpus items."""
    predicted = [
        compute_signature(
            Termination(
                container=item["container"],
                reason=item["reason"],
                exit_code=item["exitCode"],
                message=item["message"],
                liveness_kill=item.get("livenessKill", False),
            )
        ).signature
        for item in items
    ]
    true_pairs = predicted_pairs = both = 0
    for (i, a), (j, b) in itertools.combinations(enumerate(items), 2):
        same_truth = a["group"] == b["group"]
        same_prediction = predicted[i] == predicted[j]
        true_pairs += same_truth
        predicted_pairs += same_prediction
        both += same_truth and same_prediction
    return {
        "precision": both / predicted_pairs if predicted_pairs else 1.0,
        "recall": both / true_pairs if true_pairs else 1.0,
        "items": len(items),
        "groups": len({item["group"] for item in items}),
        "predicted_groups": len(set(predicted)),
    }
