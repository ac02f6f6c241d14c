"""The stance classifier: hashed cased n-grams -> TF-IDF -> NB-SVM -> calibrated probabilities.

Two steps, composed the scikit-learn way: ``HashedTfidf`` (texts -> L2-normalised TF-IDF
rows over hashed character and word n-grams, computed by the compiled kernel in
``hashing``) and ``GroupCalibratedClassifier(NBSVMClassifier)`` (one-vs-rest linear scores
-> multinomial logistic calibration fitted on out-of-fold scores, groups kept apart).
No vocabulary: a token never seen before costs a hash, not a dictionary entry, so a
long-running server's memory stays flat.

The fitted model is arrays + JSON (``to_arrays`` / ``from_arrays``): it is saved and loaded
without pickle, and loading it can never run code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from swarmlens.classifier.errors import ArtifactFormatError, TrainingDataError
from swarmlens.classifier.model import explain, hashing
from swarmlens.classifier.model.calibration import GroupCalibratedClassifier
from swarmlens.classifier.model.nbsvm import NBSVMClassifier
from swarmlens.classifier.text.prepare import prepare
from swarmlens.classifier.vocab import LABELS

ARCHITECTURE = "hashed-ngram-nbsvm-calibrated.v1"


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
    """Texts -> TF-IDF over hashed n-grams: a character block and a word block, side by side.

    Each family is hashed into its own block of ``n_features`` columns, weighted (sublinear
    tf x smooth idf), L2-normalised on its own, then the blocks are concatenated (the word
    block scaled by ``word_weight``): neither family drowns the other.

    char_ngram_range / char_mode / char_lowercase: character n-grams (see ``ngrams``).
    word_ngram_range / word_lowercase: word n-grams ((0, 0) for none).
    n_features: hash buckets per family (a power of two).
    word_weight: weight of the word block relative to the character block.
    sublinear_tf: 1 + log(count) instead of counts.
    mask_urls / mask_mentions: passed to ``text.prepare.prepare``.
    """

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = (1, 5),
        char_mode: str = "char_wb",
        char_lowercase: bool = True,
        word_ngram_range: tuple[int, int] = (1, 2),
        word_lowercase: bool = True,
        n_features: int = 2**20,
        word_weight: float = 1.0,
        sublinear_tf: bool = True,
        mask_urls: bool = True,
        mask_mentions: bool = True,
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

    def _specs(self) -> list[hashing.HashingSpec]:
        specs = [
            hashing.HashingSpec(
                char_ngram_range=tuple(self.char_ngram_range),
                char_mode=self.char_mode,
                char_lowercase=self.char_lowercase,
                word_ngram_range=(0, 0),
                n_features=self.n_features,
            )
        ]
        if tuple(self.word_ngram_range) != (0, 0):
            specs.append(
                hashing.HashingSpec(
                    char_ngram_range=(0, 0),
                    word_ngram_range=tuple(self.word_ngram_range),
                    word_lowercase=self.word_lowercase,
                    n_features=self.n_features,
                )
            )
        return specs

    def counts(self, X: Sequence[str] | pa.Array) -> list[sp.csr_matrix]:
        """Raw hashed counts per family (character block first), one row per text."""
        prepared = prepare(X, self.mask_urls, self.mask_mentions)
        return [hashing.featurize(prepared, spec) for spec in self._specs()]

    def _weigh(self, counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
        matrix = counts.astype(np.float32, copy=True)
        if self.sublinear_tf:
            np.log(matrix.data, out=matrix.data)
            matrix.data += 1.0
        matrix.data *= idf[matrix.indices]
        squares = matrix.copy()
        squares.data **= 2
        norms = np.sqrt(np.asarray(squares.sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        matrix.data /= np.repeat(norms, np.diff(matrix.indptr)).astype(np.float32)
        return matrix

    def fit(self, X: Sequence[str] | pa.Array, y: object = None) -> HashedTfidf:
        families = self.counts(X)
        n = families[0].shape[0]
        # Smooth idf, as scikit-learn's TfidfTransformer: unseen buckets get the largest weight.
        self.idf_ = [
            (np.log((1 + n) / (1 + np.bincount(c.indices, minlength=self.n_features))) + 1)
            .astype(np.float32)
            for c in families
        ]
        return self

    def transform(self, X: Sequence[str] | pa.Array) -> sp.csr_matrix:
        check_is_fitted(self, "idf_")
        blocks = [
            self._weigh(c, idf) for c, idf in zip(self.counts(X), self.idf_, strict=True)
        ]
        if len(blocks) > 1 and self.word_weight != 1.0:
            blocks[1].data *= np.float32(self.word_weight)
        return sp.hstack(blocks, format="csr", dtype=np.float32)


class StanceClassifier(ClassifierMixin, BaseEstimator):
    """Supportive / opposing / neutral classifier with calibrated probabilities.

    Featurizer parameters: see ``HashedTfidf``. C, alpha, class_weight, nb_scaling: see
    ``NBSVMClassifier``. calibration_folds: inner folds producing the out-of-fold scores
    the calibrator learns from. random_state: seed of the inner folds and the SVMs.
    """

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = (1, 5),
        char_mode: str = "char_wb",
        char_lowercase: bool = True,
        word_ngram_range: tuple[int, int] = (1, 2),
        word_lowercase: bool = True,
        n_features: int = 2**20,
        word_weight: float = 1.0,
        sublinear_tf: bool = True,
        mask_urls: bool = True,
        mask_mentions: bool = True,
        C: float = 1.0,
        alpha: float = 1.0,
        class_weight: str | None = "balanced",
        nb_scaling: bool = True,
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
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.nb_scaling = nb_scaling
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    _FEATURIZER_PARAMS = (
        "char_ngram_range",
        "char_mode",
        "char_lowercase",
        "word_ngram_range",
        "word_lowercase",
        "n_features",
        "word_weight",
        "sublinear_tf",
        "mask_urls",
        "mask_mentions",
    )

    def _steps(self) -> tuple[HashedTfidf, GroupCalibratedClassifier]:
        featurizer = HashedTfidf(**{k: getattr(self, k) for k in self._FEATURIZER_PARAMS})
        scorer = GroupCalibratedClassifier(
            NBSVMClassifier(
                C=self.C,
                alpha=self.alpha,
                class_weight=self.class_weight,
                nb_scaling=self.nb_scaling,
                random_state=self.random_state,
            ),
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

    def transform_texts(self, X: Sequence[str] | pa.Array) -> sp.csr_matrix:
        """Feature matrix of texts (exposed so callers can reuse it for several outputs)."""
        check_is_fitted(self, "scorer_")
        return self.featurizer_.transform(X)

    def decision_function(self, X: Sequence[str] | pa.Array) -> np.ndarray:
        """One-vs-rest scores, shape (len(X), n_classes)."""
        check_is_fitted(self, "scorer_")
        return self.scorer_.decision_function(self.transform_texts(X))

    def predict_proba(self, X: Sequence[str] | pa.Array) -> np.ndarray:
        """Calibrated probabilities, shape (len(X), n_classes), columns in ``classes_`` order."""
        check_is_fitted(self, "scorer_")
        return self.scorer_.proba_from_scores(self.decision_function(X))

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
        weights = dict(zip(vector.indices.tolist(), vector.data.tolist(), strict=True))
        featurizer = self.featurizer_
        prepared = prepare([text], featurizer.mask_urls, featurizer.mask_mentions)[0].as_py()
        found = []
        for block, spec in enumerate(featurizer._specs()):
            offset = block * featurizer.n_features  # each family has its own block of columns
            found += [(offset + i, owners) for i, owners in explain.occurrences(prepared, spec)]
        per_feature: dict[int, int] = {}
        for index, _ in found:
            per_feature[index] = per_feature.get(index, 0) + 1
        totals: dict[str, float] = {}
        for index, owners in found:
            share = weights.get(index, 0.0) * float(self.coef_[row, index]) / per_feature[index]
            for owner, fraction in owners:
                totals[owner] = totals.get(owner, 0.0) + share * fraction
        ranked = sorted(totals.items(), key=lambda item: -item[1])
        return [Contribution(term, round(weight, 4)) for term, weight in ranked[:top]]

    # -- arrays + JSON, no pickle -------------------------------------------------------

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The fitted model as named arrays and a JSON-able config (see ``artifact``)."""
        check_is_fitted(self, "scorer_")
        calibrator = self.scorer_.calibrator_
        arrays = {
            **{f"idf.{i}": idf for i, idf in enumerate(self.featurizer_.idf_)},
            "coef": np.asarray(self.coef_, dtype=np.float32),
            "intercept": np.asarray(self.intercept_, dtype=np.float32),
        }
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
        }
        return arrays, config

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> StanceClassifier:
        """Rebuild a fitted model from ``to_arrays`` output; validates shapes and names."""
        if config.get("architecture") != ARCHITECTURE:
            raise ArtifactFormatError(
                f"model architecture {config.get('architecture')!r} is not {ARCHITECTURE!r}: "
                "retrain it with `swarmlens train`"
            )
        try:
            params = {
                k: tuple(v) if isinstance(v, list) else v for k, v in config["params"].items()
            }
            model = cls(**params)
            classes = np.array(config["classes"], dtype=object)
            featurizer, scorer = model._steps()
            blocks = len(featurizer._specs())
            idf = [arrays[f"idf.{i}"].astype(np.float32) for i in range(blocks)]
            coef, intercept = arrays["coef"], arrays["intercept"]
            n = int(model.n_features)
            if any(v.shape != (n,) for v in idf) or coef.shape != (len(classes), n * blocks) or (
                intercept.shape != (len(classes),)
            ):
                raise ValueError("array shapes do not match the config")
            featurizer.idf_ = idf
            base = scorer.estimator
            base.classes_, base.coef_, base.intercept_ = classes, coef, intercept
            scorer.estimator_ = base
            scorer.classes_ = classes
            scorer.calibrator_ = None
            if "calibration.coef" in arrays:
                scorer.calibrator_ = _Softmax(
                    arrays["calibration.coef"], arrays["calibration.intercept"], classes
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactFormatError(f"model arrays are inconsistent: {exc}") from None
        model.featurizer_, model.scorer_, model.classes_ = featurizer, scorer, classes
        return model


class _Softmax:
    """A fitted multinomial (or binary) logistic regression, from its arrays alone.

    Gives exactly scikit-learn's ``LogisticRegression.predict_proba`` for the same
    coefficients, without needing the estimator object (which only pickle could restore).
    """

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray) -> None:
        self.coef_, self.intercept_, self.classes_ = coef, intercept, classes

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        logits = scores @ self.coef_.T + self.intercept_
        if logits.shape[1] == 1:  # binary: scikit-learn uses one sigmoid
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)
