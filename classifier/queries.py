"""Questions asked of scored datasets, answered by DuckDB straight from Parquet.

The CLI and the API share these functions, so both count the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from classifier.config import LABELS


def parquet_source(paths: Sequence[str | Path]) -> str:
    """A DuckDB table expression over scored Parquet files or dataset directories."""
    files: list[str] = []
    for path in paths:
        p = Path(path)
        files.append(str(p / "**" / "*.parquet") if p.is_dir() else str(p))
    quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"read_parquet([{quoted}], hive_partitioning = false, union_by_name = true)"


def top_hashtags(
    source: str, limit: int = 10, con: duckdb.DuckDBPyConnection | None = None
) -> list[dict[str, Any]]:
    """Hashtags by number of posts, with per-label counts and flood share.

    source: a table expression (``parquet_source``) or table name.
    flood_share = opposing / (supportive + opposing): how much of the
    stance-taking volume of a tag is opposition (None when there is none).
    """
    con = con or duckdb.connect()
    per_label = ", ".join(
        f"count(*) FILTER (WHERE label = '{label}') AS {label}" for label in LABELS
    )
    rows = con.execute(
        f"""
        SELECT tag AS hashtag, count(*) AS total, {per_label}
        FROM (SELECT unnest(hashtags) AS tag, label FROM {source})
        GROUP BY tag ORDER BY total DESC, tag LIMIT ?
        """,
        [limit],
    ).fetchall()
    out = []
    for tag, total, *counts in rows:
        item: dict[str, Any] = {
            "hashtag": tag,
            "total": total,
            **dict(zip(LABELS, counts, strict=True)),
        }
        stance = item["supportive"] + item["opposing"]
        item["flood_share"] = round(item["opposing"] / stance, 4) if stance else None
        out.append(item)
    return out
