"""``swarmlens annotate ...``: the Label Studio workflow from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from swarmlens.annotation.teamcli import (
    Store,
    annotators_app,
    annotators_table,
    gold_app,
    routing_lines,
)
from swarmlens.classifier.vocab import LABELS

app = typer.Typer(
    help="Annotate posts in Label Studio: setup, push, pull, status, retrain, review, "
    "gold, annotators.",
    no_args_is_help=True,
)
app.add_typer(gold_app, name="gold")
app.add_typer(annotators_app, name="annotators")
out = Console()
err = Console(stderr=True, soft_wrap=True)

Url = Annotated[str | None, typer.Option("--url", help="Label Studio URL (LABEL_STUDIO_URL).")]
Key = Annotated[
    str | None, typer.Option("--api-key", help="Label Studio token (LABEL_STUDIO_API_KEY).")
]
ProjectName = Annotated[str, typer.Option("--project", help="Project title.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")]


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _client(url: str | None, api_key: str | None) -> Any:
    from swarmlens.annotation.tasks import connect

    return connect(url, api_key)


@app.command()
def setup(
    project: ProjectName = "swarmlens stance",
    url: Url = None,
    api_key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Create or update the project (labels, guidelines, right-to-left aware layout)."""
    from swarmlens.annotation.workflow import setup as do_setup

    result = do_setup(_client(url, api_key), project)
    if as_json:
        _json(result)
    elif result["created"]:
        err.print(f"Created project {project!r} (id {result['project_id']}).")
    elif result["changed"]:
        err.print(f"Updated project {project!r}: {', '.join(result['changed'])}.")
    else:
        err.print(f"Project {project!r} is up to date; nothing changed.")


@app.command()
def push(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Posts to choose from (any input format); for an audit, their texts."),
    ] = None,
    n: Annotated[int, typer.Option("--n", help="How many posts to add.")] = 50,
    strategy: Annotated[
        str,
        typer.Option(
            help="margin-balanced | uncertainty | diversity | random | hashtag-stratified"
            " | margin | entropy | margin-diverse | typical | audit"
        ),
    ] = "margin-balanced",
    project: ProjectName = "swarmlens stance",
    model: Annotated[str | None, typer.Option("--model", help="Model version or path.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for random choices.")] = 0,
    dataset: Annotated[
        list[Path] | None,
        typer.Option("--dataset", help="audit: the scored dataset whose posts are sampled."),
    ] = None,
    hashtag: Annotated[str | None, typer.Option(help="audit: the hashtag audited.")] = None,
    start: Annotated[str | None, typer.Option(help="audit: ISO time, inclusive.")] = None,
    end: Annotated[str | None, typer.Option(help="audit: ISO time, exclusive.")] = None,
    design: Annotated[
        str, typer.Option(help="audit: uniform | active (sample where the model is unsure).")
    ] = "uniform",
    stratify: Annotated[
        str | None,
        typer.Option(
            help="audit: lang | label (a proportional sample per language, or per label "
            "the model predicted)."
        ),
    ] = None,
    audit_file: Annotated[
        Path | None,
        typer.Option("--out", help="audit: write the sample to this JSONL, not Label Studio."),
    ] = None,
    overlap: Annotated[
        float, typer.Option(help="Share of the pushed posts labelled by --overlap-k annotators.")
    ] = 0.0,
    overlap_k: Annotated[int, typer.Option(help="Annotators per overlapped task.")] = 2,
    gold_rate: Annotated[
        float, typer.Option(help="Share of the N tasks that are gold (known answers).")
    ] = 0.0,
    store: Store = None,
    url: Url = None,
    api_key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Import N posts not yet in the project, with the model's prediction as pre-annotation.

    --overlap 0.2 --overlap-k 2: a fifth of them go to two annotators each (Label Studio's
    labelling stream serves each task until it has its overlap). --gold-rate 0.05: 5% of
    the N tasks are gold from `annotate gold add`, placed at random, served to everyone.

    --strategy audit imports a seeded uniform sample of one hashtag's posts in a window of
    a scored dataset instead, as audit tasks without pre-annotation (for `swarmlens
    estimate`); texts come from INPUTS, or from the inputs the dataset was scored from.
    """
    if strategy == "audit" and (overlap or gold_rate):
        raise typer.BadParameter(
            "--overlap and --gold-rate apply to labelling pushes, not audits",
            param_hint="--strategy",
        )
    if strategy == "audit":
        _push_audit(
            inputs or [], n, project, seed, dataset, hashtag, start, end, url, api_key, as_json,
            (design, stratify, audit_file),
        )
        return
    if not inputs:
        raise typer.BadParameter("give the posts to choose from", param_hint="INPUTS")
    from swarmlens.annotation.workflow import push as do_push
    from swarmlens.classifier.model.training import ensure_model

    loaded, entry = ensure_model(model)
    report = do_push(
        _client(url, api_key), project, inputs, n, strategy, loaded, entry.id, seed,
        overlap, overlap_k, gold_rate, store,
    )  # fmt: skip
    if as_json:
        _json(report.__dict__)
        return
    err.print(
        f"Imported {report.imported} task(s) into {project!r} ({strategy}; "
        f"{report.already_in_project} post(s) already there; model {report.model_version})"
        + (f"; {report.overlapped} for {report.overlap_k} annotators" if report.overlap_k else "")
        + (f"; {report.gold} gold" if report.gold else "")
        + "."
    )


def _push_audit(
    inputs: list[str],
    n: int,
    project: str,
    seed: int,
    dataset: list[Path] | None,
    hashtag: str | None,
    start: str | None,
    end: str | None,
    url: str | None,
    api_key: str | None,
    as_json: bool,
    how: tuple[str, str | None, Path | None] = ("uniform", None, None),
) -> None:
    from swarmlens.annotation.audit import push_audit
    from swarmlens.classifier.errors import InputError
    from swarmlens.classifier.posts.post import parse_time

    if not dataset or not hashtag:
        raise InputError("--strategy audit needs --dataset DIR and --hashtag TAG")
    try:
        start_at, end_at = parse_time(start), parse_time(end)
    except ValueError as exc:
        raise InputError(f"--start/--end: {exc}") from None
    design, stratify, audit_file = how
    ls = None if audit_file else _client(url, api_key)
    report = push_audit(
        ls, project, dataset, hashtag, start_at, end_at, n, seed, inputs, design, stratify,
        audit_file,
    )
    if as_json:
        _json(report.__dict__)
        return
    if audit_file:
        err.print(
            f"Audit {report.audit_id}: {report.chosen} of the {report.population} posts with "
            f"#{report.hashtag} ({design}{', by ' + stratify if stratify else ''}) written to "
            f"{audit_file}; fill in each 'label', then: swarmlens estimate --audit {audit_file}."
        )
        return
    err.print(
        f"Audit {report.audit_id}: imported {report.imported} task(s) into {project!r}, a "
        f"{design} sample (seed {report.seed}) of {report.chosen} of the {report.population} "
        f"posts with #{report.hashtag}; {report.already_in_audit} already there. No "
        "pre-annotation is shown. Then: swarmlens annotate pull, swarmlens estimate."
    )


def _agreement_table(figures: dict[str, Any]) -> Table:
    table = Table(title="Agreement")
    table.add_column("figure")
    table.add_column("value", justify="right")

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    table.add_row("Krippendorff's alpha (all labels)", fmt(figures["alpha"]))
    for label in LABELS:
        table.add_row(f"  alpha, {label} vs rest", fmt(figures["alpha_per_label"][label]))
    for pair in figures["kappa_pairs"]:
        a, b = pair["annotators"]
        table.add_row(
            f"Cohen's kappa {a} / {b} ({pair['shared_tasks']} shared)", fmt(pair["kappa"])
        )
    counts = figures["tasks_by_annotations"]
    table.add_row(
        "tasks with 1 / 2 / 3+ annotations", f"{counts['1']} / {counts['2']} / {counts['3+']}"
    )
    return table


@app.command()
def pull(
    out_path: Annotated[Path, typer.Option("--out", help="Training file to write (JSONL).")],
    project: ProjectName = "swarmlens stance",
    audit_out: Annotated[
        Path | None,
        typer.Option("--audit-out", help="Audit labels file (default: <out>.audit.jsonl)."),
    ] = None,
    include_audits: Annotated[
        bool, typer.Option(help="Also train on audited posts (biases their audit).")
    ] = False,
    method: Annotated[
        str,
        typer.Option(
            "--resolve", help="majority | dawid-skene (votes weighted by annotator quality)."
        ),
    ] = "majority",
    min_gold_accuracy: Annotated[
        float, typer.Option(help="Flag annotators whose gold accuracy is surely below this.")
    ] = 0.7,
    store: Store = None,
    url: Url = None,
    api_key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Export annotations, resolve them, write a training file; print agreement and each
    annotator's quality (gold accuracy, agreement with the others, speed, flags).

    Audit tasks are written to their own file and kept out of the training file; gold
    tasks score the annotators and are kept out of both."""
    from swarmlens.annotation.quality import Thresholds
    from swarmlens.annotation.workflow import pull as do_pull

    report = do_pull(
        _client(url, api_key), project, out_path, audit_out, include_audits, method, store,
        Thresholds(min_gold_accuracy=min_gold_accuracy),
    )  # fmt: skip
    if as_json:
        _json(report.__dict__)
        return
    err.print(
        f"Wrote {report.examples} labelled posts to {report.out} (version {report.version}, "
        f"fingerprint {report.fingerprint[:12]}); {report.review} task(s) for review"
        + (f" in {report.review_file}" if report.review_file else "")
        + "."
        + (
            f" {report.audited} audited post(s) in {report.audit_file}."
            if report.audit_file
            else ""
        )
    )
    out.print(_agreement_table(report.agreement))
    out.print(annotators_table(report.annotators))


@app.command()
def status(
    project: ProjectName = "swarmlens stance",
    store: Store = None,
    url: Url = None,
    api_key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Tasks, annotated, pending, agreement so far, the project's model version, and the
    languages of open tasks no annotator reads (unrouted)."""
    from swarmlens.annotation.workflow import status as do_status

    result = do_status(_client(url, api_key), project, store)
    if as_json:
        _json(result)
        return
    table = Table(title=f"Project {project!r}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in ("tasks", "annotated", "pending", "model_version"):
        table.add_row(key, str(result[key]))
    out.print(table)
    out.print(_agreement_table(result["agreement"]))
    for line in routing_lines(result):
        out.print(line)


@app.command()
def retrain(
    out_path: Annotated[Path, typer.Option("--out", help="Training file to write (JSONL).")] = Path(
        "annotations.jsonl"
    ),
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="Extra labelled files to train on too.")
    ] = None,
    project: ProjectName = "swarmlens stance",
    store: Store = None,
    url: Url = None,
    api_key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Pull, train, register a new model version, push its predictions for open tasks."""
    from swarmlens.annotation.workflow import retrain as do_retrain

    result = do_retrain(_client(url, api_key), project, out_path, data or [], store=store)
    if as_json:
        _json(result)
        return
    err.print(
        f"Registered {result['model_version']} ({result['examples']} examples, export "
        f"{result['export']}); predictions pushed for {result['predictions_pushed']} open task(s)."
    )


@app.command()
def review(
    data: Annotated[
        list[Path],
        typer.Option(
            "--data",
            help="Labelled file (as `annotate pull` writes); repeatable. A FILE.review.jsonl "
            "of split votes given here joins the review.",
        ),
    ],
    disagreements: Annotated[
        list[Path] | None,
        typer.Option("--disagreements", help="Split votes (FILE.review.jsonl from pull)."),
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write the review here (JSONL, ranked).")
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", min=1, help="At most this many label issues.")
    ] = None,
    folds: Annotated[int, typer.Option(min=2, help="Folds for out-of-fold probabilities.")] = 5,
    group_folds: Annotated[
        bool, typer.Option(help="Keep each author's posts in one fold (default: by label).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the folds and the model.")] = 0,
    push_tasks: Annotated[
        bool, typer.Option("--push", help="Import them as review tasks into --project.")
    ] = False,
    project: ProjectName = "swarmlens stance",
    url: Url = None,
    api_key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Labels that look wrong (confident learning on out-of-fold probabilities), ranked.

    With --push they go to the project as review tasks (task data: review, given, reason),
    the suspected label as pre-annotation, in a "Review" tab; split votes join them."""
    from swarmlens.annotation.review import push_review, write_review
    from swarmlens.annotation.review import review as do_review

    report = do_review(data, disagreements or [], top, folds, seed, group_folds)
    if out_path is not None:
        write_review(out_path, report.items)
        report.out = str(out_path)
    if push_tasks:
        report.pushed = push_review(_client(url, api_key), project, report.items)
        report.project = project
    if as_json:
        _json(report.as_dict())
        return
    table = Table(title=f"Labels to review ({report.method})")
    for column in ("#", "id", "given", "suspected", "quality", "reason"):
        table.add_column(column, justify="right" if column in ("#", "quality") else "left")
    for rank, item in enumerate(report.items, start=1):
        quality = "-" if item.quality is None else f"{item.quality:.3f}"
        table.add_row(
            str(rank), item.id, item.given or "(split)", item.suspected, quality, item.reason
        )
    out.print(table)
    err.print(
        f"{report.flagged} of {report.examples} labels look wrong ({report.folds} {report.split} "
        f"folds); {report.disagreements} split vote(s)"
        + (f"; written to {report.out}" if report.out else "")
        + (
            f"; {report.pushed} new review task(s) in {project!r} (tab 'Review')"
            if report.pushed is not None
            else ""
        )
        + "."
    )
