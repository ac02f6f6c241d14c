"""The ``swarmlens`` command line.

Commands from other packages (``serve``, ``annotate``) plug in through the
``swarmlens.commands`` entry-point group, so this core never imports them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from classifier import registry
from classifier.config import BATCH_CHUNK_RECORDS, LABELS
from classifier.errors import InputError, OutputError, SwarmlensError

app = typer.Typer(
    help="swarmlens: who really drives an extremist hashtag (supportive / opposing / neutral).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)


def say(message: str) -> None:
    """Progress and notices go to stderr, so stdout stays clean for --json."""
    err.print(message, highlight=False)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


# -- train / evaluate --------------------------------------------------------------


@app.command()
def train(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled JSONL/CSV/Parquet file(s).")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the model artifact.")],
    cv: Annotated[int, typer.Option(help="Cross-validation folds for the report (0: none).")] = 5,
    register: Annotated[bool, typer.Option(help="Also register it and make it current.")] = False,
    name: Annotated[str, typer.Option(help="Model name used in its version id.")] = "stance",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Train a stance model on labelled posts and save it (with its SHA-256 sidecar)."""
    from classifier.training import entry_fields, load_labelled, train_model

    dataset = load_labelled(data)
    say(f"Training on {len(dataset)} examples from {len(data)} file(s)...")
    model, info = train_model(dataset, cv_folds=cv)
    fields = entry_fields(name, model, info)
    entry = registry.save_artifact(model, out_path, fields)
    if register:
        entry = registry.register(model, fields)
    report = {"model_version": entry.id, "artifact": str(out_path), **info}
    if as_json:
        _print_json(report)
        return
    table = Table(title=f"Trained {entry.id}", show_header=False)
    table.add_row("examples", str(info["n_train"]))
    table.add_row("labels", ", ".join(f"{k} {v}" for k, v in info["label_counts"].items()))
    table.add_row("features", str(info["n_features"]))
    if "cv" in info:
        cvr = info["cv"]
        table.add_row(
            f"{cvr['cv']['folds']}-fold CV ({cvr['cv']['split']} split)",
            f"macro-F1 {cvr['macro_f1']:.3f}  accuracy {cvr['accuracy']:.3f}  "
            f"ECE {cvr['calibration_error']:.3f}",
        )
        for label, values in cvr["per_class"].items():
            table.add_row(f"  F1 {label}", f"{values['f1']:.3f}")
    table.add_row("artifact", str(out_path))
    table.add_row("registered", "yes (current)" if register else "no (use --model PATH)")
    table.add_row("seconds", str(info["seconds"]))
    out.print(table)


@app.command()
def evaluate(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled JSONL/CSV/Parquet file(s).")],
    model_ref: Annotated[
        str | None, typer.Option("--model", help="Version id or artifact path (default: current).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Macro-F1, per-class and per-language F1, confusion matrix and calibration error."""
    from classifier.evaluation import evaluate_predictions
    from classifier.scoring import label_probabilities
    from classifier.training import ensure_model, load_labelled

    model, entry = ensure_model(model_ref, say=say)
    dataset = load_labelled(data)
    proba = label_probabilities(model, dataset.texts)
    predicted = [LABELS[i] for i in proba.argmax(axis=1)]
    report = evaluate_predictions(dataset.labels, predicted, proba.max(axis=1), dataset.langs)
    report["model_version"] = entry.id
    if as_json:
        _print_json(report)
        return
    _print_evaluation(report)


def _print_evaluation(report: dict[str, Any]) -> None:
    head = Table(title=f"Evaluation of {report['model_version']} on {report['n']} posts")
    for column in ("macro-F1", "accuracy", "calibration error (ECE)"):
        head.add_column(column, justify="right")
    head.add_row(
        f"{report['macro_f1']:.3f}",
        f"{report['accuracy']:.3f}",
        f"{report['calibration_error']:.3f}",
    )
    out.print(head)
    classes = Table(title="Per class")
    for column in ("label", "precision", "recall", "F1", "support"):
        classes.add_column(column, justify="right")
    for label, v in report["per_class"].items():
        classes.add_row(
            label,
            f"{v['precision']:.3f}",
            f"{v['recall']:.3f}",
            f"{v['f1']:.3f}",
            str(v["support"]),
        )
    out.print(classes)
    langs = Table(title="Per language")
    for column in ("lang", "n", "macro-F1", "accuracy"):
        langs.add_column(column, justify="right")
    for lang, v in report.get("per_language", {}).items():
        langs.add_row(lang, str(v["n"]), f"{v['macro_f1']:.3f}", f"{v['accuracy']:.3f}")
    out.print(langs)
    confusion = Table(title="Confusion (rows: true, columns: predicted)")
    confusion.add_column("")
    names = report["confusion"]["labels"]
    for label in names:
        confusion.add_column(label, justify="right")
    for label, row in zip(names, report["confusion"]["matrix"], strict=True):
        confusion.add_row(label, *map(str, row))
    out.print(confusion)


# -- score / models / demo -------------------------------------------------------------


@app.command()
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
    """Score posts: one output record per accepted post; malformed records go to rejects.

    A directory output is the archive-scale path: parallel, resumable (re-run the
    same command after a crash), hive-partitioned by day, with _summary.json.
    """
    if model_ref is None and not registry.default_is_usable():
        # Imported only when needed: training pulls in scikit-learn, which the reading and
        # dispatching process of a batch job does not need.
        from classifier.training import ensure_default_model

        ensure_default_model(say=say)
    if out_path.suffix.lower() in (".jsonl", ".parquet"):
        if scheduler or workers > 1:
            say("note: --workers/--scheduler apply to directory outputs; scoring in one process")
        summary = _score_to_file(inputs, out_path, model_ref, rejects)
    else:
        from classifier.batch import BatchJob, ModelRef

        path, entry = registry.verify(model_ref)
        job = BatchJob(
            inputs=inputs,
            out_dir=out_path,
            ref=ModelRef(str(path.resolve()), entry.sha256, entry.id),
            workers=workers or (os.cpu_count() or 1),
            scheduler=scheduler,
            chunk_records=chunk_records,
            say=say,
        )
        summary = job.run()
    if as_json:
        _print_json(summary)
        return
    if summary.get("already_complete"):
        return
    say(
        f"Read {summary['read']} records: scored {summary['scored']}, rejected "
        f"{summary['rejected']}"
        + (f", duplicates dropped {summary['duplicates']}" if summary.get("duplicates") else "")
        + f"; model {summary['model_version']}; output {out_path}"
    )


def _score_to_file(
    inputs: list[str], out_path: Path, model_ref: str | None, rejects: Path | None
) -> dict[str, Any]:
    from classifier.readers import ReadStats, RejectsFile, read_posts
    from classifier.scoring import OutputWriter, batched, score_batch

    model, entry = registry.load(model_ref)
    rejects_path = rejects or _default_rejects(out_path)
    rejects_path.unlink(missing_ok=True)
    stats = ReadStats()
    started = time.perf_counter()
    with RejectsFile(rejects_path) as sink, OutputWriter(out_path) as writer:
        for batch in batched(read_posts(inputs, sink, stats)):
            writer.write(score_batch(model, batch, entry.id))
    seconds = time.perf_counter() - started
    return {
        "read": stats.read,
        "scored": writer.rows,
        "rejected": stats.rejected,
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


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions as JSON.")] = False,
) -> None:
    """List registered model versions (the current one is marked)."""
    entries = registry.list_models()
    current = registry.current_id()
    if as_json:
        _print_json({"current": current, "models": [e.__dict__ for e in entries]})
        return
    table = Table(title=f"Models in {registry.registry_dir()}")
    for column in ("", "id", "created", "examples", "CV macro-F1", "data fingerprint"):
        table.add_column(column)
    for e in entries:
        f1 = e.metrics.get("macro_f1")
        table.add_row(
            "*" if e.id == current else "",
            e.id,
            e.created_at,
            str(e.n_train),
            f"{f1:.3f}" if isinstance(f1, float) else "-",
            e.data_fingerprint[:12],
        )
    if not entries:
        say(
            "No model registered yet: `swarmlens score` or `swarmlens demo` builds the default one."
        )
    out.print(table)


@app.command()
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
    """Volume of a hashtag over time, per label, from a scored dataset (DuckDB)."""
    from classifier import queries
    from classifier.posts import parse_time

    for path in dataset:
        if not path.exists():
            raise InputError(f"dataset {path} does not exist")
    try:
        start_at, end_at = parse_time(start), parse_time(end)
    except ValueError as exc:
        raise InputError(f"--start/--end: {exc}") from None
    result = queries.volume_series(
        queries.post_counts(queries.parquet_source(dataset)),
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
        _print_json(result)
        return
    chosen = [x for x in LABELS if x in (label or LABELS)]
    table = Table(title=f"#{result['hashtag']} per {interval} (UTC)")
    for column in ("bucket", *chosen, "total"):
        table.add_column(column, justify="left" if column == "bucket" else "right")
    for point in result["series"]:
        table.add_row(point["t"], *(str(point[x]) for x in chosen), str(point["total"]))
    if not result["series"]:
        say(f"No post with #{result['hashtag']} matches these filters.")
    out.print(table)


@app.command("demo-data")
def demo_data(
    out_path: Annotated[Path, typer.Option("--out", help="File to write (.jsonl or .jsonl.gz).")],
    n: Annotated[int, typer.Option(help="Number of posts.")] = 0,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 0,
) -> None:
    """Write the synthetic demo corpus (clearly marked, deterministic) as JSONL."""
    from classifier.demo import DEMO_SEED, DEMO_SIZE, write_demo_jsonl

    path = write_demo_jsonl(out_path, n or DEMO_SIZE, seed or DEMO_SEED)
    say(f"Wrote {n or DEMO_SIZE} synthetic demo posts to {path}")


@app.command()
def demo(
    workdir: Annotated[
        Path, typer.Option("--dir", help="Where the demo archive and its scores go.")
    ] = Path("demo-output"),
    top: Annotated[int, typer.Option(help="Hashtags to show.")] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """The main job on embedded defaults: default model, score the demo archive, top hashtags."""
    from classifier import queries
    from classifier.demo import write_demo_jsonl

    workdir.mkdir(parents=True, exist_ok=True)
    archive = workdir / "demo-archive.jsonl.gz"
    if not archive.exists():
        write_demo_jsonl(archive)
        say(f"Wrote the synthetic demo archive to {archive}")
    scored = workdir / "scored"
    try:
        score([str(archive)], scored, as_json=False)
    except OutputError:
        # Scored by an earlier default model (say, before a library upgrade): redo it.
        say(f"{scored} holds scores from another model: scoring the demo archive again.")
        shutil.rmtree(scored)
        score([str(archive)], scored, as_json=False)
    rows = queries.top_hashtags(queries.parquet_source([scored]), limit=top)
    if as_json:
        _print_json({"scored": str(scored), "top_hashtags": rows})
        return
    table = Table(title=f"Top hashtags in the demo archive ({scored})")
    for column in ("hashtag", "total", *LABELS, "flood share"):
        table.add_column(column, justify="left" if column == "hashtag" else "right")
    for row in rows:
        share = row["flood_share"]
        table.add_row(
            "#" + row["hashtag"],
            str(row["total"]),
            *(str(row[label]) for label in LABELS),
            "-" if share is None else f"{share:.0%}",
        )
    out.print(table)


def _load_plugins() -> None:
    for point in entry_points(group="swarmlens.commands"):
        try:
            command = point.load()
        except ImportError as exc:
            say(f"[yellow]command {point.name!r} unavailable: {exc}[/yellow]")
            continue
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=point.name)
        else:
            app.command(point.name)(command)


def main() -> None:
    """Console-script entry point: clear one-line errors for expected failures."""
    _load_plugins()
    try:
        app()
    except SwarmlensError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
