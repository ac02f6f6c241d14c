"""The stance classifier: a scikit-learn estimator over the three stance labels.

Texts go through ``TokenFeaturizer`` (in-token character n-grams + token
unigrams, TF-IDF, URLs and mentions masked) into an NB-SVM whose scores are
calibrated into probabilities. Linear means every prediction can be explained
exactly: a post's decision score is the sum of its terms' contributions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
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

    The model is an NB-SVM (Wang & Manning, 2012): for each label, features are
    scaled by their log-count ratio between that label and the rest, and a
    linear SVM separates the label from the rest. The scaling folds into the
    SVM's weights, so prediction is one sparse product. A multinomial logistic
    regression maps the three SVM scores to probabilities; it is fitted on
    out-of-fold scores (folds keep groups apart when ``groups`` are given).

    char_ngram_range, word_features, hashtag_words, min_df, sublinear_tf:
        passed to ``TokenFeaturizer``.
    C: inverse regularisation strength of the SVMs.
    alpha: smoothing of the log-count ratios.
    class_weight: 'balanced' (default: opposing posts are rare in real data) or None.
    calibration_folds: inner folds producing the scores the calibrator learns from.
    random_state: seed for the inner folds.
    """

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = MODEL_DEFAULTS["char_ngram_range"],
        word_features: bool = MODEL_DEFAULTS["word_features"],
        hashtag_words: bool = MODEL_DEFAULTS["hashtag_words"],
        min_df: int = MODEL_DEFAULTS["min_df"],
        sublinear_tf: bool = MODEL_DEFAULTS["sublinear_tf"],
        C: float = MODEL_DEFAULTS["C"],
        alpha: float = MODEL_DEFAULTS["alpha"],
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
        self.alpha = alpha
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def fit(
        self, X: Sequence[str], y: Sequence[str], groups: Sequence[object] | None = None
    ) -> StanceClassifier:
        """Fit on texts ``X`` with stance labels ``y`` (each one of ``LABELS``).

        groups: author or thread of each text; keeps calibration folds honest.
        """
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
        # Sorted, as scikit-learn orders classes: the calibrator's columns then line up.
        self.classes_ = np.array(sorted(set(labels)), dtype=object)
        self.coef_, self.intercept_ = self._fit_linear(matrix, target)
        scores = self._out_of_fold_scores(matrix, target, groups)
        if scores is None:
            self.calibrator_ = None  # too few examples per class to hold any out
        else:
            self.calibrator_ = LogisticRegression(C=1.0, max_iter=1000).fit(scores, target)
        return self

    def _fit_linear(
        self, matrix: sp.csr_matrix, target: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        present = matrix.copy()
        present.data[:] = 1.0
        coef = np.zeros((len(self.classes_), matrix.shape[1]), dtype=np.float32)
        intercept = np.zeros(len(self.classes_), dtype=np.float32)
        for row, label in enumerate(self.classes_):
            mine = target == label
            p = self.alpha + np.asarray(present[mine].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(present[~mine].sum(axis=0)).ravel()
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            svm = LinearSVC(C=self.C, class_weight=self.class_weight)
            svm.fit(matrix @ sp.diags(ratio), mine.astype(int))
            # (x * r) . w == x . (r * w): the ratio folds into the weights.
            coef[row] = ratio * svm.coef_.ravel()
            intercept[row] = svm.intercept_[0]
        return coef, intercept

    def _out_of_fold_scores(
        self, matrix: sp.csr_matrix, target: np.ndarray, groups: Sequence[object] | None
    ) -> np.ndarray | None:
        counts = np.unique(target, return_counts=True)[1]
        folds = min(self.calibration_folds, int(counts.min()))
        if folds < 2:
            return None
        scores = np.zeros((len(target), len(self.classes_)))
        if groups is not None and len(set(groups)) >= folds:
            splits = StratifiedGroupKFold(
                folds, shuffle=True, random_state=self.random_state
            ).split(matrix, target, np.asarray(groups, dtype=object))
        else:
            splits = StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(
                matrix, target
            )
        for train, test in splits:
            if len(set(target[train])) < len(self.classes_):
                return None
            coef, intercept = self._fit_linear(matrix[train], target[train])
            scores[test] = matrix[test] @ coef.T + intercept
        return scores

    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("StanceClassifier is not fitted: call fit() or load a model")

    def transform_texts(self, X: Sequence[str]) -> sp.csr_matrix:
        """Feature matrix of texts (exposed so callers can reuse it for several outputs)."""
        self._check()
        return self.featurizer_.transform(X)

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """One-vs-rest SVM scores, shape (len(X), n_classes)."""
        return np.asarray(self.transform_texts(X) @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape (len(X), n_classes), columns in ``classes_`` order."""
        scores = self.decision_function(X)
        if self.calibrator_ is not None:
            return self.calibrator_.predict_proba(scores)
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The most probable label of each text."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def explain(self, text: str, label: str | None = None, top: int = 5) -> list[Contribution]:
        """Terms of ``text`` that contributed most to ``label`` (default: the predicted one).

        text: the post text. label: the label to explain. top: how many terms.
        Weights are each term's share of that label's linear decision score.
        """
        self._check()
        if label is None:
            label = str(self.predict([text])[0])
        row = list(self.classes_).index(label)
        feat = self.featurizer_
        vector = feat.transform([text])
        weights = dict(zip(vector.indices.tolist(), vector.data.tolist(), strict=True))
        terms = feat.terms(text)
        counts: dict[int, float] = {}
        for term in terms:
            indices, values = feat.term_features(term)
            for i, v in zip(indices.tolist(), values.tolist(), strict=True):
                counts[i] = counts.get(i, 0.0) + v
        totals: dict[str, float] = {}
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
