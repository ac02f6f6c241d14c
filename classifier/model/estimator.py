"""The stance classifier: a scikit-learn estimator over the three stance labels.

Texts go through ``TokenFeaturizer`` (in-token character n-grams + token
unigrams, TF-IDF, URLs and mentions masked) into an NB-SVM (``nbsvm``) whose scores
are calibrated into probabilities by ``calibration.GroupCalibratedClassifier``. Linear means every
prediction can be explained exactly: a post's decision score is the sum of its terms' contributions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from swarmlens.classifier.errors import TrainingDataError
from swarmlens.classifier.model.calibration import GroupCalibratedClassifier
from swarmlens.classifier.model.features import TokenFeaturizer
from swarmlens.classifier.model.nbsvm import NBSVMClassifier
from swarmlens.classifier.vocab import LABELS


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

    Two steps, composed: ``TokenFeaturizer`` (texts -> TF-IDF matrix) then
    ``GroupCalibratedClassifier(NBSVMClassifier)`` (matrix -> one-vs-rest NB-SVM scores ->
    multinomial logistic calibration fitted on out-of-fold scores, folds keeping
    ``groups`` apart). Input is validated once, here, at the door.

    char_ngram_range, word_features, hashtag_words, min_df, sublinear_tf:
        passed to ``TokenFeaturizer``.
    C, alpha, class_weight: passed to ``NBSVMClassifier``.
    calibration_folds: inner folds producing the scores the calibrator learns from.
    random_state: seed for the inner folds.
    """

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = (1, 5),
        word_features: bool = True,
        hashtag_words: bool = False,
        min_df: int = 2,
        sublinear_tf: bool = True,
        C: float = 1.0,
        alpha: float = 1.0,
        class_weight: str | None = "balanced",
        calibration_folds: int = 3,
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

    def _steps(self) -> tuple[TokenFeaturizer, GroupCalibratedClassifier]:
        featurizer = TokenFeaturizer(
            char_ngram_range=tuple(self.char_ngram_range),
            word_features=self.word_features,
            hashtag_words=self.hashtag_words,
            min_df=self.min_df,
            sublinear_tf=self.sublinear_tf,
        )
        scorer = GroupCalibratedClassifier(
            NBSVMClassifier(C=self.C, alpha=self.alpha, class_weight=self.class_weight),
            folds=self.calibration_folds,
            random_state=self.random_state,
        )
        return featurizer, scorer

    def fit(
        self, X: Sequence[str], y: Sequence[str], groups: Sequence[object] | None = None
    ) -> StanceClassifier:
        """Fit on texts ``X`` with stance labels ``y`` (each one of ``LABELS``).

        groups: author or thread of each text; keeps calibration folds honest.
        """
        labels = validate_training_data(X, y)
        featurizer, scorer = self._steps()
        self.featurizer_ = featurizer.fit(X)
        self.scorer_ = scorer.fit(self.featurizer_.transform(X), labels, groups=groups)
        self.classes_ = self.scorer_.classes_
        return self

    @property
    def coef_(self) -> np.ndarray:
        """Weights of the linear scorer, shape (n_classes, n_features)."""
        check_is_fitted(self, "scorer_")
        return self.scorer_.estimator_.coef_

    @property
    def intercept_(self) -> np.ndarray:
        check_is_fitted(self, "scorer_")
        return self.scorer_.estimator_.intercept_

    def transform_texts(self, X: Sequence[str]) -> sp.csr_matrix:
        """Feature matrix of texts (exposed so callers can reuse it for several outputs)."""
        check_is_fitted(self, "scorer_")
        return self.featurizer_.transform(X)

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """One-vs-rest SVM scores, shape (len(X), n_classes)."""
        check_is_fitted(self, "scorer_")
        return self.scorer_.decision_function(self.transform_texts(X))

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape (len(X), n_classes), columns in ``classes_`` order."""
        check_is_fitted(self, "scorer_")
        return self.scorer_.proba_from_scores(self.decision_function(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The most probable label of each text."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def explain(self, text: str, label: str | None = None, top: int = 5) -> list[Contribution]:
        """Terms of ``text`` that contributed most to ``label`` (default: the predicted one).

        text: the post text. label: the label to explain. top: how many terms.
        Weights are each term's share of that label's linear decision score.
        """
        check_is_fitted(self, "scorer_")
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
