"""The store's audit tables: audit labels stored by ``POST /v1/audits`` and read back for
audited estimates (``GET /v1/hashtags/{tag}/estimate``). A mixin of ``store.Store``, which
creates the tables and provides ``cursor()`` and the write lock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from swarmlens.classifier.errors import AuditConflictError


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
    ) -> dict[str, int]:
        """Store audit labels (post id, label, annotator) under ``audit_id``; idempotent.

        The audit's frame (hashtag key and window) is fixed by its first write: the same id
        with another frame is ``AuditConflictError``. A post's label may be corrected by
        sending it again. design: post id -> (inclusion probability, stratum) for audits
        drawn by another design than uniform (table ``audit_design``). Returns counts of
        inserted, updated and unchanged labels.
        """
        now = datetime.now(UTC)
        with self._write:
            cursor = self.cursor()
            self._design_table(cursor)
            frame = cursor.execute(
                "SELECT hashtag, start_at::TIMESTAMP, end_at::TIMESTAMP FROM audits "
                "WHERE audit_id = $a",
                {"a": audit_id},
            ).fetchone()
            if frame is not None and tuple(frame) != (hashtag, _naive(start), _naive(end)):
                raise AuditConflictError(
                    f"audit {audit_id!r} is stored for #{frame[0]} from {frame[1]} to "
                    f"{frame[2]}; an audit covers one hashtag and window: use a new audit id"
                )
            stored = dict(
                cursor.execute(
                    "SELECT post_id, label FROM audit_labels WHERE audit_id = $a",
                    {"a": audit_id},
                ).fetchall()
            )
            counts = {"inserted": 0, "updated": 0, "unchanged": 0}
            cursor.execute("BEGIN TRANSACTION")
            try:
                if frame is None:
                    cursor.execute(
                        "INSERT INTO audits VALUES ($a, $h, $s, $e, $now, $sim)",
                        {"a": audit_id, "h": hashtag, "s": start, "e": end, "now": now,
                         "sim": simulated},
                    )
                for post_id, label, annotator in labels:
                    kind = (
                        "inserted"
                        if post_id not in stored
                        else "unchanged"
                        if stored[post_id] == label
                        else "updated"
                    )
                    counts[kind] += 1
                    if kind != "unchanged":
                        cursor.execute(
                            "INSERT OR REPLACE INTO audit_labels VALUES ($a, $p, $l, $w, $now)",
                            {"a": audit_id, "p": post_id, "l": label, "w": annotator, "now": now},
                        )
                    stored[post_id] = label
                for post_id, (probability, stratum) in (design or {}).items():
                    if probability is not None:
                        cursor.execute(
                            "INSERT OR REPLACE INTO audit_design VALUES ($a, $p, $pi, $s)",
                            {"a": audit_id, "p": post_id, "pi": probability, "s": stratum},
                        )
                cursor.execute("COMMIT")
            except Exception:
                cursor.execute("ROLLBACK")
                raise
        return counts

    def _design_table(self, cursor: Any) -> None:
        """Per-post inclusion probabilities: created on first use (stores from before)."""
        if not getattr(self, "_design_ready", False):
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS audit_design (audit_id VARCHAR, post_id VARCHAR, "
                "probability DOUBLE, stratum VARCHAR, PRIMARY KEY (audit_id, post_id))"
            )
            self._design_ready = True

    def audit_design(
        self, hashtag: str, start: datetime | None, end: datetime | None
    ) -> dict[str, tuple[float | None, str | None]]:
        """post id -> (inclusion probability, stratum) for the posts ``audit_labels``
        returns that were drawn by a recorded design (the latest stored audit wins)."""
        with self._write:
            self._design_table(self.cursor())
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
        """The audits of ``hashtag`` covering [start, end), with their label counts."""
        rows = self.cursor().execute(
            f"""SELECT a.audit_id, any_value(a.start_at)::TIMESTAMP,
                       any_value(a.end_at)::TIMESTAMP, count(*), any_value(a.simulated)
                {self._COVERING} GROUP BY a.audit_id ORDER BY a.audit_id""",
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
            }
            for audit_id, begin, finish, count, simulated in rows
        ]




def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _naive(moment: datetime | None) -> datetime | None:
    """UTC without a zone, as DuckDB returns TIMESTAMPTZ cast to TIMESTAMP."""
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)
