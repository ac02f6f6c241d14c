"""Language routing: each annotator gets a Label Studio tab holding only posts in the
languages they read.

A tab (a Data Manager view) per annotator, titled ``<email> · ar, en``, with one filter
per language on the task's ``lang`` (joined by "or"). Started from that tab, Label
Studio's labelling stream serves only the tab's tasks (``/api/projects/{id}/next?view=ID``
applies the tab's filters; checked against the real server), and per-task overlap still
holds. Label Studio Community shows every tab to every member of the organization: the
tab is a route, not a permission. One project per language was the other choice; tabs
keep one project, one set of figures and one model per hashtag.

Posts whose language is unknown (``und``) or that no annotator reads are in no tab: the
status command lists them as unrouted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from swarmlens.annotation.tasks import call
from swarmlens.classifier.errors import AnnotatorError

SEPARATOR = " · "


def view_title(email: str, langs: Sequence[str]) -> str:
    return f"{email}{SEPARATOR}{', '.join(langs)}"


def lang_filters(langs: Sequence[str]) -> dict[str, Any]:
    return {
        "conjunction": "or",
        "items": [
            {
                "filter": "filter:tasks:data.lang",
                "operator": "equal",
                "type": "String",
                "value": lang,
            }
            for lang in langs
        ],
    }


def _title(view: Any) -> str:
    data = view.data if isinstance(view.data, dict) else {}
    return str(data.get("title") or "")


def user_emails(ls: Any) -> set[str]:
    return call(lambda: {u.email for u in ls.users.list() if u.email})


def ensure_annotator_view(ls: Any, pid: int, email: str, langs: Sequence[str]) -> int:
    """Create or update the annotator's tab; returns its id. Refuses an unknown email."""
    if email not in user_emails(ls):
        raise AnnotatorError(
            f"no Label Studio user {email!r}: invite them (Organization > Add people) first"
        )
    data = {"title": view_title(email, langs), "filters": lang_filters(langs)}
    for view in call(ls.views.list, project=pid):
        if _title(view).startswith(email + SEPARATOR):
            call(ls.views.update, id=str(view.id), project=pid, data=data)
            return view.id
    return call(ls.views.create, project=pid, data=data).id


def routing(
    tasks: Sequence[Mapping[str, Any]],
    annotators: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """Languages of the open tasks, and those no annotator reads (``unrouted``).

    tasks: task data of the open (unlabelled) tasks."""
    langs = Counter(str(data.get("lang") or "und") for data in tasks)
    covered = {lang for read in annotators.values() for lang in read}
    return {
        "annotators": {email: list(read) for email, read in sorted(annotators.items())},
        "open_by_lang": dict(langs.most_common()),
        "unrouted": {lang: n for lang, n in langs.most_common() if lang not in covered},
    }
