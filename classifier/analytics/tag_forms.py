"""The spelling readers see for a hashtag: its most frequent original spelling.

A hashtag's canonical key ('الدولهالاسلاميهتضربفرنسا', 'parisisburning') is its identity:
every count, filter and URL uses it. Readers should see the tag as people wrote it
('الدولة_الإسلامية_تضرب_فرنسا', 'ParisIsBurning'), so scored posts keep each tag's
spelling beside its key (``hashtag_forms``, parallel to ``hashtags``) and the answers
name the key's most frequent spelling as ``display``.

A *forms relation* has the columns (key, form, n): n posts spelled ``key`` as ``form``.
``form_counts`` builds one from scored posts; the server also keeps one per attached
dataset (``agg_tag_forms``). Datasets scored before spellings were kept have no
``hashtag_forms`` column: their tags display as their key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb

FORMS_COLUMN = "hashtag_forms"


def form_counts(source: str) -> str:
    """Forms relation over scored posts in ``source`` (a table expression holding
    ``hashtags`` and ``hashtag_forms``)."""
    # Two unnests in one SELECT walk the lists side by side; a row whose lists disagree in
    # length (never written so, but a file is data) is left out rather than misaligned.
    return f"""(SELECT key, form, count(*)::BIGINT AS n FROM (
        SELECT unnest(hashtags) AS key, unnest({FORMS_COLUMN}) AS form FROM {source}
        WHERE len({FORMS_COLUMN}) = len(hashtags))
        WHERE key IS NOT NULL AND form IS NOT NULL GROUP BY key, form)"""


def has_forms(con: duckdb.DuckDBPyConnection, source: str) -> bool:
    """Whether the scored posts in ``source`` carry the tags' spellings."""
    described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    return any(row[0] == FORMS_COLUMN for row in described)


def displays(
    con: duckdb.DuckDBPyConnection, forms: str | None, keys: Iterable[str]
) -> dict[str, str]:
    """{key: the spelling to show} for ``keys``: the most frequent form in the forms
    relation ``forms``; a tie goes to the form first in code point order (so 'ParisIsBurning'
    before 'parisisburning'), whatever order the rows come in. A key without a known form
    (or ``forms`` None) shows as itself."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, str] = {}
    if forms is not None and wanted:
        rows = con.execute(
            f"""SELECT key, form FROM (
                SELECT key, form, sum(n) AS m FROM {forms}
                WHERE key IN (SELECT unnest($keys)) GROUP BY key, form)
            QUALIFY row_number() OVER (PARTITION BY key ORDER BY m DESC, encode(form)) = 1
            """,
            {"keys": wanted},
        ).fetchall()
        found = dict(rows)
    return {key: found.get(key) or key for key in wanted}


def with_display(
    items: list[dict[str, Any]], con: duckdb.DuckDBPyConnection, forms: str | None
) -> list[dict[str, Any]]:
    """``items`` (each with a 'hashtag' key) with 'display' set beside it, in place."""
    shown = displays(con, forms, (item["hashtag"] for item in items))
    for item in items:
        item["display"] = shown[item["hashtag"]]
    return items
