"""The stance classifier: hashed cased n-grams + subword vectors -> NB-SVM -> calibrated
probabilities.

Two steps, composed the scikit-learn way: ``HashedTfidf`` (texts -> L2-normalised TF-IDF
rows over hashed character and word n-grams, computed by the compiled kernel in
``hashing``, beside the post's pooled pretrained subword vectors from ``subwords``) and
``GroupCalibratedClassifier(NBSVMClassifier)`` (one-vs-rest linear scores -> multinomial
logistic calibration fitted on out-of-fold scores, groups kept apart). No vocabulary of
our own: a token never seen before costs a hash and a few lookups in the fixed subword
table, not a dictionary entry, so a long-running server's memory stays flat.

The fitted model is arrays + JSON (``to_arrays``): it is saved and loaded without pickle,
and loading it can never run code; ``linear.LinearStanceModel`` scores from those arrays
without scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from swarmlens.classifier.errors import TrainingDataError
from swarmlens.classifier.model import hashing, subwords
from swarmlens.classifier.model.calibration import GroupCalibratedClassifier
from swarmlens.classifier.model.evidence import answer, no_text
from swarmlens.classifier.model.fused import scoring_table
from swarmlens.classifier.model.linear import (
    ARCHITECTURE,
    FEATURE_PARAMS,
    Contribution,
    decision_function,
    explain_text,
    family_counts,
    feature_specs,
    features,
    hashed_columns,
    prepared_texts,
)
from swarmlens.classifier.model.nbsvm import NBSVMClassifier
from swarmlens.classifier.vocab import LABELS


def validate_training_data(texts: Sequence[object], labels: Sequence[object]) -> list[str]:
    """Check texts and labels once, at the door; return the labels as strings.

    Raises TrainingDataError naming the first bad row (1-based), or when fewer
    than two labels are present.
    """
    if len(texts) != len(labels):
        raise TrainingDataError(f"{len(texts)} texts but {len(labels)} labels")
    if not len(texts):
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


class HashedTfidf(TransformerMixin, BaseEstimator):
    """Texts -> TF-IDF over hashed n-grams (a character block and a word block) and pooled
    subword vectors, side by side.

    Each family is hashed into its own block of ``n_features`` columns, weighted (sublinear
    tf x smooth idf), L2-normalised on its own, then the blocks are concatenated (the word
    block scaled by ``word_weight``): neither family drowns the other. Then the post's
    pretrained subword vectors (``subwords``), summed over sqrt(pieces), divided by their
    median norm on the training texts and scaled by ``vectors_weight`` (0 for none): they
    carry what the words mean, which helps on posts whose words the labels never had.

    char_ngram_range / char_mode / char_lowercase: character n-grams (see ``ngrams``).
    word_ngram_range / word_lowercase: word n-grams ((0, 0) for none).
    n_features: hash buckets per family (a power of two).
    word_weight: weight of the word block relative to the character block.
    sublinear_tf: 1 + log(count) instead of counts.
    mask_urls / mask_mentions: passed to ``text.prepare.prepare``.
    vectors_weight: weight of the subword vector block (0: no vectors).
    """

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = (2, 5),
        char_mode: str = "char_wb",
        char_lowercase: bool = False,
        word_ngram_range: tuple[int, int] = (1, 2),
        word_lowercase: bool = False,
        n_features: int = 2**20,
        word_weight: float = 1.0,
        sublinear_tf: bool = True,
        mask_urls: bool = True,
        mask_mentions: bool = True,
        vectors_weight: float = 0.5,
    ) -> None:
        self.char_ngram_range = char_ngram_range
        self.char_mode = char_mode
        self.char_lowercase = char_lowercase
        self.word_ngram_range = word_ngram_range
        self.word_lowercase = word_lowercase
        self.n_features = n_features
        self.word_weight = word_weight
        self.sublinear_tf = sublinear_tf
        self.mask_urls = mask_urls
        self.mask_mentions = mask_mentions
        self.vectors_weight = vectors_weight

    def _params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in FEATURE_PARAMS}

    def specs(self) -> list[hashing.HashingSpec]:
        """The hashing spec of each n-gram block, in column order."""
        return feature_specs(self._params())

    def counts(self, X: Sequence[str] | pa.Array) -> list[sp.csr_matrix]:
        """Raw hashed counts per family (character block first), one row per text."""
        return family_counts(X, self._params())

    def fit(self, X: Sequence[str] | pa.Array, y: object = None) -> HashedTfidf:
        prepared = prepared_texts(X, self._params())  # once, for both kinds of feature
        families = family_counts(X, self._params(), prepared)
        n = families[0].shape[0]
        # Smooth idf, as scikit-learn's TfidfTransformer: unseen buckets get the largest weight.
        self.idf_ = [
            (np.log((1 + n) / (1 + np.bincount(c.indices, minlength=self.n_features))) + 1)
            .astype(np.float32)
            for c in families
        ]
        self.vectors_ = subwords.load_wordllama() if self.vectors_weight > 0 else None
        self.vectors_scale_ = 1.0
        if self.vectors_ is not None:
            norms = np.linalg.norm(subwords.pooled(prepared, self.vectors_), axis=1)
            if np.any(norms > 0):
                self.vectors_scale_ = float(np.median(norms[norms > 0]))
        return self

    @property
    def n_dense_(self) -> int:
        """Dense columns at the end of the matrix (the subword vectors)."""
        check_is_fitted(self, "idf_")
        return self.vectors_.dims if self.vectors_ is not None else 0

    def transform(self, X: Sequence[str] | pa.Array) -> sp.csr_matrix:
        check_is_fitted(self, "idf_")
        return features(X, self._params(), self.idf_, self.vectors_, self.vectors_scale_)


class StanceClassifier(ClassifierMixin, BaseEstimator):
    """Supportive / opposing / neutral classifier with calibrated probabilities.

    Featurizer parameters: see ``HashedTfidf``. C, alpha, class_weight, nb_scaling: see
    ``NBSVMClassifier``. calibration_folds: inner folds producing the out-of-fold scores
    the calibrator learns from. random_state: seed of the inner folds and the SVMs.
    """

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = (2, 5),
        char_mode: str = "char_wb",
        char_lowercase: bool = False,
        word_ngram_range: tuple[int, int] = (1, 2),
        word_lowercase: bool = False,
        n_features: int = 2**20,
        word_weight: float = 1.0,
        sublinear_tf: bool = True,
        mask_urls: bool = True,
        mask_mentions: bool = True,
        vectors_weight: float = 0.5,
        C: float = 1.0,
        alpha: float = 1.0,
        class_weight: str | None = "balanced",
        nb_scaling: bool | float = True,
        calibration_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.char_ngram_range = char_ngram_range
        self.char_mode = char_mode
        self.char_lowercase = char_lowercase
        self.word_ngram_range = word_ngram_range
        self.word_lowercase = word_lowercase
        self.n_features = n_features
        self.word_weight = word_weight
        self.sublinear_tf = sublinear_tf
        self.mask_urls = mask_urls
        self.mask_mentions = mask_mentions
        self.vectors_weight = vectors_weight
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.nb_scaling = nb_scaling
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _featurizer(self) -> HashedTfidf:
        return HashedTfidf(**{k: getattr(self, k) for k in FEATURE_PARAMS})

    def _scorer(self, n_dense: int) -> GroupCalibratedClassifier:
        return GroupCalibratedClassifier(
            NBSVMClassifier(
                C=self.C,
                alpha=self.alpha,
                class_weight=self.class_weight,
                nb_scaling=self.nb_scaling,
                n_dense=n_dense,
                random_state=self.random_state,
            ),
            folds=self.calibration_folds,
            random_state=self.random_state,
        )

    def fit(
        self, X: Sequence[str], y: Sequence[str], groups: Sequence[object] | None = None
    ) -> StanceClassifier:
        """Fit on texts ``X`` with stance labels ``y`` (each one of ``LABELS``).

        groups: author or thread of each text; keeps calibration folds honest.
        """
        labels = validate_training_data(X, y)
        self.featurizer_ = self._featurizer().fit(X)
        self.scorer_ = self._scorer(self.featurizer_.n_dense_).fit(
            self.featurizer_.transform(X), labels, groups=groups
        )
        self.classes_ = self.scorer_.classes_
        # Scoring reads each hashed column's idf and weights together: tabled once, here.
        coef = np.asarray(self.coef_, np.float32)
        hashed = hashed_columns(self.featurizer_._params())
        self.scoring_table_ = scoring_table(self.featurizer_.idf_, coef[:, :hashed])
        # The pooling is linear in the vectors: they fold into one weight per piece and
        # label, so scoring never touches a 256-d vector.
        self.piece_weights_ = None
        if (vectors := self.featurizer_.vectors_) is not None:
            scale = self.vectors_weight / self.featurizer_.vectors_scale_
            # einsum's own loop, not BLAS: the same sums in the same order whatever the
            # thread count, so a rebuilt default model has the same bytes.
            folded = np.einsum("pd,cd->pc", vectors.rows.astype(np.float64),
                               coef[:, hashed:].astype(np.float64), optimize=False)
            self.piece_weights_ = vectors.with_rows(folded * scale)
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

    def transform_texts(self, X: Sequence[str] | pa.Array) -> sp.csr_matrix:
        """Feature matrix of texts (exposed so callers can reuse it for several outputs)."""
        check_is_fitted(self, "scorer_")
        return self.featurizer_.transform(X)

    def decision_function(self, X: Sequence[str] | pa.Array) -> np.ndarray:
        """One-vs-rest scores, shape (len(X), n_classes)."""
        check_is_fitted(self, "scorer_")
        intercept = np.asarray(self.intercept_, np.float32)
        return decision_function(X, self.featurizer_._params(), self.scoring_table_, intercept,
                                 self.piece_weights_)

    def predict_proba(self, X: Sequence[str] | pa.Array) -> np.ndarray:
        """Calibrated probabilities, shape (len(X), n_classes), columns in ``classes_`` order.

        A text without usable features gets ``evidence.NO_TEXT_ANSWER`` (neutral, no side),
        and no probability is ever 0 or 1 (``evidence.answer``)."""
        return self.predict_proba_and_no_text(X)[0]

    def predict_proba_and_no_text(
        self, X: Sequence[str] | pa.Array
    ) -> tuple[np.ndarray, np.ndarray]:
        """``predict_proba`` and which texts got the no-text answer (``no_text``), from one
        scoring pass."""
        check_is_fitted(self, "scorer_")
        scores = self.decision_function(X)
        intercept = np.asarray(self.intercept_, np.float32)
        return (answer(self.scorer_.proba_from_scores(scores), scores, intercept, self.classes_),
                no_text(scores, intercept))

    def no_text(self, X: Sequence[str] | pa.Array) -> np.ndarray:
        """Which texts have no usable feature (and get ``evidence.NO_TEXT_ANSWER``)."""
        check_is_fitted(self, "scorer_")
        return no_text(self.decision_function(X), np.asarray(self.intercept_, np.float32))

    def predict(self, X: Sequence[str] | pa.Array) -> np.ndarray:
        """The most probable label of each text."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def explain(self, text: str, label: str | None = None, top: int = 5) -> list[Contribution]:
        """Words of ``text`` that contributed most to ``label`` (default: the predicted one).

        text: the post text. label: the label to explain. top: how many words.
        Each hashed feature's contribution (its TF-IDF weight times the label's weight) is
        shared among the words its n-grams overlap, so the contributions of all words add
        up exactly to the label's decision score minus its intercept.
        """
        check_is_fitted(self, "scorer_")
        if label is None:
            label = str(self.predict([text])[0])
        row = list(self.classes_).index(label)
        vector = self.transform_texts([text])
        pieces_of = None if self.piece_weights_ is None else (self.piece_weights_, row)
        return explain_text(text, self.featurizer_._params(), vector, self.coef_[row], top,
                            pieces_of)

    # -- arrays + JSON, no pickle -------------------------------------------------------

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The fitted model as named arrays and a JSON-able config (see ``artifact``)."""
        check_is_fitted(self, "scorer_")
        calibrator = self.scorer_.calibrator_
        hashed = hashed_columns(self.featurizer_._params())
        arrays = {
            **{f"idf.{i}": idf for i, idf in enumerate(self.featurizer_.idf_)},
            "coef": np.asarray(self.coef_[:, :hashed], dtype=np.float32),
            "intercept": np.asarray(self.intercept_, dtype=np.float32),
        }
        if self.piece_weights_ is not None:  # the subword block, folded
            arrays.update(self.piece_weights_.to_arrays())
        if calibrator is not None:
            arrays["calibration.coef"] = np.asarray(calibrator.coef_, dtype=np.float64)
            arrays["calibration.intercept"] = np.asarray(calibrator.intercept_, dtype=np.float64)
        params = {
            k: list(v) if isinstance(v, tuple) else v for k, v in self.get_params().items()
        }
        config = {
            "architecture": ARCHITECTURE,
            "params": params,
            "classes": [str(c) for c in self.classes_],
            "vectors": subwords.describe(self.featurizer_.vectors_,
                                         self.featurizer_.vectors_scale_),
        }
        return arrays, config
