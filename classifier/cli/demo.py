"""Demo commands: ``demo`` (the main job on embedded defaults) and ``demo-data``."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Annotated, Any

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

    Builds the default model if needed (trained on another synthetic corpus, without the
    demo's sarcasm, quoted slogans and news that repeats them), scores the demo archive,
    writes a simulated audit of the top hashtag to try 'swarmlens estimate' on, and ends
    with that hashtag's flood share three ways: classify-and-count, the audited estimate
    with its 95% interval, and the truth (known only because the corpus is synthetic).
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
    _warn_if_trained_on_the_archive()
    rows = queries.top_hashtags(datasets.parquet_source([scored]), limit=top)
    basis = "classify-and-count"  # what these figures are: no audit, no interval
    audit = _simulated_audit(archive, scored, rows)
    figures = _figures(scored, audit)
    if figures:
        figures["display"] = rows[0]["display"]
    if as_json:
        print_json(
            {"scored": str(scored), "counts": basis, "top_hashtags": rows, "simulated_audit": audit,
             "synthetic": True, "flood_share_of_top_hashtag": figures}
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
    if audit and figures:
        log.info(
            f"Simulated audit (demo labels of a uniform sample, not annotators): {audit['path']}."
            f" Audited estimate: swarmlens estimate {scored} --hashtag {audit['hashtag']} "
            f"--audit {audit['path']}"
        )
        show(*closing_lines(figures))


def _warn_if_trained_on_the_archive() -> None:
    """An older default model was trained on the demo archive itself: its counts equal the
    truth and the demo cannot show what an audit corrects. Say so, and how to rebuild."""
    from swarmlens.classifier.model import registry
    from swarmlens.classifier.model.training import demo_data

    current = {e.id: e for e in registry.list_models()}.get(registry.current_id() or "")
    if current is None or not current.synthetic:
        return
    # The older default model's manifest says so; any other, by the very same examples.
    older = "synthetic demo corpus (swarmlens demo-data)"
    if older in str(current.training_data.get("description", "")) or (
        current.data_fingerprint == demo_data(training=False).fingerprint()
    ):
        log.warning(
            f"the current model {current.id} was trained on this demo archive itself (an older "
            "default model): its classify-and-count equals the truth. Register another model, "
            f"or move {registry.registry_dir()} away so the default model is rebuilt on the "
            "training corpus"
        )


def closing_lines(figures: dict[str, Any]) -> list[str]:
    """The demo's point in three lines: the flood share of its top hashtag by
    classify-and-count, by the audited estimate (95% interval), and the truth, which only
    a synthetic corpus knows."""
    flood = figures["flood_share"]
    tag = figures.get("display") or figures["hashtag"]
    raw, truth = flood["classify_and_count"], flood["truth"]

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    def off(value: float | None) -> str:
        if value is None or truth is None:
            return ""
        return f" ({abs(value - truth) * 100:.1f} points from the truth)"

    return [
        f"Flood share of #{tag} (opposing / (supportive + opposing), {figures['posts']} posts):",
        f"  classify-and-count (the model's labels, counted): {pct(raw)}{off(raw)}",
        f"  audited estimate ({figures['audited']} posts audited, SIMULATED audit): "
        f"{pct(flood['audited_estimate'])}, 95% interval {pct(flood['low'])} - "
        f"{pct(flood['high'])}{off(flood['audited_estimate'])}",
        f"  truth (SYNTHETIC corpus: known here, never for real posts): {pct(truth)}",
    ]


def _figures(scored: Path, audit: dict[str, Any] | None) -> dict[str, Any] | None:
    """The three flood-share figures of the audited hashtag (see ``demo_figures``)."""
    from swarmlens.classifier.analytics.simulated_audit import demo_figures

    return demo_figures(scored, audit) if audit else None


def _simulated_audit(archive: Path, scored: Path, rows: list[dict]) -> dict | None:
    """A simulated audit of the demo's top hashtag, so `swarmlens estimate` can be tried."""
    from swarmlens.classifier.analytics.simulated_audit import write_simulated_audit

    if not rows:
        return None
    path = scored.parent / "simulated-audit.jsonl"
    return write_simulated_audit(archive, scored, rows[0]["hashtag"], path)
