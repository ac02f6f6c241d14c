"""Figures for predictions: macro-F1, per class and language, confusion, calibration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from swarmlens.classifier.vocab import LABELS

MIN_LANG_SUPPORT = 10
"""Languages with fewer examples are pooled as 'other' in per-language F1."""


def expected_calibration_error(proba: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE over the top-label confidence, equal-width bins.

    proba: the predicted label's probability per example. correct: 1 where right.
    """
    if len(proba) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(proba[mask].mean() - correct[mask].mean())
    return float(error)


def evaluate_predictions(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    proba_top: Sequence[float] | None = None,
    langs: Sequence[str] | None = None,
) -> dict[str, Any]:
    """All figures as a JSON-ready dict.

    y_true / y_pred: gold and predicted labels. proba_top: probability of the
    predicted label (for calibration error). langs: language of each example.
    """
    true = np.array(y_true, dtype=object)
    pred = np.array(y_pred, dtype=object)
    labels = [label for label in LABELS if label in set(true) | set(pred)]
    precision, recall, f1, support = precision_recall_fscore_support(
        true, pred, labels=labels, zero_division=0
    )
    report: dict[str, Any] = {
        "n": len(true),
        "accuracy": float((true == pred).mean()) if len(true) else 0.0,
        "macro_f1": float(f1_score(true, pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion": {
            "labels": labels,
            "matrix": confusion_matrix(true, pred, labels=labels).tolist(),
        },
    }
    if langs is not None:
        lang_arr = np.array(langs, dtype=object)
        values, counts = np.unique(lang_arr, return_counts=True)
        big = {v for v, c in zip(values, counts, strict=True) if c >= MIN_LANG_SUPPORT}
        pooled = np.array([lang if lang in big else "other" for lang in lang_arr], dtype=object)
        per_lang = {}
        for lang in sorted(set(pooled), key=lambda x: (x == "other", x)):
            mask = pooled == lang
            present = [label for label in LABELS if label in set(true[mask])]
            per_lang[lang] = {
                "n": int(mask.sum()),
                "macro_f1": float(
                    f1_score(
                        true[mask], pred[mask], labels=present, average="macro", zero_division=0
                    )
                ),
                "accuracy": float((true[mask] == pred[mask]).mean()),
            }
        report["per_language"] = per_lang
    if proba_top is not None:
        report["calibration_error"] = expected_calibration_error(
            np.asarray(proba_top, dtype=float), (true == pred).astype(float)
        )
    return report
