"""The model being served: swapped atomically after a retrain, used under one lock."""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from swarmlens.classifier.model.registry import ModelEntry

SPARE_REPLICAS = 2
"""Model copies kept for explanations between requests (each the model's size, about
11 MB for the default one): fewer copies made while explanations keep coming."""


class FairLock:
    """A lock handed to its waiters in arrival order.

    ``threading.Lock`` is not fair: a thread that releases and re-acquires it in a loop
    (a large request working slice by slice) can keep it from a waiting one-post request
    for as long as it likes. Here release hands the lock to the oldest waiter.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def __enter__(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by ``__exit__`` of the holder before us: the lock is ours

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


class ServingModel:
    """The served model and its registry entry.

    The lock serialises use of the model (its feature caches are not thread-safe) and
    makes a swap after a background retrain atomic for the requests around it. It is fair
    (first come, first served), and large requests take it one slice at a time
    (``services.classify``), so no request holds the model for everyone.
    """

    def __init__(self, model: Any, entry: ModelEntry) -> None:
        self._model = model
        self._entry = entry
        self._lock = FairLock()
        self._spares: list[tuple[Any, ModelEntry]] = []
        self._spares_lock = threading.Lock()

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

    def replica(self) -> tuple[Any, ModelEntry]:
        """A copy of the model for one caller alone (explanations): used without the lock,
        so hours of explaining never hold the model others wait for, and it may be thrown
        away half-used (a stopped job). Give it back with ``give_back`` when done."""
        with self._spares_lock:
            while self._spares:
                model, entry = self._spares.pop()
                if entry.id == self._entry.id:
                    return model, entry
        with self._lock:  # a memory copy (milliseconds), once per version and concurrent use
            return copy.deepcopy(self._model), self._entry

    def give_back(self, model: Any, entry: ModelEntry) -> None:
        """Keep a replica that finished its work cleanly for the next caller."""
        with self._spares_lock:
            if entry.id == self._entry.id and len(self._spares) < SPARE_REPLICAS:
                self._spares.append((model, entry))

    def swap(self, model: Any, entry: ModelEntry) -> None:
        """Serve ``model`` from now on (requests in flight finish with the old one)."""
        with self._lock:
            self._model, self._entry = model, entry
