"""The store's attached datasets: attach, refresh and detach, and which dataset counts
each post id. A mixin of ``store.Store``, which creates the tables and provides
``cursor()``, ``_writing()`` (the write lock) and the generations.

A post id counts once in the store, within a dataset too: the copy stored first wins
(``dataset_ids`` says which dataset counts it), and a dataset's rows it does not count
are its ``duplicates``. Attaching reads and checks the files before taking the write
lock (a FIFO named x.parquet held it forever).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from swarmlens.classifier.analytics import datasets, queries, tag_forms
from swarmlens.classifier.errors import DatasetNotFoundError, InputError, SwarmlensError
from swarmlens.serve.store_errors import transaction

log = logging.getLogger(__name__)

GRAINS = ("binned", "hour", "day", "hour_total", "day_total")
AGGREGATES = tuple(f"agg_{kind}_{grain}" for kind in ("tag", "domain") for grain in GRAINS)
"""Per-dataset counts, for hashtags and domains: hourly with score bins; hourly and daily
per label, language and retweet flag; hourly and daily per label only (the common query:
no language or retweet filter), which is a few rows per tag and bucket."""
# Per dataset: how often each hashtag key is spelled each way (``tag_forms``), for display.
SIDE_TABLES = ("agg_tag_forms", "dataset_ids")
_REQUIRED = {"post_id", "label", "scores", "hashtags", "created_at", "lang"}


class DatasetTables:
    """Attach and detach over the tables ``datasets``, ``dataset_ids`` and the aggregates."""

    def attach(self, path: Path) -> dict[str, Any]:
        """Attach (or refresh) a scored Parquet dataset made by ``swarmlens score``.

        A post id counts once in the store: the copy stored first wins. Rows whose id was
        ingested (``POST /v1/posts``) or is counted by a dataset attached earlier are kept
        in the files but not counted (``duplicates`` in the answer); detaching the winning
        copy hands its ids on to the next dataset holding them.
        """
        # Checked before anything opens a file, and read (its schema) before the write
        # lock: a FIFO named x.parquet held the lock forever.
        path = datasets.attachable(path)
        columns = self._columns(path)
        with self._writing():
            result = self._attach_locked(path, columns)
            self._reclaim(skip=str(path))
            self.generation += 1
            self.datasets_generation += 1
        return result

    def detach(self, dataset_id: str) -> dict[str, Any]:
        """Forget the dataset whose id is ``dataset_id``; its files are left alone."""
        with self._writing() as cursor:
            listed = {d["id"]: d for d in self.datasets()}
            if dataset_id not in listed:
                raise DatasetNotFoundError(
                    f"no attached dataset has id {dataset_id!r}: GET /v1/datasets lists them"
                )
            key = listed[dataset_id]["path"]
            with transaction(cursor):
                for table in (*AGGREGATES, *SIDE_TABLES):
                    cursor.execute(f"DELETE FROM {table} WHERE dataset = $d", {"d": key})
                cursor.execute("DELETE FROM datasets WHERE path = $d", {"d": key})
            self._reclaim(skip=key)
            self.generation += 1
            self.datasets_generation += 1
        return listed[dataset_id]

    def _reclaim(self, skip: str) -> None:
        # Datasets that lost rows to another copy count afresh, oldest first: ids no one
        # counts any more (a detached or refreshed dataset) go to the next one holding them.
        # (A dataset's own second copies of a post are no loss: only ids another
        # dataset or an ingest took can come back.)
        rows = self.cursor().execute(
            "SELECT path FROM datasets WHERE excluded > coalesce(copies, 0) AND path <> $p "
            "ORDER BY attached_at",
            {"p": skip},
        ).fetchall()
        for (path,) in rows:
            try:  # the files may have gone, or been swapped for a FIFO, since
                columns = self._columns(datasets.attachable(path))
            except SwarmlensError as exc:
                log.warning("dataset %s not recounted: %s", path, exc.message)
                continue
            self._attach_locked(Path(path), columns, keep_time=True)

    def _columns(self, path: Path) -> set[str]:
        """The columns of a dataset checked by ``datasets.attachable``; E001 unless it is
        the output of ``swarmlens score``."""
        source = datasets.parquet_source([path])
        try:
            described = self.cursor().execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        except duckdb.Error as exc:  # the reason to the log: the answer does not probe files
            log.warning("dataset %s cannot be read as Parquet: %s", path, exc)
            raise datasets.not_a_dataset(path) from None
        columns = {row[0] for row in described}
        missing = _REQUIRED - columns
        if missing:
            raise InputError(
                f"dataset {path} lacks column(s) {', '.join(sorted(missing))}: "
                "attach the output of `swarmlens score`"
            )
        return columns

    def _attach_locked(
        self, path: Path, columns: set[str], keep_time: bool = False
    ) -> dict[str, Any]:
        source = datasets.parquet_source([path])
        cursor = self.cursor()
        key = str(path)
        rows, copies = cursor.execute(
            f"SELECT count(*), count(post_id) - count(DISTINCT post_id) FROM {source}"
        ).fetchone()
        # A post id counts once within a dataset too (two copies of a part file): the
        # first copy in file order. Only a dataset holding copies pays for the window.
        if copies:
            source = datasets.first_copies(datasets.parquet_source([path], origin=True))
        counted = _owned_rows(source)
        with transaction(cursor):
            for table in (*AGGREGATES, *SIDE_TABLES):
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
            owned = cursor.execute(
                f"SELECT count(*) FROM {counted}", {"d": key}
            ).fetchone()[0]
            previous = cursor.execute(
                "SELECT attached_at FROM datasets WHERE path = $p", {"p": key}
            ).fetchone()
            attached = previous[0] if keep_time and previous else datetime.now(UTC)
            cursor.execute(
                "INSERT OR REPLACE INTO datasets (path, attached_at, rows, excluded, copies) "
                "VALUES ($p, $a, $r, $x, $c)",
                {"p": key, "a": attached, "r": rows, "x": rows - owned, "c": copies},
            )
        return {
            "id": dataset_id(key),
            "path": key,
            "rows": int(rows),
            "duplicates": int(rows - owned),
            "attached_at": attached,
        }


def dataset_id(path: str) -> str:
    """A dataset's id in the API: short, stable, and safe in a URL (its path is none)."""
    return hashlib.sha256(path.encode()).hexdigest()[:16]


def _owned_rows(source: str) -> str:
    """The rows of ``source`` that dataset ``$d`` counts (one per post id it owns)."""
    return (
        f"(SELECT s.* FROM {source} s SEMI JOIN "
        "(SELECT post_id FROM dataset_ids WHERE dataset = $d) o USING (post_id))"
    )
