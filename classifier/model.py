"""The stance classifier: a scikit-learn estimator over the three stance labels.

Texts go through ``TokenFeaturizer`` (in-token character n-grams + token
unigrams, TF-IDF, URLs and mentions masked) into a linear SVM whose scores are
calibrated into probabilities (Platt scaling, cross-validated). Linear means
every prediction can be explained exactly: a post's decision score is the sum
of its terms' contributions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from classifier.config import LABELS, MODEL_DEFAULTS
from classifier.errors import NotFittedError, TrainingDataError
from classifier.features import TokenFeaturizer


@dataclass(frozen=True, slots=True)
class Contribution:
    """How much one term pushed a post towards (positive) or away from a label."""

    term: str
    weight: float


def validate_training_data(texts: Sequence[object], labels: Sequence[object]) -> list[str]:
    """Check texts and labels once, at the door; return the labels as strings.

    Raises TrainingDataError naming the first bad row (1-based), or when fewer
    than two labels are present.
    """
    if len(texts) != len(labels):
        raise TrainingDataError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise TrainingDataError("no training examples")
    clean: list[str] = []
    for row, (text, label) in enumerate(zip(texts, labels, strict=True), start=1):
        if not isinstance(text, str):
            raise TrainingDataError(f"row {row}: text must be a string, got {type(text).__name__}")
        if label not in LABELS:
            raise TrainingDataError(
                f"row {row}: unknown label {label!r}; expected one of {', '.join(LABELS)}"
            )
        clean.append(str(label))
    present = sorted(set(clean))
    if len(present) < 2:
        raise TrainingDataError(
            f"training data has only the label {present[0]!r}: a classifier needs at least two "
            f"of {', '.join(LABELS)}"
        )
    return clean


class StanceClassifier(ClassifierMixin, BaseEstimator):
    """Supportive / opposing / neutral classifier with calibrated probabilities.

    char_ngram_range, word_features, hashtag_words, min_df, sublinear_tf:
        passed to ``TokenFeaturizer``.
    C: inverse regularisation strength of the linear SVM.
    class_weight: 'balanced' (default: opposing posts are rare in real data) or None.
    calibration_folds: folds for the cross-validated sigmoid calibration (fewer
        are used when a class has fewer examples).
    random_state: seed for the calibration folds.
    """

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = MODEL_DEFAULTS["char_ngram_range"],
        word_features: bool = MODEL_DEFAULTS["word_features"],
        hashtag_words: bool = MODEL_DEFAULTS["hashtag_words"],
        min_df: int = MODEL_DEFAULTS["min_df"],
        sublinear_tf: bool = MODEL_DEFAULTS["sublinear_tf"],
        C: float = MODEL_DEFAULTS["C"],
        class_weight: str | None = MODEL_DEFAULTS["class_weight"],
        calibration_folds: int = MODEL_DEFAULTS["calibration_folds"],
        random_state: int = 0,
    ) -> None:
        self.char_ngram_range = char_ngram_range
        self.word_features = word_features
        self.hashtag_words = hashtag_words
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf
        self.C = C
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def fit(self, X: Sequence[str], y: Sequence[str]) -> StanceClassifier:
        """Fit on texts ``X`` with stance labels ``y`` (each one of ``LABELS``)."""
        labels = validate_training_data(X, y)
        self.featurizer_ = TokenFeaturizer(
            char_ngram_range=tuple(self.char_ngram_range),
            word_features=self.word_features,
            hashtag_words=self.hashtag_words,
            min_df=self.min_df,
            sublinear_tf=self.sublinear_tf,
        ).fit(X)
        matrix = self.featurizer_.transform(X)
        target = np.array(labels, dtype=object)
        svm = LinearSVC(C=self.C, class_weight=self.class_weight)
        smallest = min(np.unique(target, return_counts=True)[1])
        folds = min(self.calibration_folds, int(smallest))
        if folds >= 2:
            cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            # ensemble=False: one SVM fitted on all data, calibrated on out-of-fold
            # scores; one matrix product per prediction instead of one per fold.
            self.model_ = CalibratedClassifierCV(svm, method="sigmoid", cv=cv, ensemble=False).fit(
                matrix, target
            )
        else:
            # A class with a single example leaves nothing to calibrate on.
            self.model_ = _Uncalibrated(svm.fit(matrix, target))
        self.classes_ = np.array(self.model_.classes_)
        self.coef_, self.intercept_ = self._linear_parts()
        return self

    def _linear_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """Average weight vector per class over the calibrated folds (for explanations)."""
        estimators = [c.estimator for c in getattr(self.model_, "calibrated_classifiers_", [])] or [
            self.model_.estimator
        ]
        coef = np.mean([_ovr_coef(e, len(self.classes_)) for e in estimators], axis=0)
        intercept = np.mean([_ovr_intercept(e, len(self.classes_)) for e in estimators], axis=0)
        return coef.astype(np.float32), intercept.astype(np.float32)

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("StanceClassifier is not fitted: call fit() or load a model")

    def transform_texts(self, X: Sequence[str]) -> object:
        """Feature matrix of texts (exposed so callers can reuse it for several outputs)."""
        self._check()
        return self.featurizer_.transform(X)

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape (len(X), 3), columns in ``classes_`` order."""
        matrix = self.transform_texts(X)
        return self.model_.predict_proba(matrix)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The most probable label of each text."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def scores(self, X: Sequence[str]) -> list[dict[str, float]]:
        """Probabilities as {label: p} dicts keyed in ``LABELS`` order."""
        proba = self.predict_proba(X)
        order = [list(self.classes_).index(label) for label in LABELS if label in self.classes_]
        names = [self.classes_[i] for i in order]
        return [
            {name: float(row[i]) for name, i in zip(names, order, strict=True)} for row in proba
        ]

    def explain(self, text: str, label: str | None = None, top: int = 5) -> list[Contribution]:
        """Terms of ``text`` that contributed most to ``label`` (default: the predicted one).

        text: the post text. label: the label to explain. top: how many terms.
        Weights are each term's share of the linear decision score for that label.
        """
        self._check()
        if label is None:
            label = str(self.predict([text])[0])
        row = list(self.classes_).index(label)
        feat = self.featurizer_
        vector = feat.transform([text])
        weights = dict(zip(vector.indices.tolist(), vector.data.tolist(), strict=True))
        totals: dict[str, float] = {}
        counts: dict[int, float] = {}
        terms = feat.terms(text)
        for term in terms:
            indices, values = feat.term_features(term)
            for i, v in zip(indices.tolist(), values.tolist(), strict=True):
                counts[i] = counts.get(i, 0.0) + v
        for term in dict.fromkeys(terms):
            indices, values = feat.term_features(term)
            n = terms.count(term)
            score = 0.0
            for i, v in zip(indices.tolist(), values.tolist(), strict=True):
                # A feature shared by several terms is split in proportion to their counts.
                score += weights.get(i, 0.0) * (v * n / counts[i]) * float(self.coef_[row, i])
            totals[term] = score
        ranked = sorted(totals.items(), key=lambda item: -item[1])
        return [Contribution(term, round(weight, 4)) for term, weight in ranked[:top]]


def _ovr_coef(estimator: object, n_classes: int) -> np.ndarray:
    coef = np.asarray(estimator.coef_)
    return coef if coef.shape[0] == n_classes else np.vstack([-coef[0], coef[0]])


def _ovr_intercept(estimator: object, n_classes: int) -> np.ndarray:
    intercept = np.atleast_1d(np.asarray(estimator.intercept_))
    return intercept if intercept.shape[0] == n_classes else np.array([-intercept[0], intercept[0]])


class _Uncalibrated:
    """Wraps a tiny-data SVM so it answers like a calibrated one (softmax of its scores)."""

    def __init__(self, estimator: LinearSVC) -> None:
        self.estimator = estimator
        self.classes_ = estimator.classes_

    def predict_proba(self, matrix: object) -> np.ndarray:
        scores = np.atleast_2d(self.estimator.decision_function(matrix))
        if scores.shape[0] != matrix.shape[0]:  # type: ignore[attr-defined]
            scores = scores.T
        if scores.shape[1] == 1:
            scores = np.hstack([-scores, scores])
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)
