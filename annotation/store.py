"""swarmlens's own side of an annotation project: gold answers and annotators' languages.

Known answers never go to Label Studio: a gold task there is an ordinary task (the same
data fields, a model pre-annotation like its neighbours), and only this store knows its
answer. Label Studio Community shows every task's data and every annotation to every user
of the organization, so anything put there an annotator could read.

The store is one folder per project under ``<data dir>/annotation/`` (``SWARMLENS_DATA_DIR``,
the server's data directory too; by default ``~/.local/share/swarmlens``), or ``--store``:

- ``gold.jsonl``: one known answer per line: ``post_id``, ``label`` and ``data`` (the task
  data a push imports, as for any post);
- ``annotators.json``: ``{email: {"langs": [...]}}``, the languages each annotator reads.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field

from swarmlens.annotation.tasks import task_data
from swarmlens.classifier.errors import AnnotationStoreError, AnnotatorError, GoldError
from swarmlens.classifier.fsio import atomic_write_text
from swarmlens.classifier.posts.post import Post
from swarmlens.classifier.posts.readers import iter_source
from swarmlens.classifier.posts.sources import expand_inputs
from swarmlens.classifier.settings import Settings, default_data_dir
from swarmlens.classifier.vocab import LABELS

GOLD_FILE = "gold.jsonl"
ANNOTATORS_FILE = "annotators.json"
_LANG = re.compile(r"^[a-z]{2,3}$")


class StoreSettings(Settings):
    """Where the store lives: ``SWARMLENS_DATA_DIR`` (as the server's ``data_dir``)."""

    data_dir: Path = Field(default_factory=default_data_dir)


def slug(project: str) -> str:
    """A folder name for a project title: readable, and distinct for distinct titles."""
    readable = re.sub(r"[^a-z0-9]+", "-", project.lower()).strip("-")[:40] or "project"
    return f"{readable}-{hashlib.sha256(project.encode()).hexdigest()[:8]}"


def store_dir(project: str, root: Path | None = None) -> Path:
    """The project's folder: ``root`` (``--store``) or ``<data dir>/annotation/<slug>``."""
    base = root if root is not None else StoreSettings().data_dir / "annotation"
    return base / slug(project)


def _read_json_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise AnnotationStoreError(
                f"{path}:{number} is not a JSON object: fix or delete that line"
            )
        records.append(record)
    return records


# -- gold ----------------------------------------------------------------------------------


@dataclass
class GoldItem:
    post_id: str
    label: str
    data: dict[str, Any]


@dataclass
class GoldAddReport:
    store: str
    read: int
    added: int
    changed: int
    unchanged: int
    total: int
    rejects: list[dict[str, Any]] = field(default_factory=list)


def load_gold(project: str, root: Path | None = None) -> dict[str, GoldItem]:
    """post_id -> known answer, for every gold item of the project."""
    path = store_dir(project, root) / GOLD_FILE
    gold: dict[str, GoldItem] = {}
    for record in _read_json_lines(path):
        post_id, label, data = record.get("post_id"), record.get("label"), record.get("data")
        if not isinstance(post_id, str) or label not in LABELS or not isinstance(data, dict):
            raise AnnotationStoreError(
                f"{path}: a record lacks post_id, a known label or data: fix or delete it"
            )
        gold[post_id] = GoldItem(post_id, label, data)
    return gold


def gold_task_data(post: Post) -> dict[str, Any]:
    """The task data of a gold post: exactly what any pushed post carries, no answer."""
    return task_data(post)


def add_gold(project: str, inputs: Sequence[str | Path], root: Path | None = None) -> GoldAddReport:
    """Add the labelled posts of ``inputs`` to the project's gold store.

    Records that cannot be a post, or carry no label, are rejected with their line; a post
    id counts once (later copies are rejected). An answer already stored is replaced when
    its label differs (a corrected answer).
    """
    gold = load_gold(project, root)
    seen: set[str] = set()
    rejects: list[dict[str, Any]] = []
    read = added = changed = unchanged = 0
    for path in expand_inputs(inputs):
        for number, item in enumerate(iter_source(path), start=1):
            read += 1
            if not isinstance(item, Post):
                rejects.append({"source": item.source, "line": item.line, "reason": item.reason})
                continue
            # The reader numbers rejects only; a post's place is its record number.
            where = {"source": str(path), "line": number}
            if item.label is None:
                rejects.append({**where, "reason": f"post {item.post_id} has no 'label'"})
                continue
            if item.post_id in seen:
                rejects.append({**where, "reason": f"post id {item.post_id} given twice"})
                continue
            seen.add(item.post_id)
            before = gold.get(item.post_id)
            gold[item.post_id] = GoldItem(item.post_id, item.label, gold_task_data(item))
            if before is None:
                added += 1
            elif before.label != item.label:
                changed += 1
            else:
                unchanged += 1
    if not seen:
        raise GoldError(
            f"no usable known answer in {', '.join(map(str, inputs))}: each record needs an "
            f"id, a text and a label ({', '.join(LABELS)})",
            detail=rejects[:20],
        )
    folder = store_dir(project, root)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        folder / GOLD_FILE,
        "".join(
            json.dumps({"post_id": g.post_id, "label": g.label, "data": g.data}, ensure_ascii=False)
            + "\n"
            for g in sorted(gold.values(), key=lambda g: g.post_id)
        ),
    )
    return GoldAddReport(
        str(folder / GOLD_FILE), read, added, changed, unchanged, len(gold), rejects
    )


# -- annotators' languages -------------------------------------------------------------------


def load_annotators(project: str, root: Path | None = None) -> dict[str, list[str]]:
    """email -> the languages that annotator reads (as set with ``annotators set``)."""
    path = store_dir(project, root) / ANNOTATORS_FILE
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(email): list(entry["langs"]) for email, entry in raw.items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        raise AnnotationStoreError(f"{path} is damaged: fix or delete it") from None


def parse_langs(text: str | Iterable[str]) -> list[str]:
    """'ar, en' -> ['ar', 'en'] (lower case, each once, ISO 639 codes only)."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    langs: list[str] = []
    for part in parts:
        code = part.strip().lower()
        if not code:
            continue
        if not _LANG.match(code):
            raise AnnotatorError(
                f"{part.strip()!r} is not a language code: give ISO 639 codes, e.g. --langs ar,en"
            )
        if code not in langs:
            langs.append(code)
    if not langs:
        raise AnnotatorError("no language given: e.g. --langs ar,en")
    return langs


def save_annotator(
    project: str, email: str, langs: Sequence[str], root: Path | None = None
) -> dict[str, list[str]]:
    """Record (or replace) the languages ``email`` reads; returns every annotator's."""
    annotators = load_annotators(project, root)
    annotators[email] = list(langs)
    folder = store_dir(project, root)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        folder / ANNOTATORS_FILE,
        json.dumps(
            {e: {"langs": annotators[e]} for e in sorted(annotators)}, indent=2, ensure_ascii=False
        )
        + "\n",
    )
    return annotators
