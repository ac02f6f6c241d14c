"""Resolution and agreement figures, checked against hand computations."""

from __future__ import annotations

import pytest

from swarmlens.annotation.agreement import AnnotatedTask, agreement, resolve


def task(post_id: str, *votes: tuple[str, str]) -> AnnotatedTask:
    return AnnotatedTask(post_id=post_id, text=f"text {post_id}", annotations=list(votes))


def test_majority_ties_and_disagreements() -> None:
    tasks = [
        task("1", ("ann", "supportive"), ("bob", "supportive")),
        task("2", ("ann", "opposing"), ("bob", "neutral")),
        task("3", ("ann", "opposing"), ("bob", "opposing"), ("cy", "neutral")),
        task("4", ("ann", "neutral")),
        task("5"),
    ]
    result = resolve(tasks)
    assert [(t.post_id, label) for t, label in result.resolved] == [
        ("1", "supportive"),
        ("3", "opposing"),
        ("4", "neutral"),
    ]
    assert [(t.post_id, why.split(":")[0]) for t, why in result.review] == [
        ("2", "tie"),
        ("3", "disagreement resolved by majority"),
    ]


def test_alpha_and_kappa_match_hand_computation() -> None:
    # Units (ann, bob): (s,s) (o,o) (o,s) (n,n) and one unit only ann labelled.
    tasks = [
        task("1", ("ann", "supportive"), ("bob", "supportive")),
        task("2", ("ann", "opposing"), ("bob", "opposing")),
        task("3", ("ann", "opposing"), ("bob", "supportive")),
        task("4", ("ann", "neutral"), ("bob", "neutral")),
        task("5", ("ann", "neutral")),
    ]
    figures = agreement(tasks)
    # Coincidences over the 4 pairable units (n = 8 values): o_ss=2, o_oo=2, o_nn=2,
    # o_os=o_so=1; n_s=3, n_o=3, n_n=2. D_o = 2/8; D_e = (8*8 - 9 - 9 - 4) / (8*7) = 42/56.
    assert figures["alpha"] == pytest.approx(1 - (2 / 8) / (42 / 56))
    # Neutral vs rest: perfect on the pairable units.
    assert figures["alpha_per_label"]["neutral"] == pytest.approx(1.0)
    # Cohen's kappa, 4 shared units: p_o = 3/4; ann s1 o2 n1, bob s2 o1 n1:
    # p_e = (1*2 + 2*1 + 1*1) / 16 = 5/16.
    pair = figures["kappa_pairs"][0]
    assert pair["annotators"] == ["ann", "bob"] and pair["shared_tasks"] == 4
    assert pair["kappa"] == pytest.approx((3 / 4 - 5 / 16) / (1 - 5 / 16))
    assert figures["tasks_by_annotations"] == {"0": 0, "1": 1, "2": 4, "3+": 0}


def test_undefined_figures_are_none() -> None:
    figures = agreement([task("1", ("ann", "neutral")), task("2")])
    assert figures["alpha"] is None and figures["kappa_pairs"] == []
    assert figures["tasks_by_annotations"]["0"] == 1
