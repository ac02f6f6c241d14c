"""The model being served: swapped atomically after a retrain, used under one lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from swarmlens.classifier.model.registry import ModelEntry


class ServingModel:
    """The served model and its registry entry.

    The lock serialises use of the model (its feature caches are not thread-safe) and
    makes a swap after a background retrain atomic for the requests around it.
    """

    def __init__(self, model: Any, entry: ModelEntry) -> None:
        self._model = model
        self._entry = entry
        self._lock = threading.Lock()

    @property
    def entry(self) -> ModelEntry:
        return self._entry

    @property
    def version(self) -> str:
        return self._entry.id

    @contextmanager
    def use(self) -> Iterator[tuple[Any, ModelEntry]]:
        """Hold the model for one piece of work: ``with serving.use() as (model, entry):``."""
        with self._lock:
            yield self._model, self._entry

    def swap(self, model: Any, entry: ModelEntry) -> None:
        """Serve ``model`` from now on (requests in flight finish with the old one)."""
        with self._lock:
            self._model, self._entry = model, entry
