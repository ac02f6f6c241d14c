"""``swarmlens annotate gold ...`` and ``annotate annotators ...``: swarmlens's own side of
a project (known answers, annotators' languages), and the tables of annotator quality
and routing that ``pull`` and ``status`` print."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

Url = Annotated[str | None, typer.Option("--url", help="Label Studio URL (LABEL_STUDIO_URL).")]
Key = Annotated[
    str | None, typer.Option("--api-key", help="Label Studio token (LABEL_STUDIO_API_KEY).")
]
ProjectName = Annotated[str, typer.Option("--project", help="Project title.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Store = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="swarmlens's annotation store (default: <SWARMLENS_DATA_DIR>/annotation).",
    ),
]

gold_app = typer.Typer(
    help="Known answers kept on swarmlens's side and mixed into pushes (--gold-rate).",
    no_args_is_help=True,
)
annotators_app = typer.Typer(
    help="Annotators' languages; each gets a Label Studio tab with their languages only.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@gold_app.command("add")
def gold_add(
    data: Annotated[
        list[Path], typer.Option("--data", help="Labelled posts (id, text, label); repeatable.")
    ],
    project: ProjectName = "swarmlens stance",
    store: Store = None,
    as_json: AsJson = False,
) -> None:
    """Keep known answers for the project (never sent to Label Studio with their label)."""
    from swarmlens.annotation.store import add_gold

    report = add_gold(project, data, store)
    if as_json:
        _json(report.__dict__)
        return
    err.print(
        f"Gold for {project!r}: {report.added} added, {report.changed} changed, "
        f"{report.unchanged} unchanged, {len(report.rejects)} rejected; {report.total} in "
        f"{report.store}. Mix them in with: swarmlens annotate push ... --gold-rate 0.05"
    )
    for reject in report.rejects[:20]:
        err.print(f"  rejected {reject['source']}:{reject['line']}: {reject['reason']}")


@gold_app.command("list")
def gold_list(
    project: ProjectName = "swarmlens stance", store: Store = None, as_json: AsJson = False
) -> None:
    """How many known answers the store holds, per label."""
    from collections import Counter

    from swarmlens.annotation.store import load_gold

    gold = load_gold(project, store)
    counts = dict(Counter(item.label for item in gold.values()))
    if as_json:
        _json({"project": project, "gold": len(gold), "by_label": counts})
        return
    err.print(f"{len(gold)} known answers for {project!r}: {counts or 'none'}")


@annotators_app.command("set")
def annotators_set(
    email: Annotated[str, typer.Argument(help="The annotator's Label Studio email.")],
    langs: Annotated[str, typer.Option("--langs", help="Languages they read, e.g. ar,en.")],
    project: ProjectName = "swarmlens stance",
    store: Store = None,
    url: Url = None,
    api_key: Key = None,
    as_json: AsJson = False,
) -> None:
    """Record the languages EMAIL reads and give them a tab with only those posts."""
    from swarmlens.annotation.routing import ensure_annotator_view, view_title
    from swarmlens.annotation.store import parse_langs, save_annotator
    from swarmlens.annotation.tasks import connect, project_id

    codes = parse_langs(langs)
    ls = connect(url, api_key)
    view_id = ensure_annotator_view(ls, project_id(ls, project), email, codes)
    save_annotator(project, email, codes, store)
    result = {"email": email, "langs": codes, "view_id": view_id, "view": view_title(email, codes)}
    if as_json:
        _json(result)
        return
    err.print(
        f"{email} reads {', '.join(codes)}: tab {result['view']!r} in {project!r}; "
        "they label from that tab (Label All Tasks)."
    )


@annotators_app.command("list")
def annotators_list(
    project: ProjectName = "swarmlens stance", store: Store = None, as_json: AsJson = False
) -> None:
    """The annotators' languages as recorded."""
    from swarmlens.annotation.store import load_annotators

    annotators = load_annotators(project, store)
    if as_json:
        _json(annotators)
        return
    for email, langs in sorted(annotators.items()):
        out.print(f"{email}: {', '.join(langs)}")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def annotators_table(figures: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="Annotators")
    for column in ("annotator", "n", "gold", "gold acc. (95%)", "kappa vs others", "DS acc.",
                   "median s", "flags"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("annotator", "flags") else "right")
    for who, row in figures.items():
        interval = row["gold_interval"]
        gold = (
            f"{_fmt(row['gold_accuracy'])} ({_fmt(interval[0])}-{_fmt(interval[1])})"
            if interval
            else "-"
        )
        table.add_row(
            who,
            str(row["n"]),
            str(row["gold_n"]),
            gold,
            f"{_fmt(row['agreement'])} ({row['agreement_n']})",
            _fmt(row["ds_accuracy"]),
            _fmt(row["median_seconds"], 1),
            "; ".join(row["flags"]) or "-",
        )
    return table


def routing_lines(result: dict[str, Any]) -> list[str]:
    routing = result["routing"]
    lines = [
        f"{email}: {', '.join(langs)}" for email, langs in routing["annotators"].items()
    ] or ["no annotator languages set (annotate annotators set EMAIL --langs ar,en)"]
    unrouted = routing["unrouted"]
    lines.append(
        "unrouted open tasks: "
        + (", ".join(f"{lang} {n}" for lang, n in unrouted.items()) if unrouted else "none")
    )
    return lines
