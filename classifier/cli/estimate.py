"""``swarmlens estimate``: audited label shares of one hashtag, beside classify-and-count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from swarmlens.classifier.cli.inputs import dataset_window
from swarmlens.classifier.cli.output import print_json, show
from swarmlens.classifier.errors import AuditError
from swarmlens.classifier.vocab import LABELS


def estimate(
    dataset: Annotated[list[Path], typer.Argument(help="Scored dataset directory or files.")],
    hashtag: Annotated[str, typer.Option(help="Hashtag, any spelling, with or without '#'.")],
    audit: Annotated[
        Path, typer.Option(help="Audited labels (JSONL: 'id' or 'post_id', and 'label').")
    ],
    start: Annotated[str | None, typer.Option(help="ISO time, inclusive.")] = None,
    end: Annotated[str | None, typer.Option(help="ISO time, exclusive.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Audited label shares of a hashtag (PPI, 95% interval) beside classify-and-count.

    The audit must be a random sample of the hashtag's posts in the window, as
    'swarmlens annotate push --strategy audit' draws one: uniform, or drawn with the
    inclusion probabilities its file records ('--design active', '--stratify lang|label'),
    which weight each audited post. An audit whose lines say "simulated": true (the
    demo's) is named simulated in the table and in the JSON.
    """
    from swarmlens.classifier.analytics import datasets, queries
    from swarmlens.classifier.analytics.estimate import (
        estimate_report,
        match_audit,
        read_audit_design,
    )
    from swarmlens.classifier.posts.post import format_time

    start_at, end_at = dataset_window(dataset, start, end)
    try:
        labels, design = read_audit_design(audit)
    except RecursionError:
        # json.loads of a line nested ~1,000 deep: a malformed audit, said in one line.
        raise AuditError(f"{audit}: a line nests JSON too deeply to be an audit record "
                         "({'id', 'label'})") from None
    population = queries.hashtag_posts(datasets.dataset_source(dataset), hashtag, start_at, end_at)
    key = population["hashtag"]
    rows = match_audit(population["post_id"], labels, key)
    versions = sorted(set(population["model_version"]) - {None})
    report = estimate_report(
        key,
        format_time(start_at),
        format_time(end_at),
        population["scores"],
        population["label"],
        rows,
        ", ".join(versions) or None,
        design=[design[post_id] for post_id in labels],
    )
    report["simulated"] = audit_is_simulated(audit)
    if as_json:
        print_json(report)
        return
    show(estimate_table(report))


def audit_is_simulated(path: Path) -> bool:
    """Whether an audit file says it is simulated (any line with ``"simulated": true``,
    as ``swarmlens demo`` writes): labels from a generator, not from annotators."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if '"simulated"' not in line:
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                continue  # read_audit_design has already accepted every line
            if isinstance(record, dict) and record.get("simulated") is True:
                return True
    return False


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def estimate_table(report: dict[str, Any]) -> Table:
    """Both figures per label, named for what they are."""
    window = f"{report['start'] or 'first post'} to {report['end'] or 'last post'}"
    simulated = bool(report.get("simulated"))
    table = Table(
        title=f"#{report['hashtag']}: {window}"
        + (" - SIMULATED audit" if simulated else ""),
        caption=(
            ("SIMULATED audit: its labels come from the synthetic corpus, not from people; "
             if simulated else "")
            + f"audited: {report['audited']} of {report['posts']:,} posts; classify-and-count = "
            "share of posts by predicted label; audited estimate = prediction-powered "
            f"inference with its 95% interval; model {report['model_version']}"
        ),
    )
    for column in (
        "label",
        "posts (top label)",
        "classify-and-count",
        "audited estimate",
        "95% interval",
    ):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label in LABELS:
        row = report["labels"][label]
        table.add_row(
            label,
            f"{row['count']:,}",
            _pct(row["share"]),
            _pct(row["estimate"]),
            f"{_pct(row['low'])} - {_pct(row['high'])}",
        )
    flood = report["flood_share"]
    table.add_row(
        "flood share",
        "",
        _pct(flood["count_based"]),
        _pct(flood["estimate"]),
        f"{_pct(flood['low'])} - {_pct(flood['high'])}",
    )
    return table
