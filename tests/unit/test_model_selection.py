"""Model selection that transfers (issue 25): the transfer folds, the source hold-outs, and
the NB-SVM knobs chosen with them (NB scaling shrunk toward 1, rare-column pruning)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from swarmlens.classifier.model.nbsvm import NBSVMClassifier
from swarmlens.classifier.model.splits import source_holdouts, transfer_fold_splits


def _sources_with_label_mixes() -> tuple[list[str], list[str], list[str]]:
    """Three sources, each with its own label mix, 4 posts per author."""
    labels, sources, groups = [], [], []
    mixes = {
        "a": {"supportive": 40, "neutral": 40},
        "b": {"opposing": 20, "neutral": 20},
        "c": {"supportive": 40},
    }
    for source, mix in mixes.items():
        for label, n in mix.items():
            for i in range(n):
                labels.append(label)
                sources.append(source)
                groups.append(f"{source}-{label}-{i // 4}")
    return labels, sources, groups


def test_transfer_folds_hold_each_sources_label_mix_and_keep_authors_whole() -> None:
    labels, sources, groups = _sources_with_label_mixes()
    strata = Counter(zip(sources, labels, strict=True))
    for seed in (0, 1):
        splits = transfer_fold_splits(labels, sources, groups, folds=5, seed=seed)
        assert len(splits) == 5
        tested = np.concatenate([test for _, test in splits])
        assert sorted(tested.tolist()) == list(range(len(labels)))  # each post tested once
        for train, test in splits:
            assert not {groups[i] for i in train} & {groups[i] for i in test}
            here = Counter((sources[i], labels[i]) for i in test)
            # every (source, label) in every test fold, near its share of the data
            for stratum, n in strata.items():
                assert abs(here[stratum] - n / 5) <= 4, (stratum, here[stratum], n)


def test_transfer_folds_refuse_misaligned_inputs() -> None:
    with pytest.raises(ValueError, match="one entry per post"):
        transfer_fold_splits(["neutral"] * 3, ["a"] * 2, ["g"] * 3)


def test_source_holdouts_take_sources_with_enough_labels_found_elsewhere() -> None:
    labels, sources, _ = _sources_with_label_mixes()
    assert source_holdouts(labels, sources, min_labels=3) == []  # no source has every label
    held = source_holdouts(labels, sources, min_labels=2)
    # "b" has two labels, but nothing outside it is opposing: nothing could predict it
    assert [s for s, _ in held] == ["a"]
    ((_source, (train, test)),) = held
    assert {sources[i] for i in test} == {"a"}
    assert {sources[i] for i in train} == {"b", "c"}
    assert [s for s, _ in source_holdouts(labels, sources, min_labels=1)] == ["a", "c"]


def _sparse_problem() -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(0)
    dense = rng.random((60, 40)) * (rng.random((60, 40)) < 0.2)
    y = np.array(["neutral", "opposing", "supportive"] * 20, dtype=object)
    dense[y == "supportive", 0] += 1.0  # a column that tells
    dense[:, 39] = 0.0
    dense[5, 39] = 1.0  # a column seen in one row only
    return sp.csr_matrix(dense.astype(np.float32)), y


def _signed_nbsvm(X: sp.csr_matrix, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Wang & Manning's NB-SVM, written out: features times the signed log-count ratio."""
    present = (X != 0).astype(np.float64)
    seen = np.asarray(present.sum(axis=0)).ravel() > 0
    coef = []
    for label in sorted(set(y)):
        mine = y == label
        p = alpha + np.asarray(present[mine].sum(axis=0)).ravel()
        q = alpha + np.asarray(present[~mine].sum(axis=0)).ravel()
        r = np.log((p / p[seen].sum()) / (q / q[seen].sum()))
        svm = LinearSVC(C=1.0, class_weight="balanced", random_state=0)
        svm.fit(X @ sp.diags(r), mine.astype(int))
        coef.append(r * svm.coef_.ravel())
    return np.array(coef)


def test_nb_scaling_shrinks_from_nbsvm_to_a_plain_svm() -> None:
    X, y = _sparse_problem()
    full = NBSVMClassifier(nb_scaling=1.0).fit(X, y)
    # |r| or r: the same optimum, so the same weights as the textbook NB-SVM
    np.testing.assert_allclose(full.coef_, _signed_nbsvm(X, y), atol=1e-4)
    assert NBSVMClassifier(nb_scaling=True).fit(X, y).coef_.tobytes() == full.coef_.tobytes()
    plain = NBSVMClassifier(nb_scaling=0.0).fit(X, y)
    for row, label in enumerate(plain.classes_):
        svm = LinearSVC(C=1.0, class_weight="balanced", random_state=0)
        svm.fit(X, (y == label).astype(int))
        np.testing.assert_allclose(plain.coef_[row], svm.coef_.ravel(), atol=1e-5)
    half = NBSVMClassifier(nb_scaling=0.5).fit(X, y).coef_
    assert not np.allclose(half, full.coef_, atol=1e-3)
    assert not np.allclose(half, plain.coef_, atol=1e-3)


def test_min_df_gives_rare_columns_no_weight() -> None:
    X, y = _sparse_problem()
    kept = NBSVMClassifier(min_df=1).fit(X, y)
    pruned = NBSVMClassifier(min_df=2).fit(X, y)
    assert np.any(kept.coef_[:, 39] != 0)
    assert np.all(pruned.coef_[:, 39] == 0)
    df = np.asarray((X != 0).sum(axis=0)).ravel()
    assert np.all(pruned.coef_[:, df < 2] == 0)
    assert np.all(pruned.coef_[:, df >= 2].any(axis=0))


def test_dense_columns_are_never_pruned_or_scaled() -> None:
    X, y = _sparse_problem()
    dense = np.zeros((X.shape[0], 2), np.float32)
    dense[3, 0] = 1.0  # one row only: a dense column is kept all the same
    dense[:, 1] = 0.5
    both = sp.hstack([X, sp.csr_matrix(dense)], format="csr")
    model = NBSVMClassifier(min_df=2, nb_scaling=1.0, n_dense=2).fit(both, y)
    assert np.any(model.coef_[:, -2] != 0)
    assert np.all(model.coef_[:, 39] == 0)
