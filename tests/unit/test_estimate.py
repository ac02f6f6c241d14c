"""The audited estimator: against ppi-python, against known truths, and its audit files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from swarmlens.classifier.analytics.estimate import (
    estimate_report,
    match_audit,
    one_hot,
    ppi_shares,
    read_audit,
)
from swarmlens.classifier.errors import AuditError
from swarmlens.classifier.vocab import FLOOD_PAIR, LABELS


def simulate(
    rng: np.random.Generator, size: int, mix: np.ndarray, skill: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """A population with known labels and a biased, noisy classifier's probabilities.

    The classifier over-predicts the first label (a bias classify-and-count inherits) and
    is right more often the larger ``skill``.
    """
    truth = rng.choice(len(LABELS), size=size, p=mix)
    logits = rng.normal(0, 1, (size, len(LABELS)))
    logits[np.arange(size), truth] += skill
    logits[:, 0] += 0.8
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    return truth, proba


def test_matches_ppi_python_on_the_same_data() -> None:
    ppi_py = pytest.importorskip("ppi_py")
    rng = np.random.default_rng(7)
    truth, proba = simulate(rng, 3000, np.array([0.3, 0.5, 0.2]))
    audit = rng.choice(3000, size=120, replace=False)
    y = one_hot([LABELS[i] for i in truth[audit]])
    for lam in (None, 1.0, 0.0):
        ours = ppi_shares(proba, proba[audit], y, lam=lam)
        point = ppi_py.ppi_mean_pointestimate(y, proba[audit], proba, lam=lam)
        low, high = ppi_py.ppi_mean_ci(y, proba[audit], proba, alpha=0.05, lam=lam)
        np.testing.assert_allclose(ours.theta, point, atol=1e-12)
        for k in range(len(LABELS)):
            np.testing.assert_allclose(ours.interval(k), (low[k], high[k]), atol=1e-12)
    # One power-tuning weight keeps the shares summing to one.
    assert ppi_shares(proba, proba[audit], y).theta.sum() == pytest.approx(1.0)


def test_a_perfect_model_gives_the_truth_and_a_useless_one_the_audit() -> None:
    rng = np.random.default_rng(1)
    truth = rng.choice(3, size=500, p=[0.2, 0.5, 0.3])
    exact = one_hot([LABELS[i] for i in truth])
    audit = rng.choice(500, size=40, replace=False)
    perfect = ppi_shares(exact, exact[audit], exact[audit], lam=1.0)
    np.testing.assert_allclose(perfect.theta, exact.mean(axis=0), atol=1e-12)
    assert ppi_shares(exact, exact[audit], exact[audit]).lam > 0.9
    constant = np.full((500, 3), 1 / 3)
    useless = ppi_shares(constant, constant[audit], exact[audit])
    assert useless.lam == 0.0
    np.testing.assert_allclose(useless.theta, exact[audit].mean(axis=0), atol=1e-12)


def test_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    """Over many simulated hashtags with different mixes, the audited estimate is closer to
    the truth than classify-and-count and its intervals cover the truth ~95% of the time.

    Bounds are loose enough not to flake (400 populations: a 95% coverage has a standard
    error of ~1.1 points) and tight enough to fail a broken estimator (classify-and-count's
    shares "cover" far less than half the time here; intervals half as wide cover ~66%).
    """
    rng = np.random.default_rng(2026)
    covered, flood_covered, flood_total = [], [], 0
    cc_error, ppi_error = [], []
    counter, message = (LABELS.index(x) for x in FLOOD_PAIR)
    for _ in range(400):
        mix = rng.dirichlet(np.ones(3) * 2)
        truth, proba = simulate(rng, 1500, mix, skill=1.5)
        true_share = np.bincount(truth, minlength=3) / len(truth)
        audit = rng.choice(len(truth), size=100, replace=False)
        result = ppi_shares(proba, proba[audit], one_hot([LABELS[i] for i in truth[audit]]))
        for k in range(3):
            low, high = result.interval(k)
            covered.append(low <= true_share[k] <= high)
        counted = np.bincount(proba.argmax(axis=1), minlength=3) / len(truth)
        cc_error.append(np.abs(counted - true_share).mean())
        ppi_error.append(np.abs(result.theta - true_share).mean())
        flood = result.flood()
        if flood is not None:
            flood_total += 1
            true_flood = true_share[counter] / (true_share[counter] + true_share[message])
            flood_covered.append(flood[1] <= true_flood <= flood[2])
    assert 0.92 <= np.mean(covered) <= 0.98
    assert np.mean(flood_covered) >= 0.88 and flood_total > 350
    assert np.mean(ppi_error) <= 0.6 * np.mean(cc_error)


def test_report_shape_and_flood_share() -> None:
    rng = np.random.default_rng(3)
    truth, proba = simulate(rng, 800, np.array([0.25, 0.45, 0.3]))
    predicted = [LABELS[i] for i in proba.argmax(axis=1)]
    ids = [f"p{i}" for i in range(800)]
    audited = {ids[i]: LABELS[truth[i]] for i in rng.choice(800, 100, replace=False)}
    report = estimate_report(
        "paris",
        None,
        "2015-11-20T00:00:00Z",
        proba,
        predicted,
        match_audit(ids, audited, "paris"),
        "m1",
    )
    assert set(report) == {
        "hashtag",
        "start",
        "end",
        "posts",
        "audited",
        "model_version",
        "labels",
        "flood_share",
    }
    assert (report["posts"], report["audited"]) == (800, 100)
    for label in LABELS:
        row = report["labels"][label]
        assert set(row) == {"count", "share", "estimate", "low", "high"}
        assert row["count"] == predicted.count(label)
        assert 0 <= row["low"] <= row["estimate"] <= row["high"] <= 1
    flood = report["flood_share"]
    counted = report["labels"]["opposing"]["count"]
    stance = counted + report["labels"]["supportive"]["count"]
    assert flood["count_based"] == round(counted / stance, 4)
    assert flood["low"] <= flood["estimate"] <= flood["high"]


def test_a_stray_audited_post_is_named() -> None:
    with pytest.raises(AuditError, match="'elsewhere'"):
        match_audit(["a", "b", "c"], {"a": "neutral", "elsewhere": "opposing"}, "paris")


def test_too_few_audited_posts_is_a_clear_error() -> None:
    proba = np.full((10, 3), 1 / 3)
    with pytest.raises(AuditError, match="at least 2"):
        ppi_shares(proba, proba[:1], one_hot(["neutral"]))


def test_audit_files(tmp_path: Path) -> None:
    good = tmp_path / "audit.jsonl"
    good.write_text(
        "\n".join(
            json.dumps(r)
            for r in (
                {"id": "a", "label": "neutral", "audit": "x"},
                {"post_id": "b", "label": "opposing"},
                {"id": "a", "label": "neutral"},
            )
        )
        + "\n\n"
    )
    assert read_audit(good) == {"a": "neutral", "b": "opposing"}
    cases = {
        '{"id": "a", "label": "angry"}': "label 'angry'",
        '{"label": "neutral"}': "no 'id'",
        "not json": "not a JSON object",
        '{"id": "a", "label": "neutral"}\n{"id": "a", "label": "opposing"}': "different labels",
        "": "no audited post",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.jsonl"
        bad.write_text(text)
        with pytest.raises(AuditError, match=message):
            read_audit(bad)
    with pytest.raises(AuditError, match="does not exist"):
        read_audit(tmp_path / "missing.jsonl")


def test_weighted_estimates_match_ppi_python_with_weights() -> None:
    ppi_py = pytest.importorskip("ppi_py")
    from swarmlens.annotation.audit import active_probabilities, systematic, uncertainty
    from swarmlens.classifier.analytics.estimate import audit_weights

    rng = np.random.default_rng(3)
    truth, proba = simulate(rng, 3000, np.array([0.3, 0.5, 0.2]))
    pi = active_probabilities(uncertainty(proba), 150)
    rows = systematic(pi, rng)
    assert len(rows) == 150 and len(set(rows.tolist())) == 150
    w = audit_weights(list(pi[rows]), 3000)
    y = one_hot([LABELS[i] for i in truth[rows]])
    for lam in (None, 1.0, 0.0):
        ours = ppi_shares(proba, proba[rows], y, lam=lam, weights=w)
        point = ppi_py.ppi_mean_pointestimate(y, proba[rows], proba, lam=lam, w=1 / pi[rows])
        low, high = ppi_py.ppi_mean_ci(y, proba[rows], proba, alpha=0.05, lam=lam, w=1 / pi[rows])
        np.testing.assert_allclose(ours.theta, point, atol=1e-12)
        for k in range(len(LABELS)):
            np.testing.assert_allclose(ours.interval(k), (low[k], high[k]), atol=1e-12)


def test_a_uniform_audit_gives_exactly_the_unweighted_figures() -> None:
    rng = np.random.default_rng(5)
    truth, proba = simulate(rng, 800, np.array([0.2, 0.3, 0.5]))
    rows = rng.choice(800, size=60, replace=False)
    audited = [(int(r), LABELS[truth[r]]) for r in rows]
    args = ("t", None, None, proba, [LABELS[i] for i in proba.argmax(axis=1)], audited, "v")
    today = estimate_report(*args)
    assert estimate_report(*args, design=[(None, None)] * 60) == today
    assert estimate_report(*args, design=[(60 / 800, None)] * 60) == today
    assert estimate_report(*args, design=[(0.5, "en")] * 60) == today


def test_active_and_stratified_designs_cover_the_truth() -> None:
    from swarmlens.annotation.audit import design_sample

    rng = np.random.default_rng(11)
    covered = {"active": [], "stratified": []}
    for rep in range(150):
        truth, proba = simulate(rng, 1000, rng.dirichlet(np.ones(3)), skill=1.5)
        langs = ["ar" if i % 3 else "en" for i in range(1000)]
        share = np.bincount(truth, minlength=3) / 1000
        for design, strata in (("active", None), ("stratified", langs)):
            rows, pi = design_sample(proba, 100, rep, "uniform" if strata else design, strata)
            picked = [strata[i] for i in rows] if strata else None
            result = estimate_report(
                "t",
                None,
                None,
                proba,
                ["neutral"] * 1000,
                [(r, LABELS[truth[r]]) for r in rows],
                None,
                design=list(zip(pi, picked or [None] * len(rows), strict=True)),
            )
            covered[design] += [
                result["labels"][x]["low"] <= share[k] <= result["labels"][x]["high"]
                for k, x in enumerate(LABELS)
            ]
    for design, hits in covered.items():
        assert 0.9 <= np.mean(hits) <= 0.99, design


def test_systematic_sampling_includes_each_row_with_its_probability() -> None:
    from swarmlens.annotation.audit import active_probabilities, allocate, systematic

    pi = active_probabilities(np.array([0.0, 1, 2, 3, 4, 5, 6, 40.0]), 3)
    assert pi.sum() == pytest.approx(3) and pi.max() == 1.0
    rng = np.random.default_rng(0)
    hits = np.zeros(len(pi))
    for _ in range(4000):
        hits[systematic(pi, rng)] += 1
    np.testing.assert_allclose(hits / 4000, pi, atol=0.03)
    assert allocate(["a"] * 7 + ["b"] * 3, 4) == {"a": 3, "b": 1}


def test_audit_files_with_a_design(tmp_path: Path) -> None:
    from swarmlens.classifier.analytics.estimate import read_audit_design

    path = tmp_path / "active.jsonl"
    lines = [
        {"id": "a", "label": "neutral", "audit": "x", "probability": 0.5, "stratum": "en"},
        {"id": "b", "label": None, "audit": "x", "probability": 0.2},
        {"id": "c", "label": "opposing", "audit": "x"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    labels, design = read_audit_design(path)
    assert labels == {"a": "neutral", "c": "opposing"}
    assert design == {"a": (0.5, "en"), "c": (None, None)}
    path.write_text(json.dumps({"id": "a", "label": "neutral", "probability": 1.5}) + "\n")
    with pytest.raises(AuditError, match="probability"):
        read_audit_design(path)


def test_a_stratified_audit_divides_each_stratum_spread_by_n_minus_one() -> None:
    # Two strata of 4 and 6 audited posts, equal weights: the textbook stratified variance
    # sum_h (N_h/N)^2 s_h^2 / n_h with s_h^2 the unbiased spread of the stratum.
    rng = np.random.default_rng(2)
    f_all = rng.dirichlet(np.ones(3), size=500)
    rows = np.arange(10)
    y = one_hot([LABELS[k] for k in rng.integers(0, 3, 10)])
    strata = ["a"] * 4 + ["b"] * 6
    est = ppi_shares(f_all, f_all[rows], y, lam=1.0, weights=np.ones(10), strata=strata)
    rectifier = y - f_all[rows]
    expected = sum(
        (len(part) / 10) ** 2 * np.cov(rectifier[part].T, ddof=1) / len(part)
        for part in (np.arange(4), np.arange(4, 10))
    ) + np.cov(f_all.T, ddof=0) / 500
    np.testing.assert_allclose(est.cov, expected, atol=1e-15)
