"""What the model answers when a text gives it nothing to go on, and how sure it may be.

Two rules, applied to every probability the model gives (``StanceClassifier`` and the
scoring ``LinearStanceModel`` alike, so the CLI, batch jobs and the API answer the same):

* **No usable features, no stance.** An empty or whitespace-only text, or one none of
  whose features the model has a weight for, has decision scores equal to the intercepts:
  whatever the calibrator makes of them is the intercepts' opinion, not the text's (an
  empty text used to come out ``opposing`` 0.59). Such a row gets ``NO_TEXT_ANSWER``:
  ``neutral`` 0.6 and the two stances 0.2 each, so its label is ``neutral`` (the label
  is the most probable one everywhere) and it leans to neither side. ``no_text`` tells
  which rows these are, for callers that flag them.
* **Never certain.** Probabilities are mixed with the uniform distribution by
  ``PROBABILITY_FLOOR`` (p -> (1 - k f) p + f): every one is in [f, 1 - (k - 1) f], rows
  still sum to one and their order (hence the label) is kept. A calibrator fitted on a
  few thousand posts cannot justify more than that, and a float32 output can then never
  round to exactly 0 or 1 (it did for "باقية وتتمدد #باريس_تشتعل": 1.0 / 0.0 / 0.0).

The decision scores themselves are untouched: explanations, which add up to a score minus
its intercept, stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from swarmlens.classifier.vocab import Label

PROBABILITY_FLOOR = 1e-4
"""The least probability any label gets (and 1 - (k - 1) x this the most)."""
NO_TEXT_ANSWER = {Label.SUPPORTIVE: 0.2, Label.OPPOSING: 0.2, Label.NEUTRAL: 0.6}
"""The probabilities of a text without usable features (a documented choice, not an
estimate: neutral first, no side favoured)."""


def no_text(scores: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Rows whose decision scores are exactly the intercepts: no feature of the text
    carries a weight (nothing fired, or only n-grams the training data never had).

    scores: decision scores (n x k) including the intercepts. intercept: shape (k,).
    """
    if scores.size == 0:
        return np.zeros(len(scores), dtype=bool)
    return np.all(scores == np.asarray(intercept, dtype=scores.dtype), axis=1)


def bounded(proba: np.ndarray, floor: float = PROBABILITY_FLOOR) -> np.ndarray:
    """Probabilities mixed with the uniform distribution so that none is below ``floor``.

    proba: rows of probabilities (n x k), each summing to one.
    """
    k = proba.shape[1] if proba.ndim == 2 else 0
    if not k:
        return proba
    return (1.0 - k * floor) * proba + floor


def no_text_row(classes: Sequence[object]) -> np.ndarray:
    """``NO_TEXT_ANSWER`` in the order of ``classes``; a model without a ``neutral`` class
    gets the uniform distribution (it has no stance-free answer to give)."""
    names = [str(c) for c in classes]
    if Label.NEUTRAL not in names:
        return np.full(len(names), 1.0 / len(names))
    row = np.array([NO_TEXT_ANSWER.get(name, 0.0) for name in names])  # type: ignore[call-overload]
    return row / row.sum()


def answer(
    proba: np.ndarray, scores: np.ndarray, intercept: np.ndarray, classes: Sequence[object]
) -> np.ndarray:
    """The model's final probabilities: ``no_text`` rows get ``no_text_row``, then every
    row is ``bounded``.

    proba: the calibrated probabilities of ``scores`` (n x k, columns in ``classes``
    order). scores, intercept: as for ``no_text``.
    """
    proba = np.array(proba, dtype=np.float64)
    empty = no_text(scores, intercept)
    if empty.any():
        proba[empty] = no_text_row(classes)
    return bounded(proba)
