"""Scoring and query commands: ``score`` (file or archive-scale) and ``volumes``."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from swarmlens.classifier.batch.engine import BATCH_CHUNK_RECORDS
from swarmlens.classifier.cli.inputs import dataset_window
from swarmlens.classifier.cli.output import print_json, show
from swarmlens.classifier.errors import EXIT_NO_POSTS, OutputError
from swarmlens.classifier.fsio import check_regular_target
from swarmlens.classifier.model import registry
from swarmlens.classifier.vocab import LABELS

log = logging.getLogger(__name__)


def score(
    inputs: Annotated[list[str], typer.Argument(help="Files, globs or directories to score.")],
    out_path: Annotated[
        Path, typer.Option("--out", help=".jsonl, .parquet, or a directory (Parquet dataset).")
    ],
    model_ref: Annotated[
        str | None, typer.Option("--model", help="Version id or artifact path (default: current).")
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Scoring processes for a directory output (default: all cores).")
    ] = 0,
    scheduler: Annotated[
        str | None,
        typer.Option(help="'local' for a Dask LocalCluster, or a Dask scheduler address."),
    ] = None,
    chunk_records: Annotated[
        int, typer.Option(help="Records per chunk (unit of work and of resumption).")
    ] = BATCH_CHUNK_RECORDS,
    rejects: Annotated[
        Path | None, typer.Option(help="Rejects file for a file output (default: beside it).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Score posts with the stance model, one output record per accepted post.

    Malformed records go to a rejects file. A directory output is the archive-scale
    path: parallel, resumable (re-run the same command after a crash), partitioned by
    day, with _summary.json. An input that yields no post at all ends with a warning and
    exit status 3.
    """
    if model_ref is None and not registry.has_models():
        # Imported only when needed: training pulls in scikit-learn, which the reading and
        # dispatching process of a batch job does not need.
        from swarmlens.classifier.model.training import ensure_default_model

        ensure_default_model()
    try:
        if out_path.suffix.lower() in (".jsonl", ".parquet"):
            if scheduler or workers > 1:
                log.info("note: --workers/--scheduler apply to directory outputs; one process "
                         "scores")
            summary = _score_to_file(inputs, out_path, model_ref, rejects)
        else:
            from swarmlens.classifier.batch.engine import BatchJob, ModelRef

            path, entry = registry.verify(model_ref)
            job = BatchJob(
                inputs=inputs,
                out_dir=out_path,
                ref=ModelRef(str(path.resolve()), entry.sha256, entry.id,
                             registry.vouched_by(model_ref)),
                workers=workers or (os.cpu_count() or 1),
                scheduler=scheduler,
                chunk_records=chunk_records,
            )
            summary = job.run()
    except OSError as exc:
        # Inputs that cannot be read are rejects or InputErrors before this point: an OS
        # error here is the output's (a full disk, a read-only file system, a parent that
        # is a file), said in one line.
        where = exc.filename or out_path
        raise OutputError(f"cannot write {where}: {exc.strerror or exc}") from None
    if as_json:
        print_json(summary)
    elif not summary.get("already_complete"):
        _log_summary(summary, out_path)
    if not summary["scored"]:
        _warn_no_posts(inputs, summary, out_path)
        raise typer.Exit(EXIT_NO_POSTS)


def _warn_no_posts(inputs: list[str], summary: dict[str, Any], out_path: Path) -> None:
    """One stderr line: the inputs yielded no post, and where to look (exit status 3)."""
    rejects = summary.get("rejects") or (
        None if out_path.suffix.lower() in (".jsonl", ".parquet") else out_path / "rejects.jsonl"
    )
    if summary["read"] == 0:
        why = "they hold no record (empty files, or no file of a known format)"
    elif summary.get("rejected") == summary["read"]:
        why = f"all {summary['read']:,} records were rejected" + (
            f" (reasons in {rejects})" if rejects else ""
        )
    else:
        why = (f"{summary['read']:,} records read, {summary.get('rejected', 0):,} rejected, "
               f"{summary.get('duplicates', 0):,} duplicates")
    log.warning(
        f"no posts: {', '.join(inputs)} yielded no post to score: {why}; check the files "
        f"are posts in a supported format (exit status {EXIT_NO_POSTS})"
    )


def _log_summary(summary: dict[str, Any], out_path: Path) -> None:
    log.info(
        f"Read {summary['read']} records: scored {summary['scored']}, rejected "
        f"{summary['rejected']}"
        + (f", duplicates dropped {summary['duplicates']}" if summary.get("duplicates") else "")
        + (f", over-long texts cut {summary['truncated']}" if summary.get("truncated") else "")
        + f"; model {summary['model_version']}; output {out_path}"
    )


def _answer_pyarrows_pandas_probe() -> None:
    """Let pyarrow find pandas absent, once, unless it is already imported.

    The first time pyarrow converts any Python or numpy value it imports pandas (0.15-0.2
    s of a scoring process) only to ask whether the value is a pandas object; scoring
    never hands it one. With ``import pandas`` failing during that first probe, pyarrow
    notes "no pandas" and moves on. An explicit conversion (``Table.from_pandas``) still
    imports pandas then, and pandas itself stays importable.
    """
    import sys

    import pyarrow as pa

    if "pandas" in sys.modules:
        return
    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(_NoPandas)


class _NoPandas:
    """An import finder for which pandas does not exist (see above)."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError(f"{name} is not imported while pyarrow probes for it")


def _score_to_file(
    inputs: list[str], out_path: Path, model_ref: str | None, rejects: Path | None
) -> dict[str, Any]:

    from swarmlens.classifier.batch.dedup import FirstCopies
    from swarmlens.classifier.batch.scoring import READ_CHUNK_SIZE, OutputWriter, score_table
    from swarmlens.classifier.posts.columnar import read_batches
    from swarmlens.classifier.posts.readers import ReadStats, RejectsFile

    _answer_pyarrows_pandas_probe()
    model, entry = registry.load(model_ref)
    rejects_path = rejects or _default_rejects(out_path)
    try:
        check_regular_target(out_path)
    except OSError as exc:
        raise OutputError(f"cannot write {out_path}: {exc.strerror}") from None
    try:
        # Checked before anything is read: a device or FIFO is never deleted nor written.
        check_regular_target(rejects_path)
        rejects_path.unlink(missing_ok=True)
    except OSError as exc:  # e.g. its parent is a file
        raise OutputError(f"cannot write rejects file {rejects_path}: {exc.strerror}") from None
    stats = ReadStats()
    started = time.perf_counter()
    first_copies = FirstCopies()
    truncated = 0
    with RejectsFile(rejects_path) as sink, OutputWriter(out_path) as writer:
        for source, batch in read_batches(inputs, READ_CHUNK_SIZE):
            for reject in batch.rejects:
                sink.add(reject)
            stats.count_batch(source, batch.table.num_rows, len(batch.rejects))
            truncated += batch.truncated
            posts = first_copies.keep(batch.table)
            writer.write(score_table(model, posts, entry.id))
    seconds = time.perf_counter() - started
    return {
        "read": stats.read,
        "scored": writer.rows,
        "rejected": stats.rejected,
        "duplicates": first_copies.dropped_,
        "truncated": truncated,
        "model_version": entry.id,
        "output": str(out_path),
        "rejects": str(rejects_path) if stats.rejected else None,
        "seconds": round(seconds, 3),
        "posts_per_second": round(stats.read / seconds, 1) if seconds else None,
    }


def _default_rejects(out_path: Path) -> Path:
    if out_path.suffix.lower() in (".jsonl", ".parquet"):
        return out_path.with_name(out_path.stem + ".rejects.jsonl")
    return out_path / "rejects.jsonl"


def volumes(
    dataset: Annotated[list[Path], typer.Argument(help="Scored dataset directory or files.")],
    hashtag: Annotated[str, typer.Option(help="Hashtag, any spelling, with or without '#'.")],
    label: Annotated[
        list[str] | None, typer.Option(help="Label to count (repeatable; default all three).")
    ] = None,
    interval: Annotated[str, typer.Option(help="'hour' or 'day' (UTC).")] = "hour",
    lang: Annotated[str | None, typer.Option(help="Only posts in this language.")] = None,
    start: Annotated[str | None, typer.Option(help="ISO time, inclusive.")] = None,
    end: Annotated[str | None, typer.Option(help="ISO time, exclusive.")] = None,
    min_score: Annotated[
        float | None, typer.Option(help="Count a post only if its label's score is >= this.")
    ] = None,
    exclude_retweets: Annotated[bool, typer.Option(help="Leave retweets out.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the series as JSON.")] = False,
) -> None:
    """Count a hashtag's posts per label over time in a scored dataset (classify-and-count)."""
    from swarmlens.classifier.analytics import datasets, queries

    start_at, end_at = dataset_window(dataset, start, end)
    result = queries.volume_series(
        queries.post_counts(datasets.dataset_source(dataset)),
        hashtag,
        interval,
        label,
        start_at,
        end_at,
        lang,
        min_score,
        exclude_retweets,
    )
    if as_json:
        print_json(result)
        return
    chosen = [x for x in LABELS if x in (label or LABELS)]
    table = Table(
        title=f"#{result['hashtag']} per {interval} (UTC)",
        caption="classify-and-count: posts per predicted label (no audit, no error bars)",
    )
    for column in ("bucket", *chosen, "total"):
        table.add_column(column, justify="left" if column == "bucket" else "right")
    for point in result["series"]:
        table.add_row(point["t"], *(str(point[x]) for x in chosen), str(point["total"]))
    if not result["series"]:
        log.info(f"No post with #{result['hashtag']} matches these filters.")
    show(table)
