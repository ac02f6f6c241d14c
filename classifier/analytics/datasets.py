"""Scored datasets as DuckDB table expressions, whatever form ``swarmlens score`` wrote.

A scored output is a directory of Parquet files, one Parquet file, or JSON lines (plain or
gzip); ``dataset_source`` reads any mix of them with the columns of ``OUTPUT_SCHEMA`` and
refuses anything else with one line saying what to pass. ``parquet_source`` is the
Parquet-only form the server uses for the datasets it attaches.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from swarmlens.classifier.errors import InputError
from swarmlens.classifier.vocab import OUTPUT_SCHEMA, duckdb_columns


def parquet_source(paths: Sequence[str | Path], origin: bool = False) -> str:
    """A DuckDB table expression over scored Parquet files or dataset directories.

    origin: add the columns ``filename`` and ``file_row_number`` (where each row is), to
    keep the first copy of a post id a dataset holds twice (``first_copies``).
    """
    files: list[str] = []
    for path in paths:
        p = Path(path)
        files.append(str(p / "**" / "*.parquet") if p.is_dir() else str(p))
    quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    where = ", filename = true, file_row_number = true" if origin else ""
    return f"read_parquet([{quoted}], hive_partitioning = false, union_by_name = true{where})"


def first_copies(source: str) -> str:
    """One row per post id of ``source`` (made with ``origin=True``): the first copy in
    file order, so a dataset holding a part file twice counts each post once."""
    return (
        f"(SELECT * EXCLUDE (filename, file_row_number) FROM {source} QUALIFY row_number() "
        "OVER (PARTITION BY post_id ORDER BY filename, file_row_number) = 1)"
    )


MAX_PATH_BYTES = 4096
"""Longest dataset path accepted (Linux's PATH_MAX); longer cannot be opened anyway."""
_NOT_A_DATASET = (
    "dataset {path} cannot be attached: no readable scored dataset is there. Name a "
    "regular .parquet file written by `swarmlens score`, or its output directory (Parquet "
    "files directly in it or one level down, day=YYYY-MM-DD/)"
)


def not_a_dataset(path: str | Path) -> InputError:
    """The one refusal for a path that is missing, unreadable, or no regular file or
    directory: the same words whichever it is, so an API client cannot probe the server's
    file system through attach errors."""
    return InputError(_NOT_A_DATASET.format(path=_shown(str(path))))


def _shown(path: str) -> str:
    return path if len(path) <= 300 else path[:300] + "..."


def attachable(text: str | Path) -> Path:
    """The resolved path of a dataset to attach, checked without opening anything in it:
    a regular file, or a directory whose ``*.parquet`` are all regular files (a FIFO
    would block the reader forever, a device would stream without end). Raises
    InputError (E001) otherwise."""
    raw = str(text)
    if "\0" in raw or len(raw.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InputError(
            f"dataset path {_shown(raw)!r} holds a NUL byte or is over {MAX_PATH_BYTES} bytes: "
            "name the output of `swarmlens score`"
        )
    try:
        path = Path(raw).resolve()
        mode = path.stat().st_mode
    except (OSError, ValueError, RuntimeError):  # missing, no permission, too long, a loop
        raise not_a_dataset(raw) from None
    if stat.S_ISREG(mode):
        return path
    if not stat.S_ISDIR(mode):  # a FIFO, a device, a socket
        raise not_a_dataset(raw)
    _check_dataset_dir(path)
    try:
        for file in path.rglob("*.parquet"):
            if not stat.S_ISREG(file.stat().st_mode):
                raise InputError(
                    f"dataset {path} holds {file.relative_to(path)}, which is no regular file "
                    "(a FIFO, a device or a socket): remove it, then attach again"
                )
    except OSError:
        raise not_a_dataset(raw) from None
    return path


def _check_dataset_dir(path: Path) -> None:
    """Refuse at once a directory that is not a scored dataset (``/``, a home directory):
    attaching reads ``**/*.parquet``, which there would walk the whole file system. A
    dataset of ``swarmlens score`` holds its Parquet files directly or one level down
    (``day=YYYY-MM-DD/``), so only that much is looked at here."""
    if path == Path(path.anchor) or path == Path.home().resolve():
        raise InputError(
            f"dataset {path} is the file system root or a home directory: name the output "
            "directory of `swarmlens score` (or one .parquet file)"
        )
    try:
        with os.scandir(path) as entries:
            children = list(entries)
        for entry in children:
            if entry.name.endswith(".parquet") and entry.is_file():
                return
        for entry in children:
            if entry.is_dir(follow_symlinks=False):
                with os.scandir(entry.path) as inner:
                    if any(e.name.endswith(".parquet") and e.is_file() for e in inner):
                        return
    except OSError:
        pass
    raise not_a_dataset(path)


_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
_SCORED_COLUMNS = ("post_id", "label", "scores")
_WHAT_TO_PASS = (
    "pass what `swarmlens score --out` wrote: a .jsonl file, a .parquet file or an output "
    "directory"
)


def dataset_source(paths: Sequence[str | Path]) -> str:
    """A DuckDB table expression over scored outputs of every form ``swarmlens score``
    writes: a ``.jsonl`` file (or ``.jsonl.gz``), a ``.parquet`` file, a directory of
    Parquet files, in any mix. Every form gives the columns of ``OUTPUT_SCHEMA`` with the
    same types (a JSON line's ``created_at`` is ISO text, its ``scores`` an object).

    Raises InputError (E001) for a path that is none of these (a directory without
    Parquet files, a file of another kind, records that are not scored posts), naming it
    and what to pass instead.
    """
    parquet: list[str | Path] = []
    jsonl: list[str] = []
    for path in paths:
        p = Path(path)
        if _scored_kind(p) == "parquet":
            parquet.append(p)
        else:
            jsonl.append(str(p))
    parts = [f"SELECT * FROM {parquet_source(parquet)}"] if parquet else []
    if jsonl:
        parts.append(_jsonl_select(jsonl))
    if len(parts) == 1:
        return f"({parts[0]})"
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def _jsonl_select(files: list[str]) -> str:
    # Each column's DuckDB type; created_at is ISO 8601 text with its 'Z', cast below.
    kinds = {f.name: duckdb_columns(pa.schema([f])).split(" ", 1)[1] for f in OUTPUT_SCHEMA}
    kinds["created_at"] = "VARCHAR"
    spec = ", ".join(f"'{name}': '{kind}'" for name, kind in kinds.items())
    quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return (
        f"SELECT * REPLACE (CAST(created_at AS TIMESTAMPTZ) AS created_at) FROM read_json("
        f"[{quoted}], format = 'newline_delimited', columns = {{{spec}}})"
    )


def _scored_kind(path: Path) -> str:
    """'parquet' or 'jsonl': which scored output ``path`` is; InputError if neither."""
    if path.is_dir():
        first = next((f for f in path.rglob("*.parquet") if f.is_file()), None)
        if first is None:
            raise InputError(f"dataset {path} is a directory with no Parquet file: {_WHAT_TO_PASS}")
        _check_parquet(first, path)
        return "parquet"
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise InputError(f"dataset {path} cannot be read ({exc.strerror})") from None
    if head == b"PAR1":
        _check_parquet(path, path)
        return "parquet"
    if path.name.lower().endswith(_JSONL_SUFFIXES):
        _check_jsonl(path)
        return "jsonl"
    raise InputError(
        f"dataset {path} is neither JSON lines (.jsonl) nor Parquet: {_WHAT_TO_PASS}"
    )


def _check_parquet(file: Path, named: Path) -> None:
    import pyarrow.parquet as pq

    try:
        names = set(pq.read_schema(file).names)
    except (OSError, ValueError) as exc:
        where = f"{named}: {file}" if file != named else str(file)
        raise InputError(f"dataset {where} is not a readable Parquet file ({exc}): "
                         f"{_WHAT_TO_PASS}") from None
    _check_columns(names, named)


def _check_jsonl(file: Path) -> None:
    """The first line of a JSON lines output is a scored post (an empty output is one)."""
    import gzip
    import json

    try:
        opener = gzip.open if file.name.lower().endswith(".gz") else open
        with opener(file, "rb") as handle:
            line = next((raw for raw in handle if raw.strip()), None)
        record = json.loads(line) if line is not None else {}
    except (OSError, EOFError, ValueError) as exc:
        raise InputError(f"dataset {file} is not JSON lines ({exc}): {_WHAT_TO_PASS}") from None
    if line is not None:
        _check_columns(set(record) if isinstance(record, dict) else set(), file)


def _check_columns(names: set[str], path: Path) -> None:
    missing = [c for c in _SCORED_COLUMNS if c not in names]
    if missing:
        raise InputError(
            f"dataset {path} holds no scored posts (no {', '.join(repr(c) for c in missing)}): "
            f"score it first (`swarmlens score INPUT --out OUT`), then {_WHAT_TO_PASS}"
        )
