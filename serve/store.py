"""The server's DuckDB store: ingested posts, attached datasets and their aggregates.

The API process owns the database file (DuckDB allows one read-write
process); batch jobs write Parquet datasets that are attached here and read
in place. Attaching a dataset also stores its hourly, score-binned counts per
hashtag and per domain, so volume queries do not scan millions of posts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from swarmlens.classifier.analytics import datasets, queries, tag_forms
from swarmlens.classifier.errors import (
    DatasetGoneError,
    DatasetNotFoundError,
    InputError,
    StoreLockedError,
    SwarmlensError,
)
from swarmlens.classifier.vocab import OUTPUT_SCHEMA, duckdb_columns
from swarmlens.serve.audit_store import AuditTables

log = logging.getLogger(__name__)

DATABASE_NAME = "swarmlens.duckdb"
GRAINS = ("binned", "hour", "day", "hour_total", "day_total")
AGGREGATES = tuple(f"agg_{kind}_{grain}" for kind in ("tag", "domain") for grain in GRAINS)
"""Per-dataset counts, for hashtags and domains: hourly with score bins; hourly and daily
per label, language and retweet flag; hourly and daily per label only (the common query:
no language or retweet filter), which is a few rows per tag and bucket."""
# Per dataset: how often each hashtag key is spelled each way (``tag_forms``), for display.
_SIDE_TABLES = ("agg_tag_forms", "dataset_ids")
_COLUMNS = [field.name for field in OUTPUT_SCHEMA]
_REQUIRED = {"post_id", "label", "scores", "hashtags", "created_at", "lang"}



class Store(AuditTables):
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
        # Which dataset counts each post id (see ``attach``), and how many of a dataset's
        # rows another copy outranks. A store from before has neither: its datasets are
        # counted afresh, oldest first, once.
        self._con.execute(
            """CREATE TABLE IF NOT EXISTS dataset_ids (post_id VARCHAR, dataset VARCHAR);
            ALTER TABLE datasets ADD COLUMN IF NOT EXISTS excluded BIGINT"""
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
        # A store from before spellings were kept recounts its datasets once, to fill them.
        stale = self._con.execute(
            "SELECT path FROM datasets WHERE excluded IS NULL OR NOT $had ORDER BY attached_at",
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

    # -- writes ---------------------------------------------------------------------

    def add_posts(self, table: pa.Table) -> tuple[list[str], list[str]]:
        """Insert scored posts; returns (inserted ids, ids already stored)."""
        ids = table.column("post_id").to_pylist()
        with self._write:
            cursor = self.cursor()
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

    def attach(self, path: Path) -> dict[str, Any]:
        """Attach (or refresh) a scored Parquet dataset made by ``swarmlens score``.

        A post id counts once in the store: the copy stored first wins. Rows whose id was
        ingested (``POST /v1/posts``) or is counted by a dataset attached earlier are kept
        in the files but not counted (``duplicates`` in the answer); detaching the winning
        copy hands its ids on to the next dataset holding them.
        """
        path = path.resolve()
        if not path.exists():
            raise InputError(f"dataset {path} does not exist")
        if path.is_dir():
            _check_dataset_dir(path)
        with self._write:
            result = self._attach_locked(path)
            self._reclaim(skip=str(path))
            self.generation += 1
            self.datasets_generation += 1
        return result

    def detach(self, dataset_id: str) -> dict[str, Any]:
        """Forget the dataset whose id is ``dataset_id``; its files are left alone."""
        with self._write:
            listed = {d["id"]: d for d in self.datasets()}
            if dataset_id not in listed:
                raise DatasetNotFoundError(
                    f"no attached dataset has id {dataset_id!r}: GET /v1/datasets lists them"
                )
            key = listed[dataset_id]["path"]
            cursor = self.cursor()
            cursor.execute("BEGIN TRANSACTION")
            try:
                for table in (*AGGREGATES, *_SIDE_TABLES):
                    cursor.execute(f"DELETE FROM {table} WHERE dataset = $d", {"d": key})
                cursor.execute("DELETE FROM datasets WHERE path = $d", {"d": key})
                cursor.execute("COMMIT")
            except Exception:
                cursor.execute("ROLLBACK")
                raise
            self._reclaim(skip=key)
            self.generation += 1
            self.datasets_generation += 1
        return listed[dataset_id]

    def _reclaim(self, skip: str) -> None:
        # Datasets that lost rows to another copy count afresh, oldest first: ids no one
        # counts any more (a detached or refreshed dataset) go to the next one holding them.
        rows = self.cursor().execute(
            "SELECT path FROM datasets WHERE excluded > 0 AND path <> $p ORDER BY attached_at",
            {"p": skip},
        ).fetchall()
        for (path,) in rows:
            if Path(path).exists():
                self._attach_locked(Path(path), keep_time=True)

    def _attach_locked(self, path: Path, keep_time: bool = False) -> dict[str, Any]:
        source = datasets.parquet_source([path])
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
        counted = _owned_rows(source)
        cursor.execute("BEGIN TRANSACTION")
        try:
            for table in (*AGGREGATES, *_SIDE_TABLES):
                cursor.execute(f"DELETE FROM {table} WHERE dataset = $d", {"d": key})
            cursor.execute(
                f"""INSERT INTO dataset_ids
                SELECT DISTINCT s.post_id, $d FROM {source} s
                WHERE s.post_id IS NOT NULL
                  AND s.post_id NOT IN (SELECT post_id FROM dataset_ids)
                  AND s.post_id NOT IN (SELECT post_id FROM posts)""",
                {"d": key},
            )
            for kind, column in (("tag", "hashtags"), ("domain", "domains")):
                binned = f"agg_{kind}_binned"
                cursor.execute(
                    f"INSERT INTO {binned} SELECT $d, * FROM "
                    f"({queries.aggregate_counts(counted, column)}) ORDER BY key, t",
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
            if tag_forms.FORMS_COLUMN in columns:
                cursor.execute(
                    f"INSERT INTO agg_tag_forms SELECT $d, * FROM {tag_forms.form_counts(counted)}",
                    {"d": key},
                )
            rows = cursor.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
            owned = cursor.execute(
                f"SELECT count(*) FROM {counted}", {"d": key}
            ).fetchone()[0]
            previous = cursor.execute(
                "SELECT attached_at FROM datasets WHERE path = $p", {"p": key}
            ).fetchone()
            attached = previous[0] if keep_time and previous else datetime.now(UTC)
            cursor.execute(
                "INSERT OR REPLACE INTO datasets (path, attached_at, rows, excluded) "
                "VALUES ($p, $a, $r, $x)",
                {"p": key, "a": attached, "r": rows, "x": rows - owned},
            )
            cursor.execute("COMMIT")
        except Exception:
            cursor.execute("ROLLBACK")
            raise
        return {
            "id": dataset_id(key),
            "path": key,
            "rows": int(rows),
            "duplicates": int(rows - owned),
            "attached_at": attached,
        }

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
        excluded = dict(
            self.cursor().execute("SELECT path, coalesce(excluded, 0) FROM datasets").fetchall()
        )
        whole = [p for p in paths if not excluded.get(p)]
        parts = [f"SELECT * FROM {datasets.parquet_source(whole)}"] if whole else []
        parts += [
            f"SELECT s.* FROM {datasets.parquet_source([p])} s SEMI JOIN "
            f"(SELECT post_id FROM dataset_ids WHERE dataset = {_quote(p)}) o USING (post_id)"
            for p in paths
            if excluded.get(p)
        ]
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


def dataset_id(path: str) -> str:
    """A dataset's id in the API: short, stable, and safe in a URL (its path is none)."""
    return hashlib.sha256(path.encode()).hexdigest()[:16]


def _readable(path: Path) -> bool:
    return path.is_file() or (path.is_dir() and any(path.rglob("*.parquet")))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _owned_rows(source: str) -> str:
    """The rows of ``source`` that dataset ``$d`` counts (one per post id it owns)."""
    return (
        f"(SELECT s.* FROM {source} s SEMI JOIN "
        "(SELECT post_id FROM dataset_ids WHERE dataset = $d) o USING (post_id))"
    )


def _day_aligned(moment: datetime | None) -> bool:
    return moment is None or (moment.hour, moment.minute, moment.second, moment.microsecond) == (
        0, 0, 0, 0)


def _check_dataset_dir(path: Path) -> None:
    """Refuse at once a directory that is not a scored dataset (``/``, a home directory):
    attaching reads ``**/*.parquet`` under the write lock, which there would walk the whole
    file system. A dataset of ``swarmlens score`` holds its Parquet files directly or one
    level down (``day=YYYY-MM-DD/``), so only that much is looked at here."""
    if path == Path(path.anchor) or path == Path.home().resolve():
        raise InputError(
            f"dataset {path} is the file system root or a home directory: name the output "
            "directory of `swarmlens score` (or one .parquet file)"
        )
    try:
        with os.scandir(path) as entries:
            children = list(entries)
        for entry in children:
            if entry.name.endswith(".parquet") and entry.is_file():
                return
        for entry in children:
            if entry.is_dir(follow_symlinks=False):
                with os.scandir(entry.path) as inner:
                    if any(e.name.endswith(".parquet") and e.is_file() for e in inner):
                        return
    except OSError as exc:
        raise InputError(f"dataset {path} cannot be read: {exc.strerror}") from None
    raise InputError(
        f"dataset {path} holds no Parquet file directly or one level down: name the output "
        "directory of `swarmlens score` (or one .parquet file)"
    )
