"""Background retraining for the Label Studio webhook: one retrain at a time, never blocking.

The webhook counts new annotations; once ``retrain_min_labels`` have arrived (or on
START_TRAINING) a thread pulls the labels, trains, registers the new model, pushes its
predictions and then makes it the served model. Failures are logged and kept for
``/labelstudio/status``; they never take the server down.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from swarmlens.serve.metrics import Metrics
from swarmlens.serve.services.serving import ServingModel
from swarmlens.serve.settings import ServerSettings

log = logging.getLogger(__name__)


MAX_ID_CHARS = 64
"""Annotation ids up to this long are kept as they are; longer ones by their digest."""


def id_key(annotation_id: object) -> str:
    """A short key for an annotation id: Label Studio's ids are integers; anything longer
    than ``MAX_ID_CHARS`` is kept as its BLAKE2 digest (equal ids, equal keys)."""
    key = str(annotation_id)
    if len(key) <= MAX_ID_CHARS:
        return key
    return "#" + hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80] or "project"


class Trainer:
    """Counts new labels and runs one background retrain at a time."""

    def __init__(self, settings: ServerSettings, serving: ServingModel, metrics: Metrics) -> None:
        self.settings = settings
        self.serving = serving
        self.metrics = metrics
        self.lock = threading.Lock()
        self.new_labels = 0
        # Annotation ids already counted (kept across retrains), as short keys: a body's
        # megabytes-long "id" must not stay in memory for the server's life.
        self.counted: set[str] = set()
        self.thread: threading.Thread | None = None
        self.last_result: dict[str, Any] | None = None
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def count_label(self, annotation_id: object = None) -> None:
        """Count one annotation, once by id: an update of an annotation already counted is
        not a new label. An event without an id counts (nothing to recognise it by)."""
        with self.lock:
            if annotation_id is not None:
                key = id_key(annotation_id)
                if key in self.counted:
                    return
                self.counted.add(key)
            self.new_labels += 1

    @property
    def enough_labels(self) -> bool:
        return self.new_labels >= self.settings.retrain_min_labels

    def start(self, project: str) -> bool:
        """Start retraining from ``project`` unless a retrain is running; True if started."""
        with self.lock:
            if self.running:
                return False
            self.new_labels = 0
            self.thread = threading.Thread(target=self._run, args=(project,), daemon=True)
            self.thread.start()
            return True

    def _run(self, project: str) -> None:
        from swarmlens.annotation.tasks import connect
        from swarmlens.annotation.workflow import retrain
        from swarmlens.classifier.model import registry

        settings = self.settings
        try:
            ls = connect(settings.label_studio_url, settings.label_studio_api_key)
            out = settings.data_dir / "annotations" / f"{_safe(project)}.jsonl"
            out.parent.mkdir(parents=True, exist_ok=True)
            result = retrain(
                ls, project, out, models_dir=settings.models_dir,
                # the server's own data dir, however it was set: gold tasks stay out
                store=settings.data_dir / "annotation",
            )
            model, entry = registry.load(result["model_version"], settings.models_dir)
            self.serving.swap(model, entry)
            self.metrics.model.clear()
            self.metrics.model.labels(entry.id).set(1)
            self.last_result, self.last_error = result, None
            log.info("retrained from Label Studio project %r: now serving %s", project, entry.id)
        except Exception as exc:  # a failed retrain must not take the server down
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("background retrain from project %r failed", project)
