"""Grouping quality of the signature function on the labelled crash corpus."""

from tests.operator.corpus_metrics import grouping_scores, load_corpus


def test_corpus_precision_and_recall():
    scores = grouping_scores(load_corpus())
    assert scores["precision"] >= 0.99, scores
    assert scores["recall"] >= 0.95, scores
