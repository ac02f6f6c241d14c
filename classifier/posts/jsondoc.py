"""JSON documents streamed with bounded depth: the values at chosen paths, built one by one.

``ijson.items`` and ``ijson.parse`` cannot be given a hostile document: ``parse`` spells
out every event's full path (``item.item.item...``), so a value nested 100,000 deep costs
the square of its depth in memory (5 GB for a 200 KB file), and a value nested 1,000 deep
is built whole, then breaks every recursive consumer (``json.dumps``, pickling to a
worker). Here the events of ``ijson.basic_parse`` (no paths) are walked once, the path is
kept only to the depth where values are looked for, and a value is built only while it
nests at most ``MAX_JSON_DEPTH`` levels: a deeper one comes as ``TooDeep`` (a reject),
its remaining events skipped without building anything. A document that runs
``MAX_VALUE_BYTES`` without an event (one endless string) ends with ``ValueTooLong``.

ijson's C backend cannot decode a lone surrogate escape (``"\\ud800"``: a truncated emoji,
or a hostile id): it raises ``UnicodeDecodeError`` and the document would end there. The
events then come, from the same point on, from ijson's pure-Python backend, which reads
such a string as Python does (the record's validation repairs a text and rejects an id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import ijson
from ijson.backends import python as python_backend

MAX_VALUE_BYTES = 64 << 20
"""Bytes a document may run without a single parse event (64 MiB, as a JSONL line:
``blocks.MAX_LINE_BYTES``): one string or number that long (a gzip bomb of one endless
string) ends the document with one reject (``ValueTooLong``), never held whole."""
MAX_JSON_DEPTH = 64
"""Levels of nesting (objects and arrays) one record of a JSON document may have; no API
record nests a third as deep. A deeper record is a reject, never built."""
_BUFFER = 1 << 20
"""Bytes per read: yajl lexes a token split across reads again from its start, so a long
string costs (its length / the buffer) times its length; ijson's 64 KiB made a string at
the cap take 17 s."""
_TRACKED_PATH = 16  # path levels kept outside values: every path looked for is shorter

_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")

Event = tuple[str, Any]
Path = tuple[str, ...]
"""A value's place in the document, as ijson's prefixes: keys, and 'item' for an array's
elements (``("messages", "item")`` is ``messages.item``)."""


class ValueTooLong(ijson.JSONError):
    """A document ran ``MAX_VALUE_BYTES`` without a parse event: the rest is not read.

    An ``ijson.JSONError``, so that the readers end the document with one reject saying
    where, as for any malformed document."""


class _Bounded:
    """A binary stream that raises ``ValueTooLong`` once ``quiet`` (bytes read since the
    last event was handed on; ``events`` resets it) passes ``MAX_VALUE_BYTES``."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.quiet = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.quiet += len(data)
        if self.quiet > MAX_VALUE_BYTES:
            raise ValueTooLong(
                f"a value runs over {MAX_VALUE_BYTES:,} bytes (the limit of one record); "
                "the rest of the document was not read"
            )
        return data


@dataclass(frozen=True, slots=True)
class TooDeep:
    """A value nested deeper than ``MAX_JSON_DEPTH`` levels, skipped unbuilt."""

    reason: str = (
        f"record nests deeper than {MAX_JSON_DEPTH} levels of JSON objects and arrays"
    )


@dataclass(frozen=True, slots=True)
class Opened:
    """A container met at a path asked for with ``"open"``: ``kind`` 'map' or 'array'."""

    kind: str


def events(
    open_stream: Callable[[], IO[bytes]], reopen: Callable[[], IO[bytes]] | None = None
) -> Iterator[Event]:
    """``basic_parse`` events of the document ``open_stream()`` opens (numbers as floats
    where not integers), by ijson's C backend, or from where it met a lone surrogate on,
    by the Python backend, which reads the document again from ``reopen()`` (default:
    ``open_stream``) and skips the events already given.
    """
    given = 0
    with open_stream() as handle:
        bounded = _Bounded(handle)
        try:
            for event in ijson.basic_parse(bounded, _BUFFER, use_float=True):
                given += 1
                bounded.quiet = 0
                yield event
            return
        except UnicodeDecodeError:
            pass
    with (reopen or open_stream)() as handle:
        bounded = _Bounded(handle)
        rest = python_backend.basic_parse(bounded, _BUFFER, use_float=True)
        for number, event in enumerate(rest):
            bounded.quiet = 0  # the events already given too: they are read again
            if number >= given:
                yield event


def walk(
    source: Iterator[Event], wanted: Mapping[Path, str]
) -> Iterator[tuple[Path, object]]:
    """(path, value) for the values at the paths of ``wanted``, in document order.

    wanted: path -> 'value' (the value, built: a container, or ``TooDeep``), 'scalar'
        (the value when it is no container; a container there is skipped) or 'open' (an
        ``Opened`` for a container there, whose contents are walked on).
    A value inside a value already given is not looked at again.
    """
    path: list[str] = []  # per open container: its current key (maps) or 'item'
    untracked = 0  # containers open below _TRACKED_PATH levels (no path is wanted there)
    for event, value in source:
        if untracked:
            untracked += (event in _OPEN) - (event in _CLOSE)
            continue
        if event == "map_key":
            path[-1] = value
            continue
        if event in _CLOSE:
            path.pop()
            continue
        here = tuple(path)
        mode = wanted.get(here)
        if mode == "value":
            yield here, build(event, value, source)
            continue
        if event not in _OPEN:
            if mode == "scalar":
                yield here, value
            continue
        if mode == "open":
            yield here, Opened("map" if event == "start_map" else "array")
        elif mode == "scalar":
            skip(source)
            continue
        if len(path) >= _TRACKED_PATH:
            untracked = 1
        else:
            path.append("item" if event == "start_array" else "")


def build(event: str, value: object, source: Iterator[Event]) -> object:
    """The value that starts with (event, value), its other events taken from ``source``;
    ``TooDeep`` (the rest of its events consumed, nothing built) past ``MAX_JSON_DEPTH``."""
    if event not in _OPEN:
        return value
    root: Any = {} if event == "start_map" else []
    stack: list[Any] = [root]
    keys: list[Any] = [None]
    for event, value in source:
        if event == "map_key":
            keys[-1] = value
            continue
        if event in _CLOSE:
            stack.pop()
            keys.pop()
            if not stack:
                return root
            continue
        opens = event in _OPEN
        item: Any = ({} if event == "start_map" else []) if opens else value
        parent = stack[-1]
        if type(parent) is list:
            parent.append(item)
        else:
            parent[keys[-1]] = item
        if opens:
            if len(stack) >= MAX_JSON_DEPTH:
                skip(source, len(stack) + 1)
                return TooDeep()
            stack.append(item)
            keys.append(None)
    return root  # the document ended inside the value: ijson raises before this


def skip(source: Iterator[Event], depth: int = 1) -> None:
    """Consume the events of containers open ``depth`` deep (after their start)."""
    for event, _ in source:
        depth += (event in _OPEN) - (event in _CLOSE)
        if not depth:
            return


def too_deep(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the decoded ``value`` nests more than ``limit`` levels of objects and
    arrays (walked level by level, without recursion)."""
    level = [value] if type(value) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        deeper: list[Any] = []
        for container in level:
            for item in container.values() if type(container) is dict else container:
                if type(item) in (dict, list):
                    deeper.append(item)
        level = deeper
    return False
