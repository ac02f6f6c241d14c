"""The property every explanation has, whatever the model: the contributions of all words
(and subword pieces) add up to the label's decision score minus its intercept."""

from __future__ import annotations

from typing import Any

import pytest


def assert_explanations_add_up(model: Any, text: str) -> None:
    """For every label of ``model``, ``explain(text)`` sums to its score minus intercept."""
    scores = model.decision_function([text])[0]
    for row, label in enumerate(model.classes_):
        parts = model.explain(text, label=str(label), top=1000)
        total = sum(c.weight for c in parts)
        assert total == pytest.approx(scores[row] - model.intercept_[row], abs=1e-3)
