"""Label Studio as swarmlens talks to it: the client, retried calls, and importing tasks.

Every call to Label Studio goes through ``call``, which retries with exponential backoff
when the server is down or answers 5xx/429. ``import_missing`` asks the project which
posts it already holds before importing, so a retried import adds no duplicate. Both the
annotation loop (``workflow``) and audits (``audit``) push through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from swarmlens.annotation.project import choice_result, find_project
from swarmlens.classifier.errors import AnnotationError
from swarmlens.classifier.posts.post import Post, format_time
from swarmlens.classifier.settings import get_settings

T = TypeVar("T")
PUSH_BATCH = 200
AUDIT_KEY = "audit"
"""The task data key that marks an audit task (its value: the audit id)."""
REVIEW_KEY = "review"
"""The task data key that marks a review task (``annotate review --push``: a label that
looks wrong, or a split vote, asked again)."""



def _retryable(exc: BaseException) -> bool:
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, ApiError) and (exc.status_code or 0) in (429, 500, 502, 503, 504)


def call(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one Label Studio call, retrying transient failures with backoff.

    Gives up after ``SWARMLENS_LS_RETRY_SECONDS`` (default 120) seconds.
    """
    limit = get_settings().label_studio_retry_seconds
    retrying = retry(
        retry=retry_if_exception(_retryable),
        wait=wait_exponential(multiplier=0.5, max=10),
        stop=stop_after_delay(limit),
        reraise=True,
    )
    try:
        return retrying(func)(*args, **kwargs)
    except httpx.TransportError as exc:
        raise AnnotationError(
            f"Label Studio unreachable after retrying {limit:.0f} s: {exc}"
        ) from None


def connect(url: str | None = None, api_key: str | None = None) -> Any:
    """A label-studio-sdk client; URL and token from the arguments or
    ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``."""
    from label_studio_sdk import LabelStudio

    settings = get_settings()
    url = url or settings.label_studio_url
    api_key = api_key or settings.label_studio_api_key
    if not url or not api_key:
        raise AnnotationError(
            "Label Studio URL and token needed: set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY "
            "or pass --url and --api-key"
        )
    return LabelStudio(base_url=url.rstrip("/"), api_key=api_key, timeout=60)


def project_id(ls: Any, name: str) -> int:
    project = call(find_project, ls, name)
    if project is None:
        raise AnnotationError(
            f"no project {name!r}: run `swarmlens annotate setup --project {name}`"
        )
    return project.id


# -- push -------------------------------------------------------------------------------


def task_post_ids(ls: Any, pid: int) -> dict[str, int]:
    """post_id -> task id of every task in the project."""
    found: dict[str, int] = {}
    for task in ls.tasks.list(project=pid, page_size=500, fields="all"):
        post_id = (task.data or {}).get("post_id")
        if post_id is not None:
            found[str(post_id)] = task.id
    return found


def task_data(post: Post) -> dict[str, Any]:
    return {
        "text": post.text,
        "post_id": post.post_id,
        "posted_at": format_time(post.created_at),
        "lang": post.lang,
        "hashtags": " ".join("#" + tag for tag in post.hashtags),
        "platform": post.platform,
        "author": post.author,
    }


def prediction(label: str, score: float, model_version: str) -> dict[str, Any]:
    return {
        "model_version": model_version,
        "score": round(float(score), 6),
        "result": choice_result(label),
    }


def audit_post_ids(ls: Any, pid: int, audit_id: str) -> dict[str, int]:
    """post_id -> task id of the tasks of one audit."""
    return {
        str(task.data["post_id"]): task.id
        for task in ls.tasks.list(project=pid, page_size=500, fields="all")
        if (task.data or {}).get(AUDIT_KEY) == audit_id and "post_id" in task.data
    }


def import_missing(
    ls: Any, pid: int, tasks: dict[str, dict[str, Any]], audit_id: str | None = None
) -> int:
    """Import the tasks whose post the project (or the audit) does not hold yet; the unit
    that is retried.

    Asking first makes a retry safe: an import whose answer was lost is not repeated. The
    SDK's own retries are off for the import for the same reason.
    """
    present = audit_post_ids(ls, pid, audit_id) if audit_id else task_post_ids(ls, pid)
    missing = [task for post_id, task in tasks.items() if post_id not in present]
    if missing:
        ls.projects.import_tasks(id=pid, request=missing, request_options={"max_retries": 0})
    return len(missing)
