"""`annotate pull` with review tasks: a review's answer replaces the post's label, never
adds a second row for the post (a stand-in Label Studio client; the real one is in
tests/integration)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from swarmlens.annotation import workflow
from swarmlens.annotation.project import choice_result


def _task(task_id: int, post_id: str, labels: list[str], **data: Any) -> dict[str, Any]:
    return {
        "id": task_id,
        "data": {"text": f"post {post_id}", "post_id": post_id, **data},
        "annotations": [
            {"id": 10 * task_id + i, "completed_by": i + 1, "result": choice_result(label)}
            for i, label in enumerate(labels)
        ],
    }


class StandIn:
    def __init__(self, tasks: list[dict[str, Any]]) -> None:
        payload = json.dumps(tasks).encode()
        self.projects = SimpleNamespace(
            list=lambda: [SimpleNamespace(id=7, title="p")],
            exports=SimpleNamespace(download_sync=lambda **_: [payload]),
        )
        # Every task at its default overlap of one annotator.
        self.tasks = SimpleNamespace(
            list=lambda **_: [SimpleNamespace(id=t["id"], data=t["data"], overlap=1) for t in tasks]
        )
        self.users = SimpleNamespace(list=lambda: [
            SimpleNamespace(id=1, email="a@x", username="a"),
            SimpleNamespace(id=2, email="b@x", username="b"),
        ])


def test_a_review_answer_replaces_the_label(tmp_path: Path) -> None:
    ls = StandIn([
        _task(1, "p1", ["supportive"]),
        _task(2, "p2", ["neutral", "opposing"]),  # a tie: no label until reviewed
        _task(3, "p3", ["neutral"]),
        _task(4, "p1", ["opposing"], review=True, given="supportive"),
        _task(5, "p2", ["opposing"], review=True),
        _task(6, "p3", [], review=True),  # not answered yet: the original label stays
    ])
    out = tmp_path / "labels.jsonl"
    workflow.pull(ls, "p", out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["label"]) for r in rows] == [
        ("p1", "opposing"), ("p2", "opposing"), ("p3", "neutral")]
