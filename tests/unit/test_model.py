"""The estimator and its features: behaviour, validation, equivalence with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer

from swarmlens.classifier.errors import TrainingDataError
from swarmlens.classifier.model.estimator import StanceClassifier
from swarmlens.classifier.model.features import MENTION_TOKEN, URL_TOKEN, TokenFeaturizer
from swarmlens.classifier.vocab import LABELS


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


def test_urls_and_mentions_are_masked() -> None:
    feat = TokenFeaturizer()
    terms = feat.terms("RT @Demo_1: read https://justpaste.it/abc and justpaste.it/def now")
    assert terms == [MENTION_TOKEN, ":", "read", URL_TOKEN, "and", URL_TOKEN, "now"]
    assert feat.terms("#Paris_Is_Burning") == ["#paris_is_burning", "paris", "is", "burning"]


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


def test_cached_features_equal_scikit_learn_char_wb(
    tiny_corpus: tuple[list[str], list[str]],
) -> None:
    """The per-token cache must give exactly what a plain char_wb TF-IDF gives on the same terms."""
    texts, _ = tiny_corpus
    ours = TokenFeaturizer(
        char_ngram_range=(2, 4), word_features=False, hashtag_words=False, sublinear_tf=True
    ).fit(texts)
    joined = [" ".join(ours.terms(t)) for t in texts]
    reference = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), lowercase=False, sublinear_tf=True
    ).fit(joined)
    ours_matrix = ours.transform(texts + texts[:5]).toarray()
    ref_matrix = reference.transform(joined + joined[:5]).toarray()
    assert [n[2:] for n in ours.get_feature_names_out()] == list(reference.get_feature_names_out())
    np.testing.assert_allclose(ours_matrix, ref_matrix, rtol=1e-5, atol=1e-6)
    again = ours.transform(texts).toarray()  # second call is served from the cache
    np.testing.assert_allclose(again, ours_matrix[: len(texts)], rtol=1e-6)


def test_pickle_drops_caches(fitted: StanceClassifier) -> None:
    import pickle

    fitted.predict(["warm the cache"])
    clone = pickle.loads(pickle.dumps(fitted))
    assert "_term_cache" not in clone.featurizer_.__dict__
    np.testing.assert_allclose(clone.predict_proba(["x y z"]), fitted.predict_proba(["x y z"]))


def test_scores_do_not_depend_on_what_was_scored_before(
    fitted: StanceClassifier, tiny_corpus: tuple[list[str], list[str]]
) -> None:
    """Bit-identical scores whatever the cache saw first: resumed batch jobs rely on it."""
    texts, _ = tiny_corpus
    probe = [*texts[:6], "#ParisIsBurning caliphate solidarity ce soir باقية"]
    fitted.featurizer_.clear_cache()
    first = fitted.predict_proba(probe)
    fitted.featurizer_.clear_cache()
    fitted.predict_proba([*list(reversed(texts)), "other words entirely, soir, caliphate"])
    again = fitted.predict_proba(probe)
    assert np.array_equal(first, again)
