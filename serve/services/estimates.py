"""Audit labels in the store, and the audited estimate of a hashtag's label shares.

The statistics are the core's (``classifier.analytics.estimate``) and the population is
the core's query (``queries.hashtag_posts``) over every stored post, so the API answers
what ``swarmlens estimate`` answers for the same posts and audit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from swarmlens.classifier.analytics import queries
from swarmlens.classifier.analytics.estimate import (
    MIN_AUDITED,
    bucket_estimates,
    estimate_report,
)
from swarmlens.classifier.errors import QueryError
from swarmlens.classifier.posts.post import format_time
from swarmlens.classifier.text.entities import canonical_hashtag
from swarmlens.serve.schemas import (
    AuditRequest,
    AuditResponse,
    EstimatePoint,
    EstimateResponse,
)
from swarmlens.serve.store import Store


def store_audit(store: Store, body: AuditRequest) -> AuditResponse:
    key = canonical_hashtag(body.hashtag)
    if not key:
        raise QueryError(f"hashtag {body.hashtag!r} has no letter or digit to match")
    if body.start is not None and body.end is not None and body.start >= body.end:
        raise QueryError("start must be before end")
    labels = {item.post_id: (item.label.value, item.annotator) for item in body.labels}
    counts = store.add_audit(
        body.audit_id,
        key,
        _utc(body.start),
        _utc(body.end),
        [(post_id, label, who) for post_id, (label, who) in labels.items()],
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
    _, labels = store.audit_labels(key, start, end)
    where = {post_id: row for row, post_id in enumerate(population["post_id"])}
    audited = [(where[post_id], label) for post_id, label in labels.items() if post_id in where]
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
    )
    response = EstimateResponse(**report)
    if interval and len(audited) >= MIN_AUDITED:
        size = 13 if interval == "hour" else 10  # "YYYY-MM-DDTHH" or "YYYY-MM-DD"
        suffix = ":00:00Z" if interval == "hour" else "T00:00:00Z"
        buckets = [t[:size] + suffix for t in population["t"]]
        response.series = [
            EstimatePoint(**point)
            for point in bucket_estimates(population["scores"], buckets, audited)
        ]
    return response


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
