"""Demo commands: ``demo`` (the main job on embedded defaults) and ``demo-data``."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from swarmlens.classifier.cli.output import print_json, show
from swarmlens.classifier.cli.scoring import score
from swarmlens.classifier.errors import OutputError
from swarmlens.classifier.vocab import LABELS

log = logging.getLogger(__name__)


def demo_data(
    out_path: Annotated[Path, typer.Option("--out", help="File to write (.jsonl or .jsonl.gz).")],
    n: Annotated[int, typer.Option(help="Number of posts.")] = 0,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 0,
) -> None:
    """Write the synthetic demo corpus (deterministic, marked synthetic) as JSONL."""
    from swarmlens.classifier.demo.generator import DEMO_SEED, DEMO_SIZE, write_demo_jsonl

    path = write_demo_jsonl(out_path, n or DEMO_SIZE, seed or DEMO_SEED)
    log.info(f"Wrote {n or DEMO_SIZE} synthetic demo posts to {path}")


def demo(
    workdir: Annotated[
        Path, typer.Option("--dir", help="Where the demo archive and its scores go.")
    ] = Path("demo-output"),
    top: Annotated[int, typer.Option(help="Hashtags to show.")] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Run the main job on a synthetic demo archive and show its top hashtags.

    Builds the default model if needed, scores the demo archive, and writes a simulated
    audit of the top hashtag to try 'swarmlens estimate' on.
    """
    from swarmlens.classifier.analytics import datasets, queries
    from swarmlens.classifier.demo.generator import write_demo_jsonl

    workdir.mkdir(parents=True, exist_ok=True)
    archive = workdir / "demo-archive.jsonl.gz"
    if not archive.exists():
        write_demo_jsonl(archive)
        log.info(f"Wrote the synthetic demo archive to {archive}")
    scored = workdir / "scored"
    try:
        score([str(archive)], scored, as_json=False)
    except OutputError:
        # Scored by an earlier default model (say, before a library upgrade): redo it.
        log.info(f"{scored} holds scores from another model: scoring the demo archive again.")
        shutil.rmtree(scored)
        score([str(archive)], scored, as_json=False)
    rows = queries.top_hashtags(datasets.parquet_source([scored]), limit=top)
    basis = "classify-and-count"  # what these figures are: no audit, no interval
    audit = _simulated_audit(archive, scored, rows)
    if as_json:
        print_json(
            {"scored": str(scored), "counts": basis, "top_hashtags": rows, "simulated_audit": audit}
        )
        return
    table = Table(
        title=f"Top hashtags in the demo archive ({scored})",
        caption=(
            "Counts are classify-and-count: each post counted under the label the model "
            "predicts (no audit, no error bars)."
        ),
    )
    for column in ("hashtag", "total", *LABELS, "flood share"):
        table.add_column(column, justify="left" if column == "hashtag" else "right")
    for row in rows:
        share = row["flood_share"]
        table.add_row(
            "#" + row["display"],
            str(row["total"]),
            *(str(row[label]) for label in LABELS),
            "-" if share is None else f"{share:.0%}",
        )
    show(table)
    if audit:
        log.info(
            f"Simulated audit (demo labels of a uniform sample, not annotators): {audit['path']}."
            f" Audited estimate: swarmlens estimate {scored} --hashtag {audit['hashtag']} "
            f"--audit {audit['path']}"
        )


def _simulated_audit(archive: Path, scored: Path, rows: list[dict]) -> dict | None:
    """A simulated audit of the demo's top hashtag, so `swarmlens estimate` can be tried."""
    from swarmlens.classifier.analytics.simulated_audit import write_simulated_audit

    if not rows:
        return None
    path = scored.parent / "simulated-audit.jsonl"
    return write_simulated_audit(archive, scored, rows[0]["hashtag"], path)
