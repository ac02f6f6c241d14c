"""Review tasks in a real Label Studio: imported once, pre-annotated, and a tab of their own."""

from __future__ import annotations

import pytest

from swarmlens.annotation import review as rv
from swarmlens.annotation import workflow
from swarmlens.annotation.tasks import connect, import_missing, project_id
from tests.support.labelstudio import LabelStudioServer

pytestmark = pytest.mark.integration
PROJECT = "review-tasks"


def item(post_id: str, given: str | None, suspected: str, source: str) -> rv.ReviewItem:
    return rv.ReviewItem(
        id=post_id,
        given=given,
        suspected=suspected,
        quality=0.05 if given else None,
        reason=f"labelled {given}, model says {suspected}",
        source=source,
        text=f"text of {post_id}",
        lang="en",
        probabilities={"supportive": 0.9, "opposing": 0.05, "neutral": 0.05},
        votes=[["a", "opposing"], ["b", "supportive"]] if given is None else None,
    )


def test_review_tasks_and_their_tab(labelstudio: LabelStudioServer) -> None:
    ls = connect(labelstudio.url, labelstudio.token)
    workflow.setup(ls, PROJECT)
    pid = project_id(ls, PROJECT)
    # An ordinary task for p-1 is in the project already (labelled there earlier).
    import_missing(ls, pid, {"p-1": {"data": {"text": "text of p-1", "post_id": "p-1"}}})
    items = [
        item("p-1", "neutral", "supportive", "label-issue"),
        item("p-2", None, "supportive", "disagreement"),
    ]
    assert rv.push_review(ls, PROJECT, items) == 2
    assert rv.push_review(ls, PROJECT, items) == 0, "a re-run imports nothing twice"
    tasks = list(ls.tasks.list(project=pid, page_size=100, fields="all"))
    review_tasks = [t for t in tasks if (t.data or {}).get("review") is True]
    assert len(tasks) == 3 and len(review_tasks) == 2
    first = next(t for t in review_tasks if t.data["post_id"] == "p-1")
    assert first.data["given"] == "neutral" and "model says" in first.data["reason"]
    predictions = list(ls.predictions.list(task=first.id))
    assert predictions[0].result[0]["value"]["choices"] == ["supportive"]
    views = [v for v in ls.views.list(project=pid) if (v.data or {}).get("title") == "Review"]
    assert len(views) == 1, "the tab is created once"
    shown = list(ls.tasks.list(project=pid, view=views[0].id, page_size=100, fields="all"))
    assert sorted(t.data["post_id"] for t in shown) == ["p-1", "p-2"]
    assert all(t.data.get("review") is True for t in shown)
