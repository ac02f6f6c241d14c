"""The store's audit tables: audit labels stored by ``POST /v1/audits`` and read back for
audited estimates (``GET /v1/hashtags/{tag}/estimate``). A mixin of ``store.Store``, which
creates the tables (``AUDIT_TABLES``) and provides ``cursor()`` and the write lock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from swarmlens.classifier.errors import AuditConflictError
from swarmlens.serve.store_errors import transaction

AUDIT_TABLES = """
    CREATE TABLE IF NOT EXISTS audits (
        audit_id VARCHAR PRIMARY KEY, hashtag VARCHAR, start_at TIMESTAMPTZ,
        end_at TIMESTAMPTZ, created_at TIMESTAMPTZ, simulated BOOLEAN);
    CREATE TABLE IF NOT EXISTS audit_labels (
        audit_id VARCHAR, post_id VARCHAR, label VARCHAR, annotator VARCHAR,
        stored_at TIMESTAMPTZ, PRIMARY KEY (audit_id, post_id));
    CREATE TABLE IF NOT EXISTS audit_design (
        audit_id VARCHAR, post_id VARCHAR, probability DOUBLE, stratum VARCHAR,
        PRIMARY KEY (audit_id, post_id));
    CREATE TABLE IF NOT EXISTS audit_truth (audit_id VARCHAR PRIMARY KEY, truth VARCHAR);
"""
"""Labels; per-post inclusion probabilities (audits drawn by another design than uniform);
a simulated audit's true shares (JSON, the demo's synthetic corpus only)."""


class AuditTables:
    """Audit reads and writes over the tables ``audits`` and ``audit_labels``."""

    def add_audit(
        self,
        audit_id: str,
        hashtag: str,
        start: datetime | None,
        end: datetime | None,
        labels: list[tuple[str, str, str | None]],
        simulated: bool = False,
        design: dict[str, tuple[float | None, str | None]] | None = None,
        truth: dict[str, Any] | None = None,
    ) -> dict[str, int]:
        """Store audit labels (post id, label, annotator) under ``audit_id``; idempotent.

        The audit's frame (hashtag key and window) is fixed by its first write: the same id
        with another frame is ``AuditConflictError``. A post's label may be corrected by
        sending it again. design: post id -> (inclusion probability, stratum) for audits
        drawn by another design than uniform (table ``audit_design``). truth: the
        population's true shares, for a simulated audit (``schemas.AuditTruth``; the last
        sent is kept). Returns counts of inserted, updated and unchanged labels.
        """
        now = datetime.now(UTC)
        # Everything that does not need the store is made before the write lock: the
        # labels and the design as Arrow tables, written by one statement each (a statement
        # per label held the lock over 120 s for 100k labels, and every ingest waited).
        latest = {post_id: (label, who) for post_id, label, who in labels}  # the last wins
        incoming = pa.table(
            {
                "post_id": pa.array(list(latest), pa.string()),
                "label": pa.array([x for x, _ in latest.values()], pa.string()),
                "annotator": pa.array([w for _, w in latest.values()], pa.string()),
            }
        )
        drawn = [(p, pi, stratum) for p, (pi, stratum) in (design or {}).items() if pi is not None]
        designed = pa.table(
            {
                "post_id": pa.array([p for p, _, _ in drawn], pa.string()),
                "probability": pa.array([pi for _, pi, _ in drawn], pa.float64()),
                "stratum": pa.array([s for _, _, s in drawn], pa.string()),
            }
        )
        with self._writing() as cursor:
            found = cursor.execute(
                "SELECT hashtag, start_at::TIMESTAMP, end_at::TIMESTAMP FROM audits "
                "WHERE audit_id = $a",
                {"a": audit_id},
            ).fetchall()  # (all: a result left open refuses ``register``)
            frame = found[0] if found else None
            if frame is not None and tuple(frame) != (hashtag, _naive(start), _naive(end)):
                raise AuditConflictError(
                    f"audit {audit_id!r} is stored for #{frame[0]} from {frame[1]} to "
                    f"{frame[2]}; an audit covers one hashtag and window: use a new audit id"
                )
            cursor.register("incoming_labels", incoming)
            cursor.register("incoming_design", designed)
            try:
                counts = _label_counts(cursor, audit_id)
                with transaction(cursor):
                    if frame is None:
                        cursor.execute(
                            "INSERT INTO audits VALUES ($a, $h, $s, $e, $now, $sim)",
                            {"a": audit_id, "h": hashtag, "s": start, "e": end, "now": now,
                             "sim": simulated},
                        )
                    # A label sent again unchanged keeps its first stored_at.
                    cursor.execute(
                        """INSERT OR REPLACE INTO audit_labels
                        SELECT $a, i.post_id, i.label, i.annotator, $now
                        FROM incoming_labels i LEFT JOIN
                            (SELECT post_id, label FROM audit_labels WHERE audit_id = $a) s
                            USING (post_id)
                        WHERE s.label IS DISTINCT FROM i.label""",
                        {"a": audit_id, "now": now},
                    )
                    if drawn:
                        cursor.execute(
                            "INSERT OR REPLACE INTO audit_design "
                            "SELECT $a, post_id, probability, stratum FROM incoming_design",
                            {"a": audit_id},
                        )
                    if truth is not None:
                        cursor.execute(
                            "INSERT OR REPLACE INTO audit_truth VALUES ($a, $t)",
                            {"a": audit_id, "t": json.dumps(truth)},
                        )
            finally:
                cursor.unregister("incoming_labels")
                cursor.unregister("incoming_design")
        return counts

    def audit_design(
        self, hashtag: str, start: datetime | None, end: datetime | None
    ) -> dict[str, tuple[float | None, str | None]]:
        """post id -> (inclusion probability, stratum) for the posts ``audit_labels``
        returns that were drawn by a recorded design (the latest stored audit wins)."""
        rows = self.cursor().execute(
            f"""SELECT l.post_id, d.probability, d.stratum {self._COVERING}
                AND d.probability IS NOT NULL ORDER BY l.stored_at, a.audit_id""".replace(
                "JOIN audit_labels l USING (audit_id)",
                "JOIN audit_labels l USING (audit_id) LEFT JOIN audit_design d "
                "ON d.audit_id = l.audit_id AND d.post_id = l.post_id",
            ),
            {"h": hashtag, "s": start, "e": end},
        ).fetchall()
        labels = self.audit_labels(hashtag, start, end)
        design: dict[str, tuple[float | None, str | None]] = {p: (None, None) for p in labels}
        for post_id, probability, stratum in rows:
            design[post_id] = (float(probability), stratum)
        return design

    _COVERING = """
        FROM audits a JOIN audit_labels l USING (audit_id)
        WHERE a.hashtag = $h
          AND (a.start_at IS NULL OR a.start_at <= coalesce($s::TIMESTAMPTZ, '-infinity'))
          AND (a.end_at IS NULL OR a.end_at >= coalesce($e::TIMESTAMPTZ, 'infinity'))
    """

    def audit_labels(
        self, hashtag: str, start: datetime | None, end: datetime | None
    ) -> dict[str, str]:
        """Labels (post id -> label) of the audits of ``hashtag`` whose window covers
        [start, end); the latest stored wins when audits disagree.

        Only a covering audit is a uniform sample of the window's posts: its posts inside
        the window are uniform over it; an audit of a narrower window is not.
        """
        rows = self.cursor().execute(
            f"SELECT l.post_id, l.label {self._COVERING} ORDER BY l.stored_at, a.audit_id",
            {"h": hashtag, "s": start, "e": end},
        ).fetchall()
        return dict(rows)

    def audits(
        self, hashtag: str, start: datetime | None, end: datetime | None
    ) -> list[dict[str, Any]]:
        """The audits of ``hashtag`` covering [start, end), with their label counts (and a
        simulated audit's truth, when it was stored with one)."""
        rows = self.cursor().execute(
            f"""SELECT c.*, t.truth FROM (
                    SELECT a.audit_id, any_value(a.start_at)::TIMESTAMP AS begin,
                           any_value(a.end_at)::TIMESTAMP AS finish, count(*) AS n,
                           any_value(a.simulated) AS simulated
                    {self._COVERING} GROUP BY a.audit_id) c
                LEFT JOIN audit_truth t USING (audit_id) ORDER BY c.audit_id""",
            {"h": hashtag, "s": start, "e": end},
        ).fetchall()
        return [
            {
                "audit_id": audit_id,
                "hashtag": hashtag,
                "start": _iso(begin),
                "end": _iso(finish),
                "labels": int(count),
                "simulated": bool(simulated),
                # Only when stored: absent (not null) otherwise in GET /v1/audits.
                **({} if truth is None else {"truth": json.loads(truth)}),
            }
            for audit_id, begin, finish, count, simulated, truth in rows
        ]



def _label_counts(cursor: Any, audit_id: str) -> dict[str, int]:
    """Of the labels in ``incoming_labels``: how many are new, changed and as stored."""
    inserted, updated, unchanged = cursor.execute(
        """SELECT count(*) FILTER (WHERE s.label IS NULL),
                  count(*) FILTER (WHERE s.label <> i.label),
                  count(*) FILTER (WHERE s.label = i.label)
        FROM incoming_labels i LEFT JOIN
            (SELECT post_id, label FROM audit_labels WHERE audit_id = $a) s USING (post_id)""",
        {"a": audit_id},
    ).fetchall()[0]
    return {"inserted": int(inserted), "updated": int(updated), "unchanged": int(unchanged)}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _naive(moment: datetime | None) -> datetime | None:
    """UTC without a zone, as DuckDB returns TIMESTAMPTZ cast to TIMESTAMP."""
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)
