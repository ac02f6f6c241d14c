"""Model commands: ``train``, ``evaluate``, ``models``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Column, Table

from swarmlens.classifier.cli.output import id_column, print_json, show
from swarmlens.classifier.model import registry
from swarmlens.classifier.vocab import LABELS

log = logging.getLogger(__name__)


def train(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled JSONL/CSV/Parquet file(s).")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the model artifact.")],
    cv: Annotated[int, typer.Option(help="Cross-validation folds for the report (0: none).")] = 5,
    register: Annotated[bool, typer.Option(help="Also register it and make it current.")] = False,
    name: Annotated[str, typer.Option(help="Model name used in its version id.")] = "stance",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Train a stance model on labelled posts and save it (with its SHA-256 sidecar)."""
    from swarmlens.classifier.model.training import (
        entry_fields,
        load_labelled,
        synthetic_examples,
        train_model,
    )

    dataset = load_labelled(data)
    log.info(f"Training on {len(dataset)} examples from {len(data)} file(s)...")
    model, info = train_model(dataset, cv_folds=cv)
    described = {
        "kind": "labelled",
        "description": f"{len(dataset)} labelled posts",
        "files": [str(path) for path in data],
    }
    synthetic = synthetic_examples(dataset)
    if synthetic:
        # Generated posts: the manifest says so (all of them: the model is marked
        # synthetic everywhere, as the default model is, and keeps no quality figure).
        described["synthetic_posts"] = synthetic
        if synthetic == len(dataset):
            described["kind"] = registry.SYNTHETIC_DEMO
            described["description"] = f"{len(dataset)} posts of swarmlens's synthetic generator"
        info["synthetic_posts"] = synthetic
        log.warning(
            f"{synthetic} of the {len(dataset)} training posts come from swarmlens's SYNTHETIC "
            "generator: the model and its cross-validated figures say nothing about real posts"
        )
    fields = entry_fields(name, model, info, described)
    entry = registry.save_artifact(model, out_path, fields)
    if register:
        entry = registry.register(model, fields)
    report = {"model_version": entry.id, "artifact": str(out_path), **info}
    if as_json:
        print_json(report)
        return
    table = Table(title=f"Trained {entry.id}", show_header=False)
    table.add_row("examples", str(info["n_train"]))
    table.add_row("labels", ", ".join(f"{k} {v}" for k, v in info["label_counts"].items()))
    table.add_row("features", str(info.get("feature_blocks", info["n_features"])))
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
    show(table)


def evaluate(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled JSONL/CSV/Parquet file(s).")],
    model_ref: Annotated[
        str | None, typer.Option("--model", help="Version id or artifact path (default: current).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Evaluate a model on labelled posts: F1 per class and language, confusion, calibration."""
    from swarmlens.classifier.batch.scoring import label_probabilities
    from swarmlens.classifier.model.evaluation import evaluate_predictions
    from swarmlens.classifier.model.training import (
        ensure_model,
        load_labelled,
        synthetic_examples,
    )

    model, entry = ensure_model(model_ref)
    dataset = load_labelled(data)
    proba = label_probabilities(model, dataset.texts)
    predicted = [LABELS[i] for i in proba.argmax(axis=1)]
    report = evaluate_predictions(dataset.labels, predicted, proba.max(axis=1), dataset.langs)
    report["model_version"] = entry.id
    # Figures on generated posts (or by a model trained on them) read as quality and are
    # not: both are said, in the JSON and above the table.
    synthetic = synthetic_examples(dataset)
    report["synthetic_data"] = {"posts": synthetic, "share": round(synthetic / len(dataset), 4)}
    report["model_synthetic"] = entry.synthetic
    notes = synthetic_notes(report)
    if notes:
        report["notes"] = notes
    if as_json:
        print_json(report)
        return
    for note in notes:
        log.warning(note)
    _print_evaluation(report)


def synthetic_notes(report: dict[str, Any]) -> list[str]:
    """What an evaluation report must say about synthetic data (none for real data)."""
    notes = []
    synthetic = report["synthetic_data"]["posts"]
    if synthetic:
        notes.append(
            f"{synthetic} of the {report['n']} posts come from swarmlens's SYNTHETIC generator: "
            "these figures say nothing about real posts; evaluate on posts labelled by people"
        )
    if report.get("model_synthetic"):
        notes.append(f"the model was {registry.SYNTHETIC_NOTE}")
    return notes


def _print_evaluation(report: dict[str, Any]) -> None:
    synthetic = report["synthetic_data"]["posts"]
    on = f"{report['n']} SYNTHETIC posts" if synthetic == report["n"] else (
        f"{report['n']} posts ({synthetic} SYNTHETIC)" if synthetic else f"{report['n']} posts")
    head = Table(title=f"Evaluation of {report['model_version']} on {on}")
    for column in ("macro-F1", "accuracy", "calibration error (ECE)"):
        head.add_column(column, justify="right")
    head.add_row(
        f"{report['macro_f1']:.3f}",
        f"{report['accuracy']:.3f}",
        f"{report['calibration_error']:.3f}",
    )
    show(head)
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
    show(classes)
    langs = Table(title="Per language")
    for column in ("lang", "n", "macro-F1", "accuracy"):
        langs.add_column(column, justify="right")
    for lang, v in report.get("per_language", {}).items():
        langs.add_row(lang, str(v["n"]), f"{v['macro_f1']:.3f}", f"{v['accuracy']:.3f}")
    show(langs)
    confusion = Table(title="Confusion (rows: true, columns: predicted)")
    confusion.add_column("")
    names = report["confusion"]["labels"]
    for label in names:
        confusion.add_column(label, justify="right")
    for label, row in zip(names, report["confusion"]["matrix"], strict=True):
        confusion.add_row(label, *map(str, row))
    show(confusion)


def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions as JSON.")] = False,
) -> None:
    """List registered model versions (the current one is marked)."""
    entries = registry.list_models()
    current = registry.current_id()
    if as_json:
        listed = [
            {**e.__dict__, "synthetic": e.synthetic, **({"note": registry.SYNTHETIC_NOTE}
                                                       if e.synthetic else {})}
            for e in entries
        ]
        print_json({"current": current, "models": listed})
        return
    table = Table(
        Column("", no_wrap=True),
        id_column("id", [e.id for e in entries]),
        "created",
        "trained on",
        Column("posts", justify="right"),
        "CV F1",
        id_column("data", [e.data_fingerprint[:12] for e in entries]),
        title=f"Models in {registry.registry_dir()}",
        caption="* current; posts: training examples; CV F1: cross-validated macro-F1",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 1, 0, 0),
    )
    for e in entries:
        f1 = e.metrics.get("macro_f1")
        table.add_row(
            "*" if e.id == current else "",
            e.id,
            e.created_at.replace("T", " ")[:16],
            "SYNTHETIC demo data" if e.synthetic else "labelled posts",
            str(e.n_train),
            "none" if e.synthetic else f"{f1:.3f}" if isinstance(f1, float) else "-",
            e.data_fingerprint[:12],
        )
    if any(e.synthetic for e in entries):
        log.warning(
            f"models marked SYNTHETIC are {registry.SYNTHETIC_NOTE}: "
            "`swarmlens train --data LABELLED.jsonl --out model.safetensors --register`"
        )
    if not entries:
        log.info(
            "No model registered yet: `swarmlens score` or `swarmlens demo` builds the default one."
        )
    show(table)
