"""Calibration as a wrapper: turns any scorer's decision scores into probabilities.

``GroupCalibratedClassifier`` fits its base estimator on all the data, and a
multinomial logistic regression on the base estimator's *out-of-fold* decision scores,
with folds from ``splits.fold_splits`` (groups kept apart when given), so the
probabilities are calibrated on scores of posts the scorer had not seen. It is a
multinomial logistic regression over the three scores, not one sigmoid per label.

On a small training set (fewer than ``SMALL_TRAINING_SET`` examples, as in the first
rounds of active learning) the out-of-fold scores come from inner models trained on a
few dozen posts of a label, often mostly one author's, and the multinomial's 12
parameters fit their noise: it can learn to read a label's own score *against* it (a
higher 'opposing' score making 'neutral' likelier than 'opposing'), and the label is
then never predicted again. There the calibrator is a ``ScaledSoftmax`` (one temperature
shared by the labels and one bias per label: a label's own score always counts for it).
Larger training sets keep the multinomial calibrator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from swarmlens.classifier.model.linear import calibrated, softmax
from swarmlens.classifier.model.splits import fold_splits, plan_folds

SMALL_TRAINING_SET = 500
"""Below this many training examples the calibrator is a ``ScaledSoftmax``."""


class ScaledSoftmax:
    """Probabilities ``softmax(t * scores + b)``: one temperature ``t`` > 0, one bias per
    label, fitted by maximum likelihood on (out-of-fold) scores.

    The L2 penalty (weight 1, as ``LogisticRegression(C=1)``'s) pulls ``t`` towards 1 and
    the biases towards 0: with few examples it stays near a plain softmax of the scores.
    Stored as a multinomial logistic regression's ``coef_`` (``t`` times the identity) and
    ``intercept_`` (two labels: scikit-learn's single row, the log-odds of the second),
    so a saved model and ``linear.calibrated`` read it as they read the multinomial one.
    """

    def fit(self, scores: np.ndarray, target: np.ndarray) -> ScaledSoftmax:
        from scipy.optimize import minimize
        from scipy.special import logsumexp

        self.classes_ = np.unique(target)
        scores = np.asarray(scores, dtype=float)
        k = scores.shape[1]
        onehot = (np.asarray(target)[:, None] == self.classes_[None, :]).astype(float)

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            logits = w[0] * scores + w[1:]
            proba = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
            residual = proba - onehot
            value = -float(np.sum(onehot * np.log(np.clip(proba, 1e-300, None))))
            value += 0.5 * ((w[0] - 1.0) ** 2 + float(w[1:] @ w[1:]))
            grad = np.concatenate(
                [[np.sum(residual * scores) + w[0] - 1.0], residual.sum(axis=0) + w[1:]]
            )
            return value, grad

        start = np.concatenate([[1.0], np.zeros(k)])
        bounds = [(1e-3, None)] + [(None, None)] * k
        w = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds).x
        self.temperature_, bias = float(w[0]), w[1:]
        if k == 2:
            self.coef_ = np.array([[-self.temperature_, self.temperature_]])
            self.intercept_ = np.array([bias[1] - bias[0]])
        else:
            self.coef_ = self.temperature_ * np.eye(k)
            self.intercept_ = np.asarray(bias, dtype=float)
        return self

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        return calibrated(np.asarray(scores, dtype=float), self.coef_, self.intercept_)


class GroupCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Wraps a classifier with ``decision_function`` to give calibrated ``predict_proba``.

    estimator: the base classifier (cloned for the inner folds).
    folds: inner folds producing the out-of-fold scores the calibrator learns from.
    random_state: seed of the inner folds.
    The calibrator is a multinomial logistic regression, or a ``ScaledSoftmax`` when there
    are fewer than ``SMALL_TRAINING_SET`` examples. When some label has fewer than two
    examples, or an inner fold lacks a label, no calibrator is fitted (``calibrator_`` is
    None) and probabilities are a softmax of the scores.
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
        self.calibrator_: Any
        if scores is None:
            self.calibrator_ = None
        elif len(target) < SMALL_TRAINING_SET:
            self.calibrator_ = ScaledSoftmax().fit(scores, target)
        else:
            self.calibrator_ = LogisticRegression(C=1.0, max_iter=1000).fit(scores, target)
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
