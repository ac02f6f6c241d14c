"""The SQL of a hashtag's network (``swarmlens network``, ``GET /v1/hashtags/{tag}/network``).

The companion of ``queries`` (which it shares connections and conventions with), kept
apart for size: the CLI and the API both read the network's data only through here.
DuckDB does the work that grows with the archive (filtering a hashtag's posts out of a
Parquet dataset, the weighted retweet edge list, link co-shares, churn); what is left for
Python (``classifier/network``) is a graph of accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from swarmlens.classifier.analytics import queries
from swarmlens.classifier.text.entities import canonical_hashtag

NETWORK_COLUMNS = {
    "post_id": "VARCHAR",
    "author": "VARCHAR",
    "created_at": "TIMESTAMPTZ",
    "label": "VARCHAR",
    "hashtags": "VARCHAR[]",
    "retweet_of": "VARCHAR",
    "retweet_of_author": "VARCHAR",
    "reply_to": "VARCHAR",
    "urls": "VARCHAR[]",
}
"""What the network reads of scored posts; a column missing from an older dataset is NULL."""


def network_source(con: duckdb.DuckDBPyConnection, sources: Sequence[str]) -> str:
    """A table expression with ``NETWORK_COLUMNS`` over table expressions ``sources``
    (Parquet datasets, the store's ``posts``), NULL where a source lacks a column."""
    parts = []
    for source in sources:
        have = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        columns = ", ".join(
            name if name in have else f"NULL::{kind} AS {name}"
            for name, kind in NETWORK_COLUMNS.items()
        )
        parts.append(f"SELECT {columns} FROM {source}")
    return "(" + " UNION ALL ".join(parts) + ")"


def create_network_posts(
    con: duckdb.DuckDBPyConnection,
    source: str,
    hashtag: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """Materialise the posts of ``hashtag`` in [start, end) as a temporary table and name it.

    source: a ``network_source`` expression. The retweeted author is taken from the
    source when it gave one, else from the original post when it is in the data (any
    hashtag). A post id counts once. Returns the temporary table's name.
    """
    where, params = queries.hashtag_window(canonical_hashtag(hashtag), start, end)
    where.append("author IS NOT NULL")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE network_posts AS
        WITH src AS (SELECT * FROM {source}),
        p AS (SELECT * FROM src WHERE {" AND ".join(where)} QUALIFY
              row_number() OVER (PARTITION BY post_id ORDER BY created_at) = 1),
        o AS (SELECT post_id, any_value(author) AS author FROM src
              WHERE post_id IN (SELECT retweet_of FROM p
                                WHERE retweet_of IS NOT NULL AND retweet_of_author IS NULL)
              GROUP BY post_id)
        SELECT p.post_id, p.author, p.created_at AS t, epoch(p.created_at) AS e, p.label,
               p.retweet_of, coalesce(p.retweet_of_author, o.author) AS retweeted,
               p.reply_to, coalesce(p.urls, []) AS urls
        FROM p LEFT JOIN o ON o.post_id = p.retweet_of
        """,
        params,
    )
    return "network_posts"


def retweet_edges(con: duckdb.DuckDBPyConnection, posts: str) -> list[tuple[str, str, int]]:
    """(retweeter, retweeted author, retweets) of ``posts``; self-retweets left out."""
    return con.execute(
        f"""SELECT author, retweeted, count(*)::BIGINT AS n FROM {posts}
            WHERE retweeted IS NOT NULL AND retweeted <> author
            GROUP BY ALL ORDER BY author, retweeted"""
    ).fetchall()


def account_labels(con: duckdb.DuckDBPyConnection, posts: str) -> list[tuple[str, str, int]]:
    """(account, label, posts) of ``posts``: the stance mix of each account's posts."""
    return con.execute(
        f"SELECT author, label, count(*)::BIGINT FROM {posts} GROUP BY ALL ORDER BY ALL"
    ).fetchall()


_SHARES = """(SELECT DISTINCT author, unnest(urls) AS url, e FROM {posts}
              WHERE retweet_of IS NULL)"""
# A retweet repeats its original's links by construction: only posts count as shares, as
# in the coordination-network-toolkit's co-link network.


def coordination_window(
    con: duckdb.DuckDBPyConnection, posts: str, q: float = 0.1, p: float = 0.5
) -> float | None:
    """The coordination interval estimated from the data as CooRnet does, in seconds.

    Among links shared more than once, keep the quickest ``q`` (by the delay of their
    second share); for each, the delay until more than ``p`` of its shares were made;
    the interval is the ``p`` quantile of those delays. None when no link is shared twice.
    """
    row = con.execute(
        f"""
        WITH s AS {_SHARES.format(posts=posts)},
        r AS (SELECT url, e - min(e) OVER (PARTITION BY url) AS dt,
                     row_number() OVER (PARTITION BY url ORDER BY e, author) AS rk,
                     count(*) OVER (PARTITION BY url) AS n FROM s),
        second AS (SELECT url, dt FROM r WHERE n > 1 AND rk = 2),
        quick AS (SELECT url FROM second
                  WHERE dt <= (SELECT quantile_cont(dt, $q) FROM second)),
        reach AS (SELECT url, min(dt) AS dt FROM r
                  WHERE url IN (SELECT url FROM quick) AND rk / n > $p GROUP BY url)
        SELECT quantile_cont(dt, $p) FROM reach
        """,
        {"q": q, "p": p},
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def coshare_pairs(
    con: duckdb.DuckDBPyConnection, posts: str, window_s: float, min_co_shares: int = 2
) -> list[tuple[str, str, int, list[str]]]:
    """(account a, account b, links co-shared, the links) for accounts that posted the same
    link within ``window_s`` seconds of each other, for at least ``min_co_shares`` links."""
    return con.execute(
        f"""
        WITH s AS {_SHARES.format(posts=posts)},
        pairs AS (SELECT DISTINCT x.author AS a, y.author AS b, x.url FROM s x JOIN s y
                  ON x.url = y.url AND x.author < y.author AND y.e >= x.e - $w
                  AND y.e <= x.e + $w)
        SELECT a, b, count(*)::BIGINT AS n, list(url ORDER BY url) FROM pairs
        GROUP BY a, b HAVING n >= $k ORDER BY a, b
        """,
        {"w": window_s, "k": min_co_shares},
    ).fetchall()


def active_accounts(
    con: duckdb.DuckDBPyConnection, posts: str, origin: datetime, hours: int
) -> list[tuple[int, int, int, int, int]]:
    """Churn per window of ``hours`` from ``origin``: (window, active, appeared (not
    active in the window before), new (never active before), stopped (active in the
    window before, not in this one)), for windows with any post or any stop."""
    return con.execute(
        f"""
        WITH a AS (SELECT DISTINCT author,
                          floor((e - epoch($o::TIMESTAMPTZ)) / ($h * 3600))::BIGINT AS w
                   FROM {posts}),
        f AS (SELECT author, min(w) AS first FROM a GROUP BY author),
        cur AS (SELECT c.w, count(*) AS active,
                       count(*) FILTER (WHERE p.author IS NULL) AS appeared,
                       count(*) FILTER (WHERE f.first = c.w) AS new
                FROM a c JOIN f USING (author)
                LEFT JOIN a p ON p.author = c.author AND p.w = c.w - 1 GROUP BY c.w),
        gone AS (SELECT p.w + 1 AS w, count(*) AS stopped FROM a p
                 LEFT JOIN a n ON n.author = p.author AND n.w = p.w + 1
                 WHERE n.author IS NULL GROUP BY p.w + 1)
        SELECT coalesce(cur.w, gone.w) AS w, coalesce(active, 0)::BIGINT,
               coalesce(appeared, 0)::BIGINT, coalesce(new, 0)::BIGINT,
               coalesce(stopped, 0)::BIGINT
        FROM cur FULL JOIN gone USING (w) ORDER BY w
        """,
        {"o": origin, "h": hours},
    ).fetchall()


def message_rows(con: duckdb.DuckDBPyConnection, posts: str) -> str:
    """SELECT of ``posts`` in the coordination-network-toolkit's input columns (the scored
    output keeps no text, so ``message`` is empty)."""
    return f"""SELECT post_id AS message_id, author AS user_id, author AS username,
                      coalesce(retweet_of, '') AS repost_id, coalesce(reply_to, '') AS reply_id,
                      '' AS message, floor(e)::BIGINT AS timestamp,
                      array_to_string(urls, ' ') AS urls
               FROM {posts} ORDER BY e, post_id"""
