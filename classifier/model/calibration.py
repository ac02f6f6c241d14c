"""Calibration as a wrapper: turns any scorer's decision scores into probabilities.

``GroupCalibratedClassifier`` fits its base estimator on all the data, and a
multinomial logistic regression on the base estimator's *out-of-fold* decision scores,
with folds from ``splits.fold_splits`` (groups kept apart when given), so the
probabilities are calibrated on scores of posts the scorer had not seen. It is a
multinomial logistic regression over the three scores, not one sigmoid per label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from swarmlens.classifier.model.linear import softmax
from swarmlens.classifier.model.splits import fold_splits, plan_folds


class GroupCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Wraps a classifier with ``decision_function`` to give calibrated ``predict_proba``.

    estimator: the base classifier (cloned for the inner folds).
    folds: inner folds producing the out-of-fold scores the calibrator learns from.
    random_state: seed of the inner folds.
    When some label has fewer than two examples, or an inner fold lacks a label, no
    calibrator is fitted (``calibrator_`` is None) and probabilities are a softmax of
    the scores.
    """

    def __init__(self, estimator: Any, folds: int = 3, random_state: int = 0) -> None:
        self.estimator = estimator
        self.folds = folds
        self.random_state = random_state

    def fit(
        self, X: Any, y: Sequence[object], groups: Sequence[object] | None = None
    ) -> GroupCalibratedClassifier:
        target = np.asarray(y, dtype=object)
        self.estimator_ = clone(self.estimator).fit(X, target)
        self.classes_ = self.estimator_.classes_
        scores = self._out_of_fold_scores(X, target, groups)
        self.calibrator_ = (
            None if scores is None else LogisticRegression(C=1.0, max_iter=1000).fit(scores, target)
        )
        return self

    def _out_of_fold_scores(
        self, X: Any, target: np.ndarray, groups: Sequence[object] | None
    ) -> np.ndarray | None:
        counts = np.unique(target, return_counts=True)[1]
        if min(self.folds, int(counts.min())) < 2:
            return None  # too few examples per class to hold any out
        plan = plan_folds(target, groups, self.folds, self.random_state)
        scores = np.zeros((len(target), len(self.classes_)))
        for train, test in fold_splits(target, groups, plan=plan):
            if len(set(target[train])) < len(self.classes_):
                return None
            scores[test] = clone(self.estimator).fit(X[train], target[train]).decision_function(
                X[test]
            )
        return scores

    def decision_function(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, columns in ``classes_`` order."""
        return self.proba_from_scores(self.decision_function(X))

    def proba_from_scores(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities from decision scores already computed (saves a second product)."""
        check_is_fitted(self, "estimator_")
        if self.calibrator_ is not None:
            return self.calibrator_.predict_proba(scores)
        return softmax(scores)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
