"""The server's DuckDB store: ingested posts, attached datasets and their aggregates.

The API process owns the database file (DuckDB allows one read-write
process); batch jobs write Parquet datasets that are attached here and read
in place. Attaching a dataset also stores its hourly, score-binned counts per
hashtag and per domain, so volume queries do not scan millions of posts.

This module opens the file and holds the posts and the reads; attaching and detaching
datasets is ``dataset_store``, audits ``audit_store``, what DuckDB's failures of the file
mean ``store_errors``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from swarmlens.classifier.analytics import datasets, queries, tag_forms
from swarmlens.classifier.errors import DatasetGoneError, StoreDamagedError, SwarmlensError
from swarmlens.classifier.vocab import OUTPUT_SCHEMA, duckdb_columns
from swarmlens.serve import store_errors
from swarmlens.serve.audit_store import AUDIT_TABLES, AuditTables
from swarmlens.serve.dataset_store import AGGREGATES, DatasetTables, dataset_id

log = logging.getLogger(__name__)

DATABASE_NAME = "swarmlens.duckdb"
_COLUMNS = [field.name for field in OUTPUT_SCHEMA]


class Store(AuditTables, DatasetTables):
    """Posts and datasets in one DuckDB file; one writer at a time, many readers.

    directory: where the database file lives (created if missing).

    A file DuckDB cannot open is E009 (another process owns it) or E045 (damaged, empty, a
    directory); every block in use is read once here, so a damaged one is refused at
    start-up, not met by every query later.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / DATABASE_NAME
        try:
            self._con = queries.connect(str(self.path))
        except duckdb.Error as exc:
            raise store_errors.open_error(exc, self.path) from None
        try:
            store_errors.verify(self._con, self.path)
        except StoreDamagedError:
            self._con.close()
            raise
        self.damaged: StoreDamagedError | None = None
        """Set once a query met a damaged block: ``/healthz`` says so from then on."""
        self._write = threading.Lock()
        self._local = threading.local()
        self._con.execute(
            f"""
            CREATE TABLE IF NOT EXISTS posts (
                {duckdb_columns(OUTPUT_SCHEMA, primary_key="post_id")});
            CREATE TABLE IF NOT EXISTS datasets (
                path VARCHAR PRIMARY KEY, attached_at TIMESTAMPTZ, rows BIGINT);
            {AUDIT_TABLES}"""
        )
        self._add_new_columns()
        for table in AGGREGATES:
            self._con.execute(
                f"""CREATE TABLE IF NOT EXISTS {table} (
                    dataset VARCHAR, key VARCHAR, t TIMESTAMPTZ, label VARCHAR, lang VARCHAR,
                    retweet BOOLEAN, score DOUBLE, n BIGINT)"""
            )
        # Which dataset counts each post id (see ``attach``), and how many of a dataset's
        # rows another copy outranks. A store from before has neither: its datasets are
        # counted afresh, oldest first, once.
        self._con.execute(
            """CREATE TABLE IF NOT EXISTS dataset_ids (post_id VARCHAR, dataset VARCHAR);
            ALTER TABLE datasets ADD COLUMN IF NOT EXISTS excluded BIGINT;
            ALTER TABLE datasets ADD COLUMN IF NOT EXISTS copies BIGINT"""
        )
        had_forms = self._con.execute("FROM duckdb_tables() WHERE table_name = 'agg_tag_forms'")
        had_forms = had_forms.fetchone() is not None
        self._con.execute("CREATE TABLE IF NOT EXISTS agg_tag_forms "
                          "(dataset VARCHAR, key VARCHAR, form VARCHAR, n BIGINT)")
        self.generation = 0
        self.datasets_generation = 0
        """Bumped by attach and detach only (in-memory indexes of the aggregates)."""
        self._posts_seen: tuple[int, bool] | None = None
        self._paths: tuple[int, list[str]] | None = None
        """Bumped by every write: answers cached under an older generation are stale."""
        # A store from before spellings (or a dataset's own copies of a post) were kept
        # recounts its datasets once, to fill them.
        stale = self._con.execute(
            "SELECT path FROM datasets WHERE excluded IS NULL OR copies IS NULL OR NOT $had "
            "ORDER BY attached_at",
            {"had": had_forms},
        ).fetchall()
        for (path,) in stale:
            try:
                self.attach(Path(path))
            except SwarmlensError as exc:  # files gone: kept as is, queries will say so
                log.warning("dataset %s not recounted: %s", path, exc.message)

    def _add_new_columns(self) -> None:
        # A store made by an earlier version lacks the columns added to OUTPUT_SCHEMA
        # since (the network's urls, mentions...): add them, NULL for the old rows.
        have = {row[0] for row in self._con.execute("DESCRIBE posts").fetchall()}
        for column in (c for c in OUTPUT_SCHEMA if c.name not in have):
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

    def failure(self, exc: BaseException) -> BaseException:
        """What a failed query means: E046 for a full disk, E045 for a damaged file (and
        ``/healthz`` answers 503 from then on), else ``exc`` itself."""
        error = store_errors.translate(exc, self.path)
        if isinstance(error, StoreDamagedError):
            self.damaged = error
        return error or exc

    def health(self) -> StoreDamagedError | None:
        """None when the store answers a query; else why it cannot."""
        if self.damaged is not None:
            return self.damaged
        try:
            self.cursor().execute("SELECT count(*) FROM datasets").fetchone()
        except duckdb.Error as exc:
            self.damaged = store_errors.damaged_error(exc, self.path)
        return self.damaged

    @contextmanager
    def _writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The write lock and this thread's cursor; DuckDB's failures of the file leave
        as E045 / E046 (a full disk was a 500 "TransactionException")."""
        with self._write:
            try:
                yield self.cursor()
            except duckdb.Error as exc:
                error = self.failure(exc)
                if error is exc:
                    raise
                raise error from None

    # -- writes ---------------------------------------------------------------------

    def add_posts(self, table: pa.Table) -> tuple[list[str], list[str]]:
        """Insert scored posts; returns (inserted ids, ids already stored)."""
        ids = table.column("post_id").to_pylist()
        with self._writing() as cursor:
            # An id an attached dataset already counts is a duplicate too: the copy stored
            # first wins, whichever way it came.
            existing = {
                row[0]
                for row in cursor.execute(
                    """SELECT post_id FROM posts WHERE post_id IN (SELECT unnest($ids))
                    UNION ALL
                    SELECT post_id FROM dataset_ids WHERE post_id IN (SELECT unnest($ids))""",
                    {"ids": ids},
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
                self.generation += 1
        return fresh.column("post_id").to_pylist(), [i for i in ids if i in existing]

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
        # One copy per post id: the datasets' rows that count (see ``_counted_rows``).
        return (
            f"(SELECT {columns} FROM posts UNION ALL "
            f"SELECT {columns} FROM {self._counted_rows(paths)})"
        )

    def tag_forms(self) -> str:
        """Forms relation (``tag_forms``) of everything stored: ingested posts, datasets."""
        live = tag_forms.form_counts("posts")
        return f"(SELECT * FROM {live} UNION ALL SELECT key, form, n FROM agg_tag_forms)"

    def datasets(self) -> list[dict[str, Any]]:
        """Attached datasets: id, path, rows, duplicates (rows another copy outranks),
        attached_at, and whether the files are still there."""
        rows = self.cursor().execute(
            "SELECT path, rows, coalesce(excluded, 0), attached_at FROM datasets "
            "ORDER BY attached_at"
        ).fetchall()
        return [
            {
                "id": dataset_id(path),
                "path": path,
                "rows": int(n),
                "duplicates": int(excluded),
                "attached_at": attached,
                "missing": not Path(path).exists(),
            }
            for path, n, excluded, attached in rows
        ]

    def has_posts(self) -> bool:
        """Whether any post was ingested (asked once per write, not per query)."""
        seen = self._posts_seen
        if seen is None or seen[0] != self.generation:
            any_post = self.cursor().execute("SELECT EXISTS (FROM posts)").fetchone()[0]
            seen = self._posts_seen = (self.generation, bool(any_post))
        return seen[1]

    def dataset_paths(self) -> list[str]:
        cached = self._paths
        if cached is not None and cached[0] == self.generation:
            return cached[1]  # one query less per request: only writes change the list
        paths = [
            row[0]
            for row in self.cursor().execute("SELECT path FROM datasets ORDER BY path").fetchall()
        ]
        self._paths = (self.generation, paths)
        return paths

    def counts(self) -> dict[str, int]:
        cursor = self.cursor()
        posts = cursor.execute("SELECT count(*) FROM posts").fetchone()[0]
        datasets, rows = cursor.execute(
            "SELECT count(*), coalesce(sum(rows), 0) FROM datasets"
        ).fetchone()
        return {"ingested_posts": int(posts), "datasets": int(datasets), "dataset_rows": int(rows)}

    def _counted_rows(self, paths: list[str]) -> str:
        """The rows of the attached datasets that count (one copy per post id), for exact
        scans; refuses (409) when a dataset's files are gone."""
        gone = [p for p in paths if not _readable(Path(p))]
        if gone:
            raise DatasetGoneError(
                f"the files of dataset {gone[0]} are missing: restore them, or detach it "
                f"with DELETE /v1/datasets/{dataset_id(gone[0])}",
                detail={"missing": gone, "ids": [dataset_id(p) for p in gone]},
            )
        excluded = {
            path: (left_out, copies)
            for path, left_out, copies in self.cursor().execute(
                "SELECT path, coalesce(excluded, 0), coalesce(copies, 0) FROM datasets"
            ).fetchall()
        }
        whole = [p for p in paths if not excluded.get(p, (0, 0))[0]]
        parts = [f"SELECT * FROM {datasets.parquet_source(whole)}"] if whole else []
        for p in paths:
            left_out, copies = excluded.get(p, (0, 0))
            if not left_out:
                continue
            source = datasets.parquet_source([p], origin=bool(copies))
            if copies:
                source = datasets.first_copies(source)
            parts.append(
                f"SELECT s.* FROM {source} s SEMI JOIN (SELECT post_id FROM dataset_ids "
                f"WHERE dataset = {_quote(p)}) o USING (post_id)"
            )
        return "(" + " UNION ALL BY NAME ".join(f"({part})" for part in parts) + ")"

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
            scanned = queries.post_counts(self._counted_rows(paths), column)
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


def _readable(path: Path) -> bool:
    return path.is_file() or (path.is_dir() and any(path.rglob("*.parquet")))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _day_aligned(moment: datetime | None) -> bool:
    return moment is None or (moment.hour, moment.minute, moment.second, moment.microsecond) == (
        0, 0, 0, 0)

