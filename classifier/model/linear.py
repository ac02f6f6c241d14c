"""The fitted stance model as arrays: scoring and explaining without scikit-learn.

Training composes scikit-learn estimators (``estimator``); scoring needs none of them. A
fitted model is idf vectors, a weight matrix, intercepts and a calibration matrix, and
``LinearStanceModel`` applies them: prepare (Arrow) -> hashed n-grams, TF-IDF and the product
fused (numba, ``fused``) + the subword pieces' folded weights (numba, ``subwords``) ->
calibrated softmax. Processes that only score (batch
workers, the server) load this from an artifact without importing scikit-learn, which
saves about a second per process. ``HashedTfidf`` uses the same functions, so training and
scoring compute features one way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from swarmlens.classifier.errors import ArtifactFormatError
from swarmlens.classifier.model import hashing
from swarmlens.classifier.model.evidence import answer, no_text
from swarmlens.classifier.model.fused import ScoringTable, scoring_table
from swarmlens.classifier.model.subwords import SubwordTable, pieces, pooled
from swarmlens.classifier.text.prepare import prepare

if TYPE_CHECKING:  # scipy is imported where a matrix is built: scoring never builds one
    import scipy.sparse as sp

ARCHITECTURE = "hashed-ngram-subword-nbsvm-calibrated.v2"
# Models saved before the subword vectors: the same arrays, read with no vector block.
_LEGACY = {"hashed-ngram-nbsvm-calibrated.v1": {"vectors_weight": 0.0}}
FEATURE_PARAMS = (
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
    "vectors_weight",
)


@dataclass(frozen=True, slots=True)
class Contribution:
    """How much one term pushed a post towards (positive) or away from a label."""

    term: str
    weight: float


def feature_specs(params: Mapping[str, Any]) -> list[hashing.HashingSpec]:
    """The hashing spec of each feature family (character block first, then words)."""
    specs = [
        hashing.HashingSpec(
            char_ngram_range=tuple(params["char_ngram_range"]),
            char_mode=params["char_mode"],
            char_lowercase=params["char_lowercase"],
            word_ngram_range=(0, 0),
            n_features=params["n_features"],
        )
    ]
    if tuple(params["word_ngram_range"]) != (0, 0):
        specs.append(
            hashing.HashingSpec(
                char_ngram_range=(0, 0),
                word_ngram_range=tuple(params["word_ngram_range"]),
                word_lowercase=params["word_lowercase"],
                n_features=params["n_features"],
            )
        )
    return specs


def prepared_texts(texts: Sequence[str] | pa.Array, params: Mapping[str, Any]) -> pa.Array:
    """The texts as the model sees them (``text.prepare.prepare`` with the model's masks)."""
    return prepare(texts, params["mask_urls"], params["mask_mentions"])


def family_counts(
    texts: Sequence[str] | pa.Array, params: Mapping[str, Any], prepared: pa.Array | None = None
) -> list[sp.csr_matrix]:
    """Hashed n-gram counts of each family, one row per text.

    prepared: ``prepared_texts(texts, params)`` when the caller has it already.
    """
    if prepared is None:
        prepared = prepared_texts(texts, params)
    return [hashing.featurize(prepared, spec) for spec in feature_specs(params)]


def weigh(counts: sp.csr_matrix, idf: np.ndarray, sublinear_tf: bool) -> sp.csr_matrix:
    """TF-IDF then L2 per row, in place on ``counts`` (a fresh matrix from ``featurize``).

    idf: the idf of each stored entry's column (aligned with ``counts.data``).
    """
    data = counts.data
    if sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    data *= idf
    row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(row_of, weights=data * data, minlength=counts.shape[0]))
    norms[norms == 0] = 1.0
    data /= norms[row_of].astype(np.float32)
    return counts


def hashed_columns(params: Mapping[str, Any]) -> int:
    """Columns of the hashed n-gram blocks (the subword vector columns follow them)."""
    return len(feature_specs(params)) * int(params["n_features"])


def features(
    texts: Sequence[str] | pa.Array,
    params: Mapping[str, Any],
    idf: Sequence[np.ndarray] | ScoringTable,
    vectors: SubwordTable | None = None,
    vectors_scale: float = 1.0,
) -> sp.csr_matrix:
    """The model's input matrix: TF-IDF blocks side by side (word block times its weight),
    then, when ``vectors`` (the pretrained vectors) are given and ``vectors_weight`` > 0,
    the pooled subword vectors times ``vectors_weight / vectors_scale``. A fitted
    ``LinearStanceModel`` has the vectors folded into its weights: its matrix is the
    hashed blocks only, with the idf read from its ``ScoringTable``.

    idf: the idf vector of each hashed block, or the ``ScoringTable`` that holds them.
    """
    prepared = prepared_texts(texts, params)  # once, for every block
    n = int(params["n_features"])
    blocks = []
    for block, counts in enumerate(family_counts(texts, params, prepared)):
        if isinstance(idf, ScoringTable):
            column_idf = idf.lookup(block * n + counts.indices, 0)
        else:
            column_idf = idf[block][counts.indices]
        blocks.append(weigh(counts, column_idf, params["sublinear_tf"]))
    if len(blocks) > 1 and params["word_weight"] != 1.0:
        blocks[1].data *= np.float32(params["word_weight"])
    if params["vectors_weight"] > 0 and vectors is not None:
        block = pooled(prepared, vectors) * (params["vectors_weight"] / vectors_scale)
        blocks.append(_csr(block.astype(np.float32)))
    if len(blocks) == 1:
        return blocks[0]
    import scipy.sparse as sp

    return sp.hstack(blocks, format="csr", dtype=np.float32)


def _csr(dense: np.ndarray) -> sp.csr_matrix:
    import scipy.sparse as sp

    return sp.csr_matrix(dense)


def decision_function(
    texts: Sequence[str] | pa.Array,
    params: Mapping[str, Any],
    table: ScoringTable,
    intercept: np.ndarray,
    piece_weights: SubwordTable | None = None,
) -> np.ndarray:
    """Decision scores, ``features(texts) @ coef.T + intercept``, by the compiled kernels.

    table: ``fused.scoring_table(idf, coef)`` of the hashed columns, the idf and
    weights of each column side by side, identical rows once. piece_weights: the subword
    vectors folded into one weight per piece and label (``SubwordTable`` with those rows),
    when the model has them.
    """
    from swarmlens.classifier.model.fused import decision_scores

    prepared = prepared_texts(texts, params)
    scores = decision_scores(prepared, params, table)
    if piece_weights is not None:
        scores += pooled(prepared, piece_weights)
    return scores + intercept


def explain_text(
    text: str,
    params: Mapping[str, Any],
    vector: sp.csr_matrix,
    weights: np.ndarray | Mapping[int, float],
    top: int,
    piece_weights: tuple[SubwordTable, int] | None = None,
) -> list[Contribution]:
    """Words of ``text`` ranked by their exact share of one label's linear score.

    vector: the text's feature row. weights: that label's weight of each of the vector's
    columns (an array over all columns, or a dict over the vector's).
    piece_weights: the model's folded subword weights and the label's column in them.
    Each hashed feature's contribution (value x weight) is split among the n-gram
    occurrences that produced it, and each occurrence's part among the words it overlaps.
    The subword block's contribution is a sum over the text's pieces (each piece's weight
    over sqrt(pieces)), and a piece lies in exactly one word.
    """
    from swarmlens.classifier.model import explain

    parts = {  # each feature's contribution: its value times the label's weight
        i: value * float(weights[i])
        for i, value in zip(vector.indices.tolist(), vector.data.tolist(), strict=True)
    }
    prepared = prepared_texts([text], params)[0].as_py()
    totals: dict[str, float] = {}
    if piece_weights is not None:
        table, column = piece_weights
        found_pieces = pieces(prepared, table)
        words = prepared.split()
        for piece, word in found_pieces:
            part = float(table.rows[piece, column]) / np.sqrt(len(found_pieces))
            totals[words[word]] = totals.get(words[word], 0.0) + part
    found = []
    for block, spec in enumerate(feature_specs(params)):
        offset = block * params["n_features"]  # each family has its own block of columns
        found += [(offset + i, owners) for i, owners in explain.occurrences(prepared, spec)]
    per_feature: dict[int, int] = {}
    for index, _ in found:
        per_feature[index] = per_feature.get(index, 0) + 1
    for index, owners in found:
        share = parts.get(index, 0.0) / per_feature[index]
        for owner, fraction in owners:
            totals[owner] = totals.get(owner, 0.0) + share * fraction
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    return [Contribution(term, round(weight, 4)) for term, weight in ranked[:top]]


def calibrated(scores: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Probabilities of a fitted (multinomial or binary) logistic regression on ``scores``.

    Exactly scikit-learn's ``LogisticRegression.predict_proba`` for these coefficients.
    """
    logits = scores @ coef.T + intercept
    if logits.shape[1] == 1:  # binary: scikit-learn uses one sigmoid (expit)
        from scipy.special import expit

        positive = expit(logits[:, 0])
        return np.vstack([1 - positive, positive]).T
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities when no calibrator could be fitted (too few examples per label)."""
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


_MAX_NGRAM = 10


def _check_params(params: Mapping[str, Any]) -> None:
    """Feature parameters from a file are data: refuse what no trained model would hold."""
    for name in ("char_ngram_range", "word_ngram_range"):
        lo, hi = params[name]
        if not all(isinstance(v, int) and 0 <= v <= _MAX_NGRAM for v in (lo, hi)) or lo > hi:
            raise ValueError(f"{name} must be two integers within 0-{_MAX_NGRAM}")
    for name in ("char_lowercase", "word_lowercase", "sublinear_tf", "mask_urls", "mask_mentions"):
        if not isinstance(params[name], bool):
            raise ValueError(f"{name} must be true or false")
    if params["char_mode"] not in ("char", "char_wb"):
        raise ValueError("char_mode must be 'char' or 'char_wb'")
    weight = params["word_weight"]
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight < 1e6:
        raise ValueError("word_weight must be a positive number")
    n = params["n_features"]
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 2**24:
        raise ValueError("n_features must be an integer within 2-2**24")
    weight = params["vectors_weight"]
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < 1e6:
        raise ValueError("vectors_weight must be a number >= 0")


class LinearStanceModel:
    """A fitted stance model for scoring: ``predict_proba``, ``predict``, ``explain``.

    Built from an artifact's arrays and config by ``from_arrays`` (see ``artifact``), or
    from a fitted ``StanceClassifier`` via its ``to_arrays``. Stateless between calls:
    scores never depend on what was scored before, and memory stays flat.
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        classes: np.ndarray,
        idf: Sequence[np.ndarray],
        coef: np.ndarray,
        intercept: np.ndarray,
        calibration: tuple[np.ndarray, np.ndarray] | None,
        piece_weights: SubwordTable | None = None,
    ) -> None:
        self.params = dict(params)
        self.classes_ = classes
        hashed = hashed_columns(self.params)
        # Scoring reads idf and weights of a column together, each distinct row once (see
        # ``fused.ScoringTable``); idf and weights live only there, so a scoring process
        # holds them once, in a few MB. Explanations read the columns they need from it.
        self.scoring_table_ = scoring_table(list(idf), coef[:, :hashed])
        self.piece_weights_ = piece_weights
        self.intercept_ = intercept
        self.calibration_ = calibration
        self.model_version_: str | None = None

    def decision_function(self, X: Sequence[str] | pa.Array) -> np.ndarray:
        return decision_function(X, self.params, self.scoring_table_, self.intercept_,
                                 self.piece_weights_)

    def predict_proba(self, X: Sequence[str] | pa.Array) -> np.ndarray:
        """Calibrated probabilities; a text without usable features gets the documented
        no-text answer and none is ever 0 or 1 (``evidence.answer``, as ``StanceClassifier``)."""
        return self.predict_proba_and_no_text(X)[0]

    def predict_proba_and_no_text(
        self, X: Sequence[str] | pa.Array
    ) -> tuple[np.ndarray, np.ndarray]:
        """``predict_proba`` and which texts got the no-text answer (``evidence.no_text``),
        from one scoring pass."""
        scores = self.decision_function(X)
        if self.calibration_ is None:
            proba = softmax(scores)
        else:
            proba = calibrated(scores, *self.calibration_)
        return (answer(proba, scores, self.intercept_, self.classes_),
                no_text(scores, self.intercept_))

    def predict(self, X: Sequence[str] | pa.Array) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def explain(self, text: str, label: str | None = None, top: int = 5) -> list[Contribution]:
        """Words of ``text`` that contributed most to ``label`` (default: the predicted one).

        text: the post text. label: the label to explain. top: how many words. The
        contributions of all words add up to the label's decision score minus its intercept.
        """
        if label is None:
            label = str(self.predict([text])[0])
        row = list(self.classes_).index(label)
        # the hashed blocks (the subword block is folded into ``piece_weights_``)
        vector = features([text], self.params, self.scoring_table_)
        weights = self.scoring_table_.lookup(vector.indices, row + 1)
        weights_of = dict(zip(vector.indices.tolist(), weights.tolist(), strict=True))
        pieces_of = None if self.piece_weights_ is None else (self.piece_weights_, row)
        return explain_text(text, self.params, vector, weights_of, top, pieces_of)

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, np.ndarray], config: Mapping[str, Any]
    ) -> LinearStanceModel:
        """The model of an artifact; validates names, shapes and the architecture."""
        architecture = config.get("architecture") if isinstance(config, Mapping) else None
        if architecture != ARCHITECTURE and architecture not in _LEGACY:
            raise ArtifactFormatError(
                "the model's architecture is not " + repr(ARCHITECTURE) + ": "
                "retrain it with `swarmlens train`"
            )
        try:
            given = {**_LEGACY.get(architecture, {}), **config["params"]}
            params = {k: given[k] for k in FEATURE_PARAMS}
            _check_params(params)
            names = config["classes"]
            if not (
                isinstance(names, list)
                and len(names) >= 2
                and all(isinstance(c, str) for c in names)
                and len(set(names)) == len(names)
            ):
                raise ValueError("classes must be two or more distinct label names")
            classes = np.array(names, dtype=object)
            blocks = len(feature_specs(params))
            n = int(params["n_features"])
            idf = [np.asarray(arrays[f"idf.{i}"], dtype=np.float32) for i in range(blocks)]
            coef = np.asarray(arrays["coef"], dtype=np.float32)
            intercept = np.asarray(arrays["intercept"], dtype=np.float32)
            piece_weights = None
            if params["vectors_weight"] > 0:
                piece_weights = SubwordTable.from_arrays(arrays)
                if piece_weights.dims != len(classes):
                    raise ValueError("piece weights need one column per class")
            if any(v.shape != (n,) for v in idf) or coef.shape != (len(classes), n * blocks) or (
                intercept.shape != (len(classes),)
            ):
                raise ValueError("array shapes do not match the config")
            calibration = None
            if "calibration.coef" in arrays:
                calibration = (
                    np.asarray(arrays["calibration.coef"], dtype=np.float64),
                    np.asarray(arrays["calibration.intercept"], dtype=np.float64),
                )
                rows = 1 if len(classes) == 2 else len(classes)
                if calibration[0].shape != (rows, len(classes)) or calibration[1].shape != (
                    rows,
                ):
                    raise ValueError("calibration shapes do not match the classes")
            everything = [*idf, coef, intercept, *(calibration or ())]
            if not all(np.isfinite(a).all() for a in everything):
                raise ValueError("arrays hold NaN or infinite values")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArtifactFormatError(f"model arrays are inconsistent: {exc}") from None
        return cls(params, classes, idf, coef, intercept, calibration, piece_weights)
