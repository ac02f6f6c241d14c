"""Per-annotator quality (Wilson intervals, kappa against the others, Dawid-Skene, flags),
the gold and annotator store, overlap planning and language routing, without a server
(the real Label Studio runs in tests/integration/test_annotation_quality.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint

from swarmlens.annotation import assign, routing, store
from swarmlens.annotation.agreement import AnnotatedTask
from swarmlens.annotation.quality import (
    annotator_quality,
    dawid_skene,
    kappa,
    majority_of_others,
    resolve_weighted,
    wilson,
)
from swarmlens.classifier.errors import (
    AnnotationStoreError,
    AnnotatorError,
    GoldError,
    InputError,
)

LABELS = ("supportive", "opposing", "neutral")


def crowd(seed: int = 0, n: int = 300, gold_every: int = 10):
    """Tasks labelled by 'good' (0.95), 'mid' (0.75) and 'rand' (random): gold tasks by
    all three, a fifth of the rest by two, the others by one; truth skewed to neutral."""
    rng = random.Random(seed)
    accuracy = {"good": 0.95, "mid": 0.75, "rand": None}
    seconds = {"good": 9.0, "mid": 6.0, "rand": 1.5}
    tasks, truth, gold = [], {}, {}
    for i in range(n):
        true = rng.choices(LABELS, weights=(2, 3, 5))[0]
        truth[f"p{i}"] = true
        if i % gold_every == 0:
            gold[f"p{i}"] = true
            who = list(accuracy)
        else:
            who = rng.sample(list(accuracy), 2 if rng.random() < 0.2 else 1)
        votes = []
        for w in who:
            a = accuracy[w]
            if a is None:
                votes.append((w, rng.choice(LABELS)))
            elif rng.random() < a:
                votes.append((w, true))
            else:
                votes.append((w, rng.choice([x for x in LABELS if x != true])))
        tasks.append(
            AnnotatedTask(f"p{i}", "", sorted(votes), seconds={w: seconds[w] for w in who})
        )
    return tasks, truth, gold


@pytest.mark.parametrize(("k", "n"), [(0, 5), (3, 7), (7, 7), (18, 20), (50, 200)])
def test_wilson_is_the_textbook_interval(k: int, n: int) -> None:
    assert wilson(k, n) == pytest.approx(list(proportion_confint(k, n, method="wilson")))


def test_wilson_without_observations_is_none() -> None:
    assert wilson(0, 0) is None


def test_kappa_is_cohens_and_none_when_undefined() -> None:
    a = ["neutral", "opposing", "neutral", "supportive", "neutral", "opposing"]
    b = ["neutral", "opposing", "opposing", "supportive", "supportive", "opposing"]
    assert kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert kappa(["neutral"], ["neutral"]) is None
    assert kappa(["neutral"] * 3, ["neutral"] * 3) == 1.0


def test_majority_of_the_others_leaves_oneself_out_and_ties_out() -> None:
    task = AnnotatedTask("p", "", [("a", "neutral"), ("b", "opposing"), ("c", "opposing")])
    assert majority_of_others(task, "a") == "opposing"
    assert majority_of_others(task, "b") is None  # a: neutral, c: opposing
    assert majority_of_others(AnnotatedTask("q", "", [("a", "neutral")]), "a") is None


def test_dawid_skene_recovers_and_ranks_the_annotators() -> None:
    tasks, _, gold = crowd()
    model = dawid_skene(tasks, gold)
    accuracy = {who: model.accuracy(who) for who in model.annotators}
    assert accuracy["good"] > accuracy["mid"] > accuracy["rand"]
    assert accuracy["good"] == pytest.approx(0.95, abs=0.06)
    assert accuracy["mid"] == pytest.approx(0.75, abs=0.08)
    assert accuracy["rand"] == pytest.approx(1 / 3, abs=0.1)
    # Gold tasks keep their known answer, whatever the votes say.
    for i, task in enumerate(tasks):
        if task.post_id in gold:
            assert LABELS[int(np.argmax(model.posteriors[i]))] == gold[task.post_id]


def test_quality_weighted_resolution_beats_majority_on_split_votes() -> None:
    tasks, truth, gold = crowd(seed=1)
    model = dawid_skene(tasks, gold)
    split = [t for t in tasks if len({label for _, label in t.annotations}) > 1]
    resolution = resolve_weighted(split, model)
    assert len(resolution.resolved) == len(split) == len(resolution.review)
    right = sum(label == truth[t.post_id] for t, label in resolution.resolved)
    # Majority cannot resolve a 1-1 split at all; Dawid-Skene sides with the better one.
    assert right / len(split) > 0.6
    tie = AnnotatedTask("x", "", [("good", "supportive"), ("rand", "neutral")])
    assert resolve_weighted([tie], model).resolved[0][1] == "supportive"


def test_the_random_annotator_is_flagged_and_the_careful_ones_are_not() -> None:
    tasks, _, gold = crowd(seed=2)
    figures = annotator_quality(tasks, gold, dawid_skene(tasks, gold))
    good, mid, rand = figures["good"], figures["mid"], figures["rand"]
    assert good["gold_n"] == mid["gold_n"] == rand["gold_n"] == 30
    assert good["gold_accuracy"] > mid["gold_accuracy"] > rand["gold_accuracy"]
    low, high = rand["gold_interval"]
    assert low <= rand["gold_accuracy"] <= high < 0.7
    assert good["ds_accuracy"] > mid["ds_accuracy"] > rand["ds_accuracy"]
    assert rand["agreement"] < min(good["agreement"], mid["agreement"])
    assert any(f.startswith("gold accuracy") for f in rand["flags"])
    assert any(f.startswith("much faster") for f in rand["flags"])
    assert not good["flags"] and not mid["flags"]
    assert (good["median_seconds"], rand["median_seconds"]) == (9.0, 1.5)
    assert sum(f["n"] for f in figures.values()) == sum(len(t.annotations) for t in tasks)


def test_near_constant_labels_are_flagged() -> None:
    tasks = [
        AnnotatedTask(f"p{i}", "", [("lazy", "neutral"), ("ok", LABELS[i % 3])])
        for i in range(30)
    ]
    figures = annotator_quality(tasks)
    assert any(f.startswith("near-constant labels: neutral") for f in figures["lazy"]["flags"])
    assert not any(f.startswith("near-constant") for f in figures["ok"]["flags"])
    assert figures["lazy"]["gold_accuracy"] is None and figures["lazy"]["gold_interval"] is None


# -- store -----------------------------------------------------------------------------------


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_gold_add_keeps_answers_rejects_bad_records_and_counts_an_id_once(tmp_path: Path) -> None:
    rows = [
        json.dumps({"id": "g1", "text": "Not in my name", "label": "opposing", "lang": "en"}),
        json.dumps({"id": "g2", "text": "Police cordon near the stadium", "lang": "en"}),
        "{not json",
        json.dumps({"id": "g1", "text": "again", "label": "neutral"}),
        json.dumps({"id": "g3", "text": "x", "label": "cheering"}),
    ]
    report = store.add_gold("proj", [_jsonl(tmp_path / "g.jsonl", rows)], tmp_path / "s")
    assert (report.added, report.total) == (1, 1)
    reasons = [r["reason"] for r in report.rejects]
    assert len(reasons) == 4 and "no 'label'" in reasons[0] and "given twice" in reasons[2]
    gold = store.load_gold("proj", tmp_path / "s")
    assert gold["g1"].label == "opposing"
    assert "label" not in gold["g1"].data and gold["g1"].data["post_id"] == "g1"
    # A corrected answer replaces the old one.
    answer = json.dumps({"id": "g1", "text": "N", "label": "neutral"})
    fixed = _jsonl(tmp_path / "h.jsonl", [answer])
    again = store.add_gold("proj", [fixed], tmp_path / "s")
    assert (again.added, again.changed, again.total) == (0, 1, 1)
    assert store.load_gold("proj", tmp_path / "s")["g1"].label == "neutral"
    assert store.load_gold("other project", tmp_path / "s") == {}


def test_gold_add_without_a_usable_answer_is_e050(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "g.jsonl", [json.dumps({"id": "g", "text": "no label"})])
    with pytest.raises(GoldError, match="E050"):
        store.add_gold("proj", [path], tmp_path / "s")


def test_a_damaged_store_is_e053(tmp_path: Path) -> None:
    folder = store.store_dir("proj", tmp_path)
    folder.mkdir(parents=True)
    (folder / store.GOLD_FILE).write_text("{broken\n")
    (folder / store.ANNOTATORS_FILE).write_text("[1, 2]")
    with pytest.raises(AnnotationStoreError, match="E053"):
        store.load_gold("proj", tmp_path)
    with pytest.raises(AnnotationStoreError, match="E053"):
        store.load_annotators("proj", tmp_path)


def test_languages_are_parsed_and_saved_per_annotator(tmp_path: Path) -> None:
    assert store.parse_langs(" AR, en,ar ") == ["ar", "en"]
    for bad in ("arabic", "", "a1"):
        with pytest.raises(AnnotatorError, match="E052"):
            store.parse_langs(bad)
    store.save_annotator("proj", "a@x", ["ar"], tmp_path)
    saved = store.save_annotator("proj", "b@x", ["en", "fr"], tmp_path)
    assert saved == store.load_annotators("proj", tmp_path) == {"a@x": ["ar"], "b@x": ["en", "fr"]}


def test_project_folders_differ_for_titles_that_read_alike() -> None:
    assert store.slug("Paris 2015") != store.slug("paris-2015")


# -- overlap and routing ---------------------------------------------------------------------


def test_overlap_plan_takes_the_requested_share() -> None:
    assert assign.split_budget(100, 0.05) == (95, 5)
    assert assign.split_budget(10, 0.01) == (9, 1)
    assert assign.split_budget(10, 0.0) == (10, 0)
    ids = [f"p{i}" for i in range(90)]
    picked = assign.choose_overlap(ids, 0.2, np.random.default_rng(0))
    assert len(picked) == 18 == len(set(picked)) and set(picked) <= set(ids)
    assert assign.choose_overlap(ids, 0.0, np.random.default_rng(0)) == []
    for args in ((1.5, 2, 0.0), (0.2, 1, 0.0), (0.0, 2, 1.0)):
        with pytest.raises(InputError):
            assign.check_overlap_request(*args)


def test_overlap_figures_count_what_was_delivered() -> None:
    def task(i: int, n: int) -> AnnotatedTask:
        return AnnotatedTask(f"p{i}", "", [(f"a{j}", "neutral") for j in range(n)], task_id=i)

    tasks = [task(1, 2), task(2, 1), task(3, 1), task(4, 2), task(5, 0)]
    figures = assign.overlap_figures(tasks, {1: 2, 2: 2, 3: 1, 4: 1, 5: 1})
    assert figures["marked"] == 2 and figures["marked_share"] == 0.4
    assert figures["complete"] == 1 and figures["labels_on_marked"] == {"1": 1, "2": 1}
    assert figures["unmarked_with_more_than_one"] == 1 and figures["k"] == [2]


def test_unrouted_languages_are_those_nobody_reads() -> None:
    open_tasks = [{"lang": "ar"}, {"lang": "en"}, {"lang": "fr"}, {"lang": "fr"}, {}]
    result = routing.routing(open_tasks, {"a@x": ["ar"], "b@x": ["en", "de"]})
    assert result["open_by_lang"] == {"fr": 2, "ar": 1, "en": 1, "und": 1}
    assert result["unrouted"] == {"fr": 2, "und": 1}
    filters = routing.lang_filters(["ar", "en"])
    assert filters["conjunction"] == "or"
    assert [item["value"] for item in filters["items"]] == ["ar", "en"]
