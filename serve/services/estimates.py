"""Audit labels in the store, and the audited estimate of a hashtag's label shares.

The statistics are the core's (``classifier.analytics.estimate``) and the population is
the core's query (``queries.hashtag_posts``) over every stored post, so the API answers
what ``swarmlens estimate`` answers for the same posts and audit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from swarmlens.classifier.analytics import queries
from swarmlens.classifier.analytics.estimate import (
    MIN_AUDITED,
    bucket_estimates,
    estimate_report,
)
from swarmlens.classifier.errors import InputError, QueryError
from swarmlens.classifier.posts.post import check_query_time, format_time
from swarmlens.classifier.text.entities import canonical_hashtag
from swarmlens.serve.schemas import (
    AuditList,
    AuditRequest,
    AuditResponse,
    AuditSummary,
    EstimatePoint,
    EstimateResponse,
)
from swarmlens.serve.store import Store


def store_audit(store: Store, body: AuditRequest) -> AuditResponse:
    key = canonical_hashtag(body.hashtag)
    if not key:
        raise QueryError(f"hashtag {body.hashtag!r} has no letter or digit to match")
    for name in ("start", "end"):
        try:
            check_query_time(name, getattr(body, name))
        except ValueError as exc:
            raise QueryError(str(exc)) from None
    if body.start is not None and body.end is not None and body.start >= body.end:
        raise QueryError("start must be before end")
    labels = {item.post_id: (item.label.value, item.annotator) for item in body.labels}
    design = {item.post_id: (item.probability, item.stratum) for item in body.labels}
    counts = store.add_audit(
        body.audit_id,
        key,
        _utc(body.start),
        _utc(body.end),
        [(post_id, label, who) for post_id, (label, who) in labels.items()],
        body.simulated,
        design,
        truth=None if body.truth is None else body.truth.model_dump(mode="json"),
    )
    return AuditResponse(audit_id=body.audit_id, hashtag=key, **counts)


def estimate(
    store: Store,
    tag: str,
    start: datetime | None,
    end: datetime | None,
    interval: str | None,
) -> EstimateResponse:
    """Classify-and-count and, where an audit of the tag covers the window, the estimate.

    Audited posts outside the window are left out (the rest of a covering audit is still a
    uniform sample of the window). With fewer than ``MIN_AUDITED`` of them the estimate
    fields are null: the figures are classify-and-count only.
    """
    population = queries.hashtag_posts(store.posts_source(), tag, start, end, store.cursor())
    key = population["hashtag"]
    labels = store.audit_labels(key, start, end)
    drawn = store.audit_design(key, start, end)
    where = {post_id: row for row, post_id in enumerate(population["post_id"])}
    inside = [post_id for post_id in labels if post_id in where]
    audited = [(where[post_id], labels[post_id]) for post_id in inside]
    design = [drawn.get(post_id, (None, None)) for post_id in inside]
    versions = sorted(set(population["model_version"]) - {None})
    report = estimate_report(
        key,
        format_time(start),
        format_time(end),
        population["scores"],
        population["label"],
        audited,
        ", ".join(versions) or None,
        unaudited_ok=True,
        design=design,
    )
    # As the CLI says of an audit file: simulated when an audit used says so (the demo's).
    report["simulated"] = bool(inside) and any(
        audit["simulated"] for audit in store.audits(key, start, end))
    response = EstimateResponse(**report)
    if interval and len(audited) >= MIN_AUDITED:
        size = 13 if interval == "hour" else 10  # "YYYY-MM-DDTHH" or "YYYY-MM-DD"
        suffix = ":00:00Z" if interval == "hour" else "T00:00:00Z"
        buckets = [t[:size] + suffix for t in population["t"]]
        response.series = [
            EstimatePoint(**point)
            for point in bucket_estimates(population["scores"], buckets, audited, design)
        ]
    return response


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def load_audit_file(store: Store, path: Path) -> list[AuditResponse]:
    """Store an audit file as ``annotate pull`` (or the demo) writes it: each record's
    ``audit``, ``hashtag``, ``start`` and ``end`` give its audit and window."""
    if not path.is_file():
        raise InputError(f"audit file {path} does not exist")
    grouped: dict[str, dict] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            audit = grouped.setdefault(
                str(record["audit"]),
                {
                    "audit_id": str(record["audit"]),
                    "hashtag": record["hashtag"],
                    "start": record.get("start"),
                    "end": record.get("end"),
                    "simulated": bool(record.get("simulated")),
                    "truth": record.get("truth"),  # the demo's: its corpus's true shares
                    "labels": [],
                },
            )
            who = record.get("annotators") or [None]
            if record["label"] is None and record.get("probability") is not None:
                continue  # drawn by ``annotate push --out``, not labelled yet
            audit["labels"].append(
                {"post_id": str(record["id"]), "label": record["label"], "annotator": who[0]}
                | {k: record[k] for k in ("probability", "stratum") if record.get(k) is not None}
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{path}:{number}: not an audit record with 'id', 'label', 'audit' and "
                f"'hashtag' ({exc!r}); store other audits with POST /v1/audits"
            ) from None
    try:
        return [store_audit(store, AuditRequest(**audit)) for audit in grouped.values()]
    except ValidationError as exc:
        raise InputError(f"{path}: {exc}") from None


def covering_audits(
    store: Store, tag: str, start: datetime | None, end: datetime | None
) -> AuditList:
    key = canonical_hashtag(tag)
    return AuditList(audits=[AuditSummary(**a) for a in store.audits(key, start, end)])
