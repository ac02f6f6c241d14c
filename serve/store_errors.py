"""What a DuckDB failure of the server's store means, as an error that says what to do.

DuckDB names every failure of the file in its message only (``IOException`` covers the
owner's lock, a truncated file and a full disk alike), so the kinds are told apart by
the messages DuckDB writes: the lock of another process (E009), a damaged file or no
database at all (E045), a disk that is full (E046), an attached dataset's file that
cannot be read (E033). Anything else is left as it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from swarmlens.classifier.errors import (
    DatasetGoneError,
    StoreDamagedError,
    StoreFullError,
    StoreLockedError,
    SwarmlensError,
)

log = logging.getLogger(__name__)

_LOCKED = ("could not set lock", "conflicting lock")
_FULL = ("no space left on device", "disk quota exceeded", "file too large")
_DAMAGED = (
    "corrupt database file",
    "not a valid duckdb database",
    "could not read enough bytes",
    "is a directory",
    "database has been invalidated",
    "checksum",
    "serialization error",
)
_MOVE_ASIDE = (
    "stop the server, move {path} aside (or restore it from a backup) and start again: a "
    "new, empty store is made; re-attach the datasets (POST /v1/datasets or --attach)"
)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def open_error(exc: duckdb.Error, path: Path) -> SwarmlensError:
    """The error for a store file DuckDB could not open: another owner, or damage."""
    text = str(exc).lower()
    if any(marker in text for marker in _LOCKED):
        return StoreLockedError(
            f"cannot open {path}: another swarmlens server owns it; stop it or use another "
            "--data-dir"
        )
    if any(marker in text for marker in _FULL):
        return full_error(exc, path)
    return damaged_error(exc, path)


def damaged_error(exc: BaseException, path: Path) -> StoreDamagedError:
    return StoreDamagedError(
        f"the store {path} is damaged or is no DuckDB database ({_reason(exc)}): "
        + _MOVE_ASIDE.format(path=path)
    )


def full_error(exc: BaseException, path: Path) -> StoreFullError:
    return StoreFullError(
        f"the store {path} could not write ({_reason(exc)}): nothing of this request was "
        "stored; free space on the data disk, then retry"
    )


_NAMED_FILE = re.compile(r"""file ["']([^"']+)["']""", re.IGNORECASE)


def translate(exc: BaseException, path: Path) -> SwarmlensError | None:
    """E046 for a full disk, E045 for a damaged store file, E033 for an attached dataset's
    file that cannot be read, None for any other failure."""
    if not isinstance(exc, duckdb.Error):
        return None
    text = str(exc).lower()
    if any(marker in text for marker in _FULL):
        return full_error(exc, path)
    # A file DuckDB names that is not the store's (nor its WAL or spill files) is an
    # attached dataset's: a Parquet file cut short is no damage of the store (and
    # /healthz stays ok).
    named = sorted(set(_NAMED_FILE.findall(str(exc))))
    if any(not found.startswith(str(path)) for found in named):
        shown = ", ".join(named)
        return DatasetGoneError(
            f"an attached dataset's file cannot be read ({_reason(exc)}): restore {shown}, "
            "or detach its dataset (GET /v1/datasets lists them)"
        )
    if any(marker in text for marker in _DAMAGED):
        return damaged_error(exc, path)
    return None


def verify(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Read every block of every table once (DuckDB checks each block's checksum as it
    reads it): a store with a damaged block is refused at start-up instead of answering
    500 to every query that touches the block. Raises StoreDamagedError."""
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
            "current_database() ORDER BY ALL"
        ).fetchall()
        for schema, table in tables:
            # One aggregate per column makes DuckDB read every column's blocks (count(*)
            # or a hash of the whole row read none of them).
            columns = con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = "
                "current_database() AND schema_name = $s AND table_name = $t",
                {"s": schema, "t": table},
            ).fetchall()
            reads = ", ".join(f'bit_xor(hash("{name}"))' for (name,) in columns) or "count(*)"
            con.execute(f'SELECT {reads} FROM "{schema}"."{table}"').fetchall()
        blocks, block_size = con.execute(
            "SELECT total_blocks, block_size FROM pragma_database_size() "
            "WHERE database_name = current_database()"
        ).fetchone()
    except duckdb.Error as exc:
        raise damaged_error(exc, path) from None
    # A file cut short can still answer every query (its last blocks held nothing read
    # yet) and fail the first write or checkpoint that needs them: refused by its size.
    # DuckDB's file is three 4 KiB headers, then its blocks.
    expected = 3 * 4096 + int(blocks) * int(block_size)
    size = path.stat().st_size
    if size < expected:
        raise damaged_error(
            RuntimeError(f"truncated: {size} bytes where its {blocks} blocks need {expected}"),
            path,
        )


@contextmanager
def transaction(cursor: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT, rolled back on any failure. A COMMIT that failed (a full disk)
    has ended the transaction already: its ROLLBACK would raise over the real cause."""
    cursor.execute("BEGIN TRANSACTION")
    try:
        yield
        cursor.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.Error):
            cursor.execute("ROLLBACK")
        raise
