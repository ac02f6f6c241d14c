"""The server's DuckDB store: ingested posts, attached datasets and their aggregates.

The API process owns the database file (DuckDB allows one read-write
process); batch jobs write Parquet datasets that are attached here and read
in place. Attaching a dataset also stores its hourly, score-binned counts per
hashtag and per domain, so volume queries do not scan millions of posts.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from swarmlens.classifier.analytics import queries
from swarmlens.classifier.errors import AuditConflictError, InputError, StoreLockedError
from swarmlens.classifier.vocab import OUTPUT_SCHEMA, duckdb_columns

DATABASE_NAME = "swarmlens.duckdb"
GRAINS = ("binned", "hour", "day", "hour_total", "day_total")
AGGREGATES = tuple(f"agg_{kind}_{grain}" for kind in ("tag", "domain") for grain in GRAINS)
"""Per-dataset counts, for hashtags and domains: hourly with score bins; hourly and daily
per label, language and retweet flag; hourly and daily per label only (the common query:
no language or retweet filter), which is a few rows per tag and bucket."""
_COLUMNS = [field.name for field in OUTPUT_SCHEMA]
_REQUIRED = {"post_id", "label", "scores", "hashtags", "created_at", "lang"}



class Store:
    """Posts and datasets in one DuckDB file; one writer at a time, many readers.

    directory: where the database file lives (created if missing).
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / DATABASE_NAME
        try:
            self._con = queries.connect(str(self.path))
        except duckdb.IOException as exc:
            raise StoreLockedError(
                f"cannot open {self.path}: {exc}. Another swarmlens server probably owns it; "
                "stop it or use another --data-dir"
            ) from None
        self._write = threading.Lock()
        self._local = threading.local()
        self._con.execute(
            f"""
            CREATE TABLE IF NOT EXISTS posts (
                {duckdb_columns(OUTPUT_SCHEMA, primary_key="post_id")});
            CREATE TABLE IF NOT EXISTS datasets (
                path VARCHAR PRIMARY KEY, attached_at TIMESTAMPTZ, rows BIGINT);
            CREATE TABLE IF NOT EXISTS audits (
                audit_id VARCHAR PRIMARY KEY, hashtag VARCHAR, start_at TIMESTAMPTZ,
                end_at TIMESTAMPTZ, created_at TIMESTAMPTZ, simulated BOOLEAN);
            CREATE TABLE IF NOT EXISTS audit_labels (
                audit_id VARCHAR, post_id VARCHAR, label VARCHAR, annotator VARCHAR,
                stored_at TIMESTAMPTZ, PRIMARY KEY (audit_id, post_id));
            """
        )
        self._add_new_columns()
        for table in AGGREGATES:
            self._con.execute(
                f"""CREATE TABLE IF NOT EXISTS {table} (
                    dataset VARCHAR, key VARCHAR, t TIMESTAMPTZ, label VARCHAR, lang VARCHAR,
                    retweet BOOLEAN, score DOUBLE, n BIGINT)"""
            )

    def _add_new_columns(self) -> None:
        # A store made by an earlier version lacks the columns added to OUTPUT_SCHEMA
        # since (the network's urls, mentions...): add them, NULL for the old rows.
        have = {row[0] for row in self._con.execute("DESCRIBE posts").fetchall()}
        for column in OUTPUT_SCHEMA:
            if column.name not in have:
                kind = duckdb_columns(pa.schema([column])).split(" ", 1)[1]
                self._con.execute(f"ALTER TABLE posts ADD COLUMN {column.name} {kind}")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection (DuckDB connections must not be shared across threads)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._con.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
        return cursor

    def tune_for_serving(self) -> None:
        """One DuckDB thread per query: requests run side by side on the server's thread
        pool, and that serves more of them than every query fighting for every core."""
        self._con.execute("SET threads = 1")

    def close(self) -> None:
        self._con.close()

    # -- writes ---------------------------------------------------------------------

    def add_posts(self, table: pa.Table) -> tuple[list[str], list[str]]:
        """Insert scored posts; returns (inserted ids, ids already stored)."""
        ids = table.column("post_id").to_pylist()
        with self._write:
            cursor = self.cursor()
            existing = {
                row[0]
                for row in cursor.execute(
                    "SELECT post_id FROM posts WHERE post_id IN (SELECT unnest($ids))", {"ids": ids}
                ).fetchall()
            }
            fresh = table.filter(pa.array([i not in existing for i in ids]))
            if fresh.num_rows:
                cursor.register("incoming", fresh)
                try:
                    cursor.execute(
                        f"INSERT INTO posts SELECT {', '.join(_COLUMNS)} FROM incoming "
                        "ON CONFLICT DO NOTHING"
                    )
                finally:
                    cursor.unregister("incoming")
        return fresh.column("post_id").to_pylist(), [i for i in ids if i in existing]

    def attach(self, path: Path) -> dict[str, Any]:
        """Attach (or refresh) a scored Parquet dataset made by ``swarmlens score``."""
        path = path.resolve()
        if not path.exists():
            raise InputError(f"dataset {path} does not exist")
        if path.is_dir() and not any(path.rglob("*.parquet")):
            raise InputError(f"dataset {path} holds no Parquet file")
        source = queries.parquet_source([path])
        with self._write:
            cursor = self.cursor()
            try:
                columns = {
                    row[0] for row in cursor.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
                }
            except duckdb.Error as exc:
                raise InputError(f"dataset {path} cannot be read as Parquet: {exc}") from None
            missing = _REQUIRED - columns
            if missing:
                raise InputError(
                    f"dataset {path} lacks column(s) {', '.join(sorted(missing))}: "
                    "attach the output of `swarmlens score`"
                )
            key = str(path)
            cursor.execute("BEGIN TRANSACTION")
            try:
                for table in AGGREGATES:
                    cursor.execute(f"DELETE FROM {table} WHERE dataset = $d", {"d": key})
                for kind, column in (("tag", "hashtags"), ("domain", "domains")):
                    binned = f"agg_{kind}_binned"
                    cursor.execute(
                        f"INSERT INTO {binned} SELECT $d, * FROM "
                        f"({queries.aggregate_counts(source, column)}) ORDER BY key, t",
                        {"d": key},
                    )
                    # Coarser grains answer most queries from far fewer rows: no score
                    # bins (when min_score is not asked), and whole days.
                    for grain, bucket in (("hour", "t"), ("day", "date_trunc('day', t)")):
                        cursor.execute(
                            f"""INSERT INTO agg_{kind}_{grain}
                            SELECT dataset, key, {bucket} AS b, label, lang, retweet,
                                   NULL::DOUBLE, sum(n)::BIGINT
                            FROM {binned} WHERE dataset = $d
                            GROUP BY dataset, key, b, label, lang, retweet ORDER BY key, b""",
                            {"d": key},
                        )
                        cursor.execute(
                            f"""INSERT INTO agg_{kind}_{grain}_total
                            SELECT dataset, key, t, label, NULL, FALSE, NULL::DOUBLE,
                                   sum(n)::BIGINT
                            FROM agg_{kind}_{grain} WHERE dataset = $d
                            GROUP BY dataset, key, t, label ORDER BY key, t""",
                            {"d": key},
                        )
                rows = cursor.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
                attached = datetime.now(UTC)
                cursor.execute(
                    "INSERT OR REPLACE INTO datasets VALUES ($p, $a, $r)",
                    {"p": key, "a": attached, "r": rows},
                )
                cursor.execute("COMMIT")
            except Exception:
                cursor.execute("ROLLBACK")
                raise
        return {"path": key, "rows": int(rows), "attached_at": attached}

    def add_audit(
        self,
        audit_id: str,
        hashtag: str,
        start: datetime | None,
        end: datetime | None,
        labels: list[tuple[str, str, str | None]],
        simulated: bool = False,
    ) -> dict[str, int]:
        """Store audit labels (post id, label, annotator) under ``audit_id``; idempotent.

        The audit's frame (hashtag key and window) is fixed by its first write: the same id
        with another frame is ``AuditConflictError``. A post's label may be corrected by
        sending it again. Returns counts of inserted, updated and unchanged labels.
        """
        now = datetime.now(UTC)
        with self._write:
            cursor = self.cursor()
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
                cursor.execute("COMMIT")
            except Exception:
                cursor.execute("ROLLBACK")
                raise
        return counts

    # -- reads -------------------------------------------------------------------------

    def posts_source(
        self, columns: str = "post_id, label, scores, model_version, hashtags, created_at"
    ) -> str:
        """Table expression over every stored scored post: ingested and attached datasets.

        columns: the columns to read (of ``OUTPUT_SCHEMA``; emerging hashtags read authors).
        """
        paths = self.dataset_paths()
        if not paths:
            return f"(SELECT {columns} FROM posts)"
        return (
            f"(SELECT {columns} FROM posts UNION ALL "
            f"SELECT {columns} FROM {queries.parquet_source(paths)})"
        )

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


    def dataset_paths(self) -> list[str]:
        return [
            row[0]
            for row in self.cursor().execute("SELECT path FROM datasets ORDER BY path").fetchall()
        ]

    def counts(self) -> dict[str, int]:
        cursor = self.cursor()
        posts = cursor.execute("SELECT count(*) FROM posts").fetchone()[0]
        datasets, rows = cursor.execute(
            "SELECT count(*), coalesce(sum(rows), 0) FROM datasets"
        ).fetchone()
        return {"ingested_posts": int(posts), "datasets": int(datasets), "dataset_rows": int(rows)}

    def relation(
        self,
        kind: str,
        start: datetime | None = None,
        end: datetime | None = None,
        min_score: float | None = None,
        interval: str = "hour",
        lang: str | None = None,
        exclude_retweets: bool = False,
    ) -> tuple[str, bool]:
        """Counts relation over everything stored for ``kind`` ('hashtags' or 'domains'),
        and whether it is an exact scan.

        The coarsest aggregate that answers the query exactly is used: whole days when
        the interval is a day and the range is day-aligned, hours otherwise, hours with
        score bins when ``min_score`` is asked, and totals per label alone when neither
        ``lang`` nor ``exclude_retweets`` filters; a range not on hour boundaries or a
        ``min_score`` between bins scans the datasets' posts.
        """
        column, prefix = ("hashtags", "tag") if kind == "hashtags" else ("domains", "domain")
        live = queries.post_counts("posts", column)
        paths = self.dataset_paths()
        exact = not queries.aggregate_is_exact(start, end, min_score)
        if not paths:
            return live, True
        if exact:
            scanned = queries.post_counts(queries.parquet_source(paths), column)
            return f"(SELECT * FROM {live} UNION ALL SELECT * FROM {scanned})", True
        if min_score is not None:
            grain = "binned"
        elif interval == "day" and _day_aligned(start) and _day_aligned(end):
            grain = "day"
        else:
            grain = "hour"
        if grain != "binned" and not lang and not exclude_retweets:
            grain += "_total"
        return (
            f"(SELECT * FROM {live} UNION ALL "
            f"SELECT key, t, label, lang, retweet, score, n FROM agg_{prefix}_{grain})",
            False,
        )


def _day_aligned(moment: datetime | None) -> bool:
    return moment is None or (moment.hour, moment.minute, moment.second, moment.microsecond) == (
        0,
        0,
        0,
        0,
    )


def _naive(moment: datetime | None) -> datetime | None:
    """UTC without a zone, as DuckDB returns TIMESTAMPTZ cast to TIMESTAMP."""
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")
