"""The estimator and its features: behaviour, validation, equivalence with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from swarmlens.classifier.errors import TrainingDataError
from swarmlens.classifier.model.estimator import HashedTfidf, StanceClassifier
from swarmlens.classifier.model.linear import LinearStanceModel, explain_text, features
from swarmlens.classifier.text.prepare import MENTION_TOKEN, URL_TOKEN, prepare
from swarmlens.classifier.vocab import LABELS
from tests.support.explanations import assert_explanations_add_up
from tests.support.oracles import reference_counts


@pytest.fixture(scope="module")
def fitted(tiny_corpus: tuple[list[str], list[str]]) -> StanceClassifier:
    texts, labels = tiny_corpus
    return StanceClassifier(calibration_folds=3).fit(texts, labels)


def test_predicts_calibrated_probabilities(fitted: StanceClassifier) -> None:
    texts = ["glory to the soldiers of the caliphate", "not in my name, murderers", "metro reopens"]
    proba = fitted.predict_proba(texts)
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert list(fitted.predict(texts)) == ["supportive", "opposing", "neutral"]
    assert set(fitted.classes_) == set(LABELS)
    assert hasattr(fitted, "featurizer_") and hasattr(fitted, "coef_")


def test_no_work_in_init_and_unfitted_error() -> None:
    model = StanceClassifier(C=2.0)
    assert not any(name.endswith("_") and not name.startswith("_") for name in vars(model))
    assert model.get_params()["C"] == 2.0
    with pytest.raises(NotFittedError):
        model.predict_proba(["x"])


def test_explanation_names_the_words_that_drove_it(fitted: StanceClassifier) -> None:
    top = fitted.explain("glory to the soldiers of the caliphate", top=3)
    assert len(top) == 3
    assert top[0].weight >= top[1].weight >= top[2].weight
    assert {c.term for c in top} & {"caliphate", "soldiers", "glory"}
    opposing = fitted.explain("glory to the soldiers of the caliphate", label="opposing", top=1)
    assert opposing[0].weight < top[0].weight


@pytest.mark.parametrize(
    "text",
    [
        "",
        "🔥🔥🔥",
        "https://t.co/abc https://justpaste.it/x",
        "@a @b",
        "x" * 100_000,
        "mixed نص عربي and English и русский 🇫🇷",
        "\ud800 broken surrogate",
        "\u200b\u200f",
    ],
)
def test_awkward_texts_get_a_valid_prediction(fitted: StanceClassifier, text: str) -> None:
    proba = fitted.predict_proba([text])
    assert proba.shape == (1, 3) and np.isfinite(proba).all()


def test_urls_and_mentions_are_masked_and_case_is_kept() -> None:
    prepared = prepare(["RT @Demo_1: read https://justpaste.it/abc and www.x.org/def NOW"])
    assert prepared.to_pylist() == [f"{MENTION_TOKEN}: read {URL_TOKEN} and {URL_TOKEN} NOW"]


def test_training_data_validation(tiny_corpus: tuple[list[str], list[str]]) -> None:
    texts, _labels = tiny_corpus
    with pytest.raises(TrainingDataError, match="row 2: unknown label 'pro'"):
        StanceClassifier().fit(texts[:3], ["neutral", "pro", "neutral"])
    with pytest.raises(TrainingDataError, match="only the label 'neutral'"):
        StanceClassifier().fit(texts[:3], ["neutral"] * 3)
    with pytest.raises(TrainingDataError, match="row 1: text must be a string"):
        StanceClassifier().fit([None, "x"], ["neutral", "opposing"])
    with pytest.raises(TrainingDataError, match="2 texts but 1 labels"):
        StanceClassifier().fit(["a", "b"], ["neutral"])


def test_two_classes_are_enough(tiny_corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = tiny_corpus
    keep = [i for i, label in enumerate(labels) if label != "neutral"]
    model = StanceClassifier().fit([texts[i] for i in keep], [labels[i] for i in keep])
    assert model.predict_proba(["x"]).shape == (1, 2)


def test_tfidf_rows_follow_the_reference_definition(
    tiny_corpus: tuple[list[str], list[str]],
) -> None:
    """Kernel counts -> sublinear tf x smooth idf -> L2: recomputed here from the reference."""
    texts, _ = tiny_corpus
    tfidf = HashedTfidf(word_ngram_range=(0, 0), n_features=2**18, vectors_weight=0.0)
    tfidf = tfidf.fit(texts)
    (spec,) = tfidf.specs()
    prepared = prepare(texts).to_pylist()
    df = np.zeros(2**18)
    for text in prepared:
        df[list(reference_counts(text, spec))] += 1
    idf = np.log((1 + len(texts)) / (1 + df)) + 1
    np.testing.assert_allclose(tfidf.idf_[0], idf, rtol=1e-6)
    probe = texts[0]
    row = np.zeros(2**18)
    for index, count in reference_counts(prepare([probe])[0].as_py(), spec).items():
        row[index] = (1 + np.log(count)) * idf[index]
    row /= np.linalg.norm(row)
    np.testing.assert_allclose(tfidf.transform([probe]).toarray()[0], row, rtol=1e-5, atol=1e-7)


def test_explanations_add_up_to_the_decision_score(fitted: StanceClassifier) -> None:
    assert_explanations_add_up(
        fitted, "RT @x: Glory to the soldiers of the caliphate!! #ParisIsBurning https://t.co/a")


def test_a_scoring_model_explains_from_its_compact_table(fitted: StanceClassifier) -> None:
    """A scoring model keeps no dense idf and weights: explanations read each column's from
    its ``ScoringTable``, the same numbers bit for bit, and still add up to the score."""
    arrays, config = fitted.to_arrays()
    model = LinearStanceModel.from_arrays(arrays, config)
    text = "RT @x: Glory to the soldiers of the caliphate!! #ParisIsBurning https://t.co/a"
    assert_explanations_add_up(model, text)
    idf = [arrays["idf.0"], arrays["idf.1"]]
    dense = features([text], model.params, idf)
    compact = features([text], model.params, model.scoring_table_)
    assert np.array_equal(compact.indices, dense.indices)
    assert compact.data.tobytes() == dense.data.tobytes()
    for row, label in enumerate(model.classes_):
        weights = model.scoring_table_.lookup(dense.indices, row + 1)
        assert weights.tobytes() == arrays["coef"][row, dense.indices].tobytes()
        expected = explain_text(text, model.params, dense, arrays["coef"][row], 1000,
                                (model.piece_weights_, row))
        assert model.explain(text, label=str(label), top=1000) == expected


def test_scores_do_not_depend_on_the_batch(
    fitted: StanceClassifier, tiny_corpus: tuple[list[str], list[str]]
) -> None:
    """Bit-identical scores whatever else is in the batch: resumed batch jobs rely on it."""
    texts, _ = tiny_corpus
    probe = [*texts[:6], "#ParisIsBurning caliphate solidarity ce soir باقية"]
    first = fitted.predict_proba(probe)
    mixed = fitted.predict_proba([*reversed(texts), *probe, "other words entirely"])
    assert np.array_equal(first, mixed[len(texts) : len(texts) + len(probe)])


# -- a model that knows what it does not know (issue 24) ----------------------------------

NO_FEATURES = ["", "   ", "\n\t  \n"]
SLOGAN = "باقية وتتمدد #باريس_تشتعل"


def _by_label(proba: np.ndarray, classes: np.ndarray) -> list[dict[str, float]]:
    return [{str(c): float(p) for c, p in zip(classes, row, strict=True)} for row in proba]


@pytest.mark.parametrize("scorer", ["estimator", "linear"])
def test_a_text_without_features_is_neutral_and_takes_no_side(
    fitted: StanceClassifier, scorer: str
) -> None:
    """Empty and whitespace-only texts get the documented answer: neutral, no side favoured
    (they used to get whatever the intercepts said, e.g. opposing 0.59). The scoring model
    (``LinearStanceModel``, what ``score`` and the API use) must answer the same; it does
    once ``linear.LinearStanceModel.predict_proba`` ends with ``evidence.answer``."""
    from swarmlens.classifier.model.evidence import NO_TEXT_ANSWER, PROBABILITY_FLOOR

    model = fitted if scorer == "estimator" else LinearStanceModel.from_arrays(*fitted.to_arrays())
    proba = model.predict_proba(NO_FEATURES)
    assert list(model.predict(NO_FEATURES)) == ["neutral"] * len(NO_FEATURES)
    for row in _by_label(proba, model.classes_):
        assert row["supportive"] == pytest.approx(row["opposing"])
        for label, share in NO_TEXT_ANSWER.items():
            assert row[label] == pytest.approx(share, abs=3 * PROBABILITY_FLOOR)
    assert fitted.no_text(NO_FEATURES).all()
    assert not fitted.no_text(["not in my name, murderers", SLOGAN]).any()
    # One scoring pass gives both, as the API flags them (``no_text`` in its answers).
    texts = [*NO_FEATURES, "not in my name, murderers", SLOGAN]
    both, flags = model.predict_proba_and_no_text(texts)
    np.testing.assert_array_equal(both, model.predict_proba(texts))
    assert flags.tolist() == [True] * len(NO_FEATURES) + [False, False]


@pytest.mark.parametrize("scorer", ["estimator", "linear"])
def test_no_probability_is_exactly_0_or_1(fitted: StanceClassifier, scorer: str) -> None:
    """However sure the calibrator is (here made 50 times surer than the tiny corpus
    allows, as the default model was of "باقية وتتمدد #باريس_تشتعل": 1.0 / 0.0 / 0.0), no
    probability is 0 or 1, in float32 as outputs store them."""
    import copy

    from swarmlens.classifier.batch.scoring import label_probabilities
    from tests.support import SUPPORTIVE

    sure = copy.deepcopy(fitted)
    sure.scorer_.calibrator_.coef_ = sure.scorer_.calibrator_.coef_ * 50
    arrays, config = sure.to_arrays()
    model = sure if scorer == "estimator" else LinearStanceModel.from_arrays(arrays, config)
    texts = [SLOGAN, " ".join(SUPPORTIVE * 5), *SUPPORTIVE, *NO_FEATURES]
    raw = sure.scorer_.proba_from_scores(sure.decision_function(texts)).astype(np.float32)
    assert ((raw == 0) | (raw == 1)).any()  # the case this test is about does arise
    proba = label_probabilities(model, texts)
    assert (proba > 0).all() and (proba < 1).all(), proba
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_the_floor_and_the_no_text_answer_keep_explanations_exact(
    fitted: StanceClassifier,
) -> None:
    """Probabilities change, decision scores do not: explanations still add up, and the
    label of every text with features is its calibrated argmax as before."""
    from swarmlens.classifier.model.evidence import bounded

    texts = ["glory to the soldiers of the caliphate", "not in my name, murderers", SLOGAN]
    raw = fitted.scorer_.proba_from_scores(fitted.decision_function(texts))
    np.testing.assert_allclose(fitted.predict_proba(texts), bounded(raw), rtol=1e-12)
    assert list(fitted.predict(texts)) == list(fitted.classes_[raw.argmax(axis=1)])
    assert_explanations_add_up(fitted, texts[0])
    assert fitted.explain("") == []



def test_a_small_training_set_is_calibrated_by_a_scaled_softmax(
    tiny_corpus: tuple[list[str], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import LogisticRegression

    from swarmlens.classifier.model import calibration

    texts, labels = tiny_corpus
    assert len(texts) < calibration.SMALL_TRAINING_SET
    small = StanceClassifier().fit(texts, labels).scorer_.calibrator_
    assert isinstance(small, calibration.ScaledSoftmax)
    # One temperature on the diagonal: a label's own score counts for it and nothing else.
    assert small.temperature_ > 0
    np.testing.assert_array_equal(small.coef_, small.temperature_ * np.eye(3))
    # From SMALL_TRAINING_SET examples on, the multinomial calibrator, as before.
    monkeypatch.setattr(calibration, "SMALL_TRAINING_SET", len(texts))
    large = StanceClassifier().fit(texts, labels).scorer_.calibrator_
    assert isinstance(large, LogisticRegression)


@pytest.mark.parametrize("k", [2, 3])
def test_scaled_softmax_recovers_a_temperature_and_biases(k: int) -> None:
    from swarmlens.classifier.model.calibration import ScaledSoftmax
    from swarmlens.classifier.model.linear import softmax

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(4000, k))
    bias = np.array([0.8, -0.5, 0.0][:k])
    truth = softmax(2.5 * scores + bias)
    classes = np.array(["a", "b", "c"][:k], dtype=object)
    target = classes[[rng.choice(k, p=row) for row in truth]]
    fitted = ScaledSoftmax().fit(scores, target)
    assert fitted.temperature_ == pytest.approx(2.5, rel=0.1)
    np.testing.assert_allclose(fitted.predict_proba(scores), truth, atol=0.03)
    assert list(fitted.classes_) == list(classes)
