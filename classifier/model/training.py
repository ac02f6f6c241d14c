"""Training data, group-aware cross-validation, training and the default model."""

from __future__ import annotations

import hashlib
import inspect
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from swarmlens.classifier.errors import TrainingDataError
from swarmlens.classifier.model import registry
from swarmlens.classifier.model.estimator import StanceClassifier, validate_training_data
from swarmlens.classifier.model.evaluation import evaluate_predictions
from swarmlens.classifier.model.registry import DEFAULT_MODEL_NAME
from swarmlens.classifier.model.splits import fold_splits, plan_folds
from swarmlens.classifier.posts.post import Post
from swarmlens.classifier.posts.readers import Rejected, expand_inputs, iter_source
from swarmlens.classifier.vocab import LABELS

log = logging.getLogger(__name__)


@dataclass
class LabelledData:
    """Labelled examples, column-wise. groups holds author/thread ids (None when absent)."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    groups: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, post: Post) -> None:
        self.ids.append(post.post_id)
        self.texts.append(post.text)
        self.labels.append(str(post.label))
        self.langs.append(post.lang)
        self.groups.append(post.group or post.author)

    @property
    def has_groups(self) -> bool:
        return bool(self.groups) and all(g is not None for g in self.groups)

    def fingerprint(self) -> str:
        """Order-independent SHA-256 of (text, label) pairs: same examples, same fingerprint."""
        digests = sorted(
            hashlib.sha256(f"{label}\x1f{text}".encode()).digest()
            for text, label in zip(self.texts, self.labels, strict=True)
        )
        return hashlib.sha256(b"".join(digests)).hexdigest()

    def counts(self) -> dict[str, int]:
        found = Counter(self.labels)
        return {label: found.get(label, 0) for label in LABELS}


def synthetic_examples(data: LabelledData) -> int:
    """How many examples come from swarmlens's synthetic generator (``swarmlens demo-data``,
    the default model's training corpus): post ids and group ids both start with 'demo-',
    as the generator writes them. Figures on those say nothing about real posts."""
    return sum(
        1
        for post_id, group in zip(data.ids, data.groups, strict=True)
        if post_id.startswith("demo-") and (group or "").startswith("demo-")
    )


def load_labelled(paths: Iterable[str | Path]) -> LabelledData:
    """Read labelled posts from JSONL / CSV / Parquet files (plain or gzip).

    Strict, unlike scoring: a malformed record or a missing/unknown label is an
    error naming the file and line, since silently training on less is worse.
    """
    data = LabelledData()
    for path in expand_inputs(paths):
        for number, item in enumerate(iter_source(path), start=1):
            if isinstance(item, Rejected):
                raise TrainingDataError(f"{item.source}, line {item.line}: {item.reason}")
            if item.label is None:
                raise TrainingDataError(
                    f"{path}, record {number} (post_id {item.post_id!r}): no 'label'; "
                    f"training data needs one of {', '.join(LABELS)}"
                )
            data.add(item)
    if not data.texts:
        raise TrainingDataError("training files hold no example")
    validate_training_data(data.texts, data.labels)
    return data


def cross_validate(
    data: LabelledData,
    folds: int = 5,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    make_model: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Out-of-fold figures for ``data``; folds keep each group (author/thread) together.

    Random splits put one account's posts on both sides and overstate F1, so a
    group split is used whenever every example has a group.
    make_model: factory for the estimator (default: StanceClassifier(**params)).
    """
    make = make_model or (lambda: StanceClassifier(**(params or {})))
    texts = np.array(data.texts, dtype=object)
    labels = np.array(data.labels, dtype=object)
    groups = data.groups if data.has_groups else None
    plan = plan_folds(labels, groups, folds, seed)
    splits = fold_splits(labels, groups, plan=plan)
    predicted = np.empty(len(labels), dtype=object)
    top = np.zeros(len(labels))
    for train_idx, test_idx in splits:
        model = make()
        extra = {}
        if data.has_groups and "groups" in inspect.signature(model.fit).parameters:
            extra["groups"] = [data.groups[i] for i in train_idx]
        model.fit(list(texts[train_idx]), list(labels[train_idx]), **extra)
        proba = model.predict_proba(list(texts[test_idx]))
        predicted[test_idx] = model.classes_[proba.argmax(axis=1)]
        top[test_idx] = proba.max(axis=1)
    report = evaluate_predictions(labels, predicted, top, data.langs)
    report["cv"] = {"folds": plan.folds, "split": plan.scheme, "seed": seed}
    return report


def train_model(
    data: LabelledData, params: dict[str, Any] | None = None, cv_folds: int = 5
) -> tuple[StanceClassifier, dict[str, Any]]:
    """Fit on all of ``data``; also cross-validate when cv_folds >= 2. Returns (model, info)."""
    started = time.perf_counter()
    # Too few examples of some label to hold any out: report no CV rather than fail.
    enough = min(Counter(data.labels).values()) >= 2
    cv = cross_validate(data, cv_folds, params=params) if cv_folds >= 2 and enough else None
    model = StanceClassifier(**(params or {})).fit(
        data.texts, data.labels, groups=data.groups if data.has_groups else None
    )
    info: dict[str, Any] = {
        "n_train": len(data),
        "label_counts": data.counts(),
        "data_fingerprint": data.fingerprint(),
        "n_features": int(model.n_features),
        "feature_blocks": feature_blocks(model),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if cv is not None:
        info["cv"] = cv
    return model, info


def feature_blocks(model: StanceClassifier) -> str:
    """What the model's input columns are, for people: hashed blocks, then the vectors."""
    hashed = len(model.featurizer_.specs())
    text = f"{hashed} x {model.n_features:,} hashed n-gram buckets"
    if model.featurizer_.vectors_ is not None:
        text += f" + {model.featurizer_.n_dense_} subword vector dims"
    return text


def entry_fields(
    name: str,
    model: StanceClassifier,
    info: dict[str, Any],
    training_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Manifest fields for a model trained by ``train_model``.

    training_data: what it was trained on (``kind``: 'labelled' or 'synthetic-demo',
        ``description``, ``files``). A synthetic-demo model records no quality figure:
        scores on generated posts say nothing about real ones.
    """
    training_data = training_data or {"kind": "labelled"}
    cv = info.get("cv") or {}
    synthetic = training_data.get("kind") == registry.SYNTHETIC_DEMO
    metrics = {} if synthetic else {
        k: cv[k] for k in ("macro_f1", "accuracy", "calibration_error") if k in cv
    }
    if cv and not synthetic:
        metrics["per_class_f1"] = {k: v["f1"] for k, v in cv["per_class"].items()}
        metrics["cv"] = cv["cv"]
    return {
        "training_data": training_data,
        "name": name,
        "labels": list(LABELS),
        "data_fingerprint": info["data_fingerprint"],
        "n_train": info["n_train"],
        "metrics": metrics,
        "params": {
            k: list(v) if isinstance(v, tuple) else v for k, v in model.get_params().items()
        },
    }


def demo_data(limit: int | None = None, training: bool = True) -> LabelledData:
    """A synthetic corpus (its first ``limit`` posts) as labelled data.

    training: the default model's training corpus (``generate_training``: another seed,
    other accounts, clear-cut texts); False for the demo corpus itself, which the default
    model never sees, so ``swarmlens demo`` scores posts it was not trained on.
    """
    import itertools

    from swarmlens.classifier.demo.generator import generate_demo, generate_training

    data = LabelledData()
    for record in itertools.islice(generate_training() if training else generate_demo(), limit):
        data.ids.append(record["id"])
        data.texts.append(record["text"])
        data.labels.append(record["label"])
        data.langs.append(record["lang"])
        data.groups.append(record["group"])
    return data


def build_default_model(
    directory: Path | None = None
) -> registry.ModelEntry:
    """Train the default model on the synthetic training corpus and register it as current."""

    from swarmlens.classifier.demo.generator import TRAIN_SEED

    log.info(
        "No model in the registry: building the default model from a synthetic corpus..."
    )
    data = demo_data()
    # No cross-validation: a figure on generated posts would read as quality and is not.
    model, info = train_model(data, cv_folds=0)
    described = {
        "kind": registry.SYNTHETIC_DEMO,
        "description": (
            f"{len(data)} posts of the synthetic training corpus (seed {TRAIN_SEED}; "
            "not the demo archive `swarmlens demo` scores)"
        ),
    }
    fields = entry_fields(DEFAULT_MODEL_NAME, model, info, described)
    entry = registry.register(model, fields, directory)
    log.info(
        f"Registered default model {entry.id}, {registry.SYNTHETIC_NOTE} "
        "(`swarmlens train --data LABELLED.jsonl --out model.safetensors --register`)."
    )
    return entry


def ensure_model(
    ref: str | None = None, directory: Path | None = None
) -> tuple[StanceClassifier, registry.ModelEntry]:
    """Load model ``ref`` (a version id or path); with no ref, the current model,
    building and registering the default one first when the registry holds no model.

    A tampered, missing or unreadable model is an error (E004/E005/E018), never replaced."""
    if ref is None:
        ensure_default_model(directory)
    return registry.load(ref, directory)


def ensure_default_model(directory: Path | None = None) -> None:
    """Build and register the default model when the registry holds no model at all."""
    if not registry.has_models(directory):
        with registry.locked(directory, ".build.lock"):
            # Another process may have built it while this one waited for the lock.
            if not registry.has_models(directory):
                build_default_model(directory)
