"""Who labels what: overlap (k annotators on a share of a push) and gold tasks mixed in.

What Label Studio Community 1.23 does (checked against the real server, see the test
``tests/integration/test_annotation_quality.py``): each task has an ``overlap`` (how many
annotators it needs); its labelling stream ("Label All Tasks", ``GET /api/projects/{id}/next``)
serves a task to an annotator who has not labelled it until ``overlap`` annotators have, and
skips it afterwards. The project-wide settings ``maximum_annotations`` and
``overlap_cohort_percentage`` are honoured too, but they draw the cohort over the *whole*
project (audit, review and gold tasks included), preferring the most-annotated tasks, and
draw it again at every import, so they cannot give a share of one push. swarmlens
therefore keeps the project at one annotation per task and sets the ``overlap`` of the tasks
it chooses itself (``PATCH /api/tasks/{id}``), which the stream honours and later imports
keep. A task opened from the task list by hand is not held to its overlap: the stream is.

Gold tasks are served to everyone: their overlap is ``GOLD_OVERLAP`` (100), more than a team
has, so each annotator, including one who joins later, meets each gold task once (Label
Studio counts them as never finished).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from swarmlens.annotation.agreement import AnnotatedTask
from swarmlens.annotation.tasks import AUDIT_KEY, REVIEW_KEY, call
from swarmlens.classifier.errors import InputError, OverlapConflictError

GOLD_OVERLAP = 100
"""The overlap of a gold task: every annotator labels it once."""


def check_overlap_request(overlap: float, overlap_k: int, gold_rate: float) -> None:
    if not 0.0 <= overlap <= 1.0:
        raise InputError(f"--overlap {overlap}: give a share between 0 and 1, e.g. 0.2")
    if overlap > 0 and overlap_k < 2:
        raise InputError(f"--overlap-k {overlap_k}: an overlapped task needs 2 annotators or more")
    if not 0.0 <= gold_rate < 1.0:
        raise InputError(f"--gold-rate {gold_rate}: give a share below 1, e.g. 0.05")


def check_project_overlap(ls: Any, pid: int, name: str) -> None:
    """Refuse when Label Studio's project-wide overlap is on: it would redraw ours."""
    project = call(ls.projects.get, id=pid)
    most = getattr(project, "maximum_annotations", 1) or 1
    if most > 1:
        share = getattr(project, "overlap_cohort_percentage", 100)
        raise OverlapConflictError(
            f"project {name!r} has Label Studio's own overlap on ({most} annotations for "
            f"{share}% of tasks), which redraws every task's overlap at each import: set "
            "'maximum annotations' back to 1 in the project's settings, or push without "
            "--overlap and --gold-rate"
        )


def split_budget(n: int, gold_rate: float) -> tuple[int, int]:
    """(regular posts, gold tasks) of a push of ``n`` tasks: gold is ``gold_rate`` of n
    (at least one when asked)."""
    gold = 0 if gold_rate <= 0 else max(1, round(n * gold_rate))
    return max(0, n - gold), min(gold, n)


def choose_overlap(post_ids: Sequence[str], share: float, rng: np.random.Generator) -> list[str]:
    """round(share x N) of the posts, drawn at random (seeded)."""
    count = round(share * len(post_ids))
    if count <= 0:
        return []
    picked = rng.choice(len(post_ids), size=count, replace=False)
    return [post_ids[i] for i in sorted(picked)]


def task_overlaps(ls: Any, pid: int) -> dict[int, tuple[dict[str, Any], int]]:
    """task id -> (data, overlap) for every task of the project."""

    def collect() -> dict[int, tuple[dict[str, Any], int]]:
        return {
            task.id: (task.data or {}, int(getattr(task, "overlap", 1) or 1))
            for task in ls.tasks.list(project=pid, page_size=500, include="id,data,overlap")
        }

    return call(collect)


def _plain(data: Mapping[str, Any]) -> bool:
    return not data.get(AUDIT_KEY) and data.get(REVIEW_KEY) is not True


def set_overlap(ls: Any, pid: int, wanted: Mapping[str, int]) -> int:
    """Give the (non-audit, non-review) task of each post in ``wanted`` that overlap; only
    tasks whose overlap differs are changed, so a retry repeats nothing. Returns how many
    tasks hold their wanted overlap."""
    if not wanted:
        return 0
    done = 0
    for task_id, (data, current) in task_overlaps(ls, pid).items():
        k = wanted.get(str(data.get("post_id")))
        if k is None or not _plain(data):
            continue
        if current != k:
            call(ls.tasks.update, id=str(task_id), overlap=k)
        done += 1
    return done


def overlap_figures(tasks: Iterable[AnnotatedTask], overlaps: Mapping[int, int]) -> dict[str, Any]:
    """What overlap delivered on the given (training) tasks: the tasks marked for k
    annotators and how many labels they got, and unmarked tasks labelled more than once."""
    tasks = list(tasks)
    marked = [t for t in tasks if overlaps.get(t.task_id or -1, 1) > 1]
    unmarked = [t for t in tasks if overlaps.get(t.task_id or -1, 1) <= 1]
    complete = [t for t in marked if len(t.annotations) >= overlaps[t.task_id or -1]]
    return {
        "tasks": len(tasks),
        "marked": len(marked),
        "marked_share": round(len(marked) / len(tasks), 4) if tasks else None,
        "k": sorted({overlaps[t.task_id or -1] for t in marked}),
        "complete": len(complete),
        "labels_on_marked": {
            str(k): v for k, v in sorted(Counter(len(t.annotations) for t in marked).items())
        },
        "unmarked_with_more_than_one": sum(1 for t in unmarked if len(t.annotations) > 1),
    }
