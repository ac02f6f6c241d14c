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
    "text": "VARCHAR",
}
"""What the network reads of scored posts; a column missing from an older dataset is NULL.
Scored outputs keep no ``text``: only a dataset that carries one (a Parquet file joined
with its texts) gives co-similar-text and the toolkit CSV's ``message``."""

PREPARED_TEXT = r"""trim(regexp_replace(regexp_replace(regexp_replace(lower({col}),
    '^\s*rt\s+@\w+:?', ' '), '(https?://\S*|www\.\S*|@\w+)', ' ', 'g'), '\s+', ' ', 'g'))"""
"""The text compared for co-similar-text and for a retweet's key when it has no
``retweet_of``: lowercased, a leading 'RT @handle:' dropped, URLs and @mentions removed
(as ``text.prepare`` masks them), spaces collapsed."""


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
    hashtag). A post is a retweet (``rt``) when it names the retweeted post or only its
    author (an 'RT @user:' text): either gives a retweet edge, and its links are never
    shares. ``repost`` is what a retweet repeats, for co-retweets: ``retweet_of``, else
    (with text) the retweeted author and the prepared text, else NULL (no co-retweet can
    be told). A post id counts once: its earliest copy (the first read on a tie). Returns
    the temporary table's name.
    """
    where, params = queries.hashtag_window(canonical_hashtag(hashtag), start, end)
    where.append("author IS NOT NULL")
    # In steps, to bound memory: picking one copy per post id in the same query as the
    # filter (a window, or DuckDB's arg_min over a struct of every column) held ~4 GB for
    # the 2.4M posts of a 10M-post archive; the filtered rows alone are ~0.3 GB, and the
    # copy to keep is chosen by row id, a narrow key.
    kept = ", ".join(c for c in NETWORK_COLUMNS if c != "hashtags")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE network_hashtag_posts AS
            SELECT {kept} FROM {source} WHERE {" AND ".join(where)}""",
        params,
    )
    try:
        return _network_posts(con, source)
    finally:
        con.execute("DROP TABLE IF EXISTS network_hashtag_posts")


def _network_posts(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """``network_posts`` from ``network_hashtag_posts`` (one row per post id) and, for
    retweets that name only the retweeted post, its author from ``source``."""
    orphans = con.execute(
        """SELECT count(*) FROM network_hashtag_posts
           WHERE retweet_of IS NOT NULL AND retweet_of_author IS NULL"""
    ).fetchone()[0]
    # Reading the whole source again for the originals' authors only when one is wanted.
    originals = (
        f"""SELECT post_id, any_value(author) AS author FROM {source}
            WHERE post_id IN (SELECT retweet_of FROM p
                              WHERE retweet_of IS NOT NULL AND retweet_of_author IS NULL)
            GROUP BY post_id"""
        if orphans
        else "SELECT NULL::VARCHAR AS post_id, NULL::VARCHAR AS author WHERE false"
    )
    prepared = PREPARED_TEXT.format(col="p.text")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE network_posts AS
        WITH first AS (SELECT arg_min(rowid, (created_at, rowid)) AS r
                       FROM network_hashtag_posts GROUP BY post_id),
        p AS (SELECT * FROM network_hashtag_posts WHERE rowid IN (SELECT r FROM first)),
        o AS ({originals})
        SELECT p.post_id, p.author, p.created_at AS t, epoch(p.created_at) AS e, p.label,
               p.retweet_of, coalesce(p.retweet_of_author, o.author) AS retweeted,
               p.retweet_of IS NOT NULL OR p.retweet_of_author IS NOT NULL AS rt,
               CASE WHEN p.retweet_of IS NOT NULL THEN p.retweet_of
                    WHEN p.retweet_of_author IS NOT NULL AND nullif({prepared}, '') IS NOT NULL
                    THEN 'rt:' || p.retweet_of_author || ':' || md5({prepared}) END AS repost,
               p.reply_to, list_filter(coalesce(p.urls, []), lambda u: u <> '') AS urls, p.text
        FROM p LEFT JOIN o ON o.post_id = p.retweet_of
        """
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


_SHARES = """(SELECT DISTINCT author, unnest(urls) AS url, e FROM {posts} WHERE NOT rt)"""
# A retweet repeats its original's links by construction: only posts count as shares, as
# in the coordination-network-toolkit's co-link network (an empty link is none).

CO_ACTIONS = {
    "link": "(SELECT DISTINCT author, unnest(urls) AS item, e FROM {posts} WHERE NOT rt)",
    "retweet": "(SELECT DISTINCT author, repost AS item, e FROM {posts} WHERE repost IS NOT NULL)",
    "reply": """(SELECT DISTINCT author, reply_to AS item, e FROM {posts}
                  WHERE reply_to IS NOT NULL AND NOT rt)""",
}
"""What each kind of co-action shares: a link (posts only), the retweeted post, the
post replied to (retweets aside, as in the toolkit)."""


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


def co_action_pairs(
    con: duckdb.DuckDBPyConnection,
    posts: str,
    kind: str,
    window_s: float,
    min_co_actions: int = 2,
) -> list[tuple[str, str, int, list[str]]]:
    """(account a, account b, co-actions, the items) for accounts that both acted on the
    same item within ``window_s`` seconds of each other, for at least ``min_co_actions``
    distinct items; kind: 'link' (posted the same link), 'retweet' (retweeted the same
    post) or 'reply' (replied to the same post)."""
    return con.execute(
        f"""
        WITH s AS {CO_ACTIONS[kind].format(posts=posts)},
        pairs AS (SELECT DISTINCT x.author AS a, y.author AS b, x.item FROM s x JOIN s y
                  ON x.item = y.item AND x.author < y.author AND y.e >= x.e - $w
                  AND y.e <= x.e + $w)
        SELECT a, b, count(*)::BIGINT AS n, list(item ORDER BY item) FROM pairs
        GROUP BY a, b HAVING n >= $k ORDER BY a, b
        """,
        {"w": window_s, "k": min_co_actions},
    ).fetchall()


def texts_available(con: duckdb.DuckDBPyConnection, posts: str) -> int:
    """How many of ``posts`` (retweets aside) carry a text to compare."""
    return int(con.execute(
        f"SELECT count(*) FROM {posts} WHERE NOT rt AND nullif(trim(text), '') IS NOT NULL"
    ).fetchone()[0])


def similar_text_pairs(
    con: duckdb.DuckDBPyConnection,
    posts: str,
    window_s: float,
    min_co_actions: int = 2,
    threshold: float = 0.8,
    min_words: int = 5,
) -> list[tuple[str, str, int, list[str]]]:
    """(account a, account b, co-actions, the posts) for accounts that posted near-identical
    texts within ``window_s`` seconds: the Jaccard similarity of the prepared texts' word
    sets at least ``threshold`` (retweets aside; texts of fewer than ``min_words``
    distinct words never match, as the toolkit's ``MinDocSizeSimilarity``). A pair's
    co-actions are the fewer of its two accounts' matched posts, at least
    ``min_co_actions``."""
    prepared = PREPARED_TEXT.format(col="text")
    return con.execute(
        rf"""
        WITH w AS (SELECT post_id, author, e,
                          list_distinct(list_filter(
                              regexp_split_to_array({prepared}, '[^\p{{L}}\p{{N}}_]+'),
                              lambda x: x <> '')) AS words
                   FROM {posts} WHERE NOT rt AND text IS NOT NULL),
        s AS (SELECT *, len(words) AS nw FROM w WHERE len(words) >= $m),
        m AS (SELECT x.author AS a, y.author AS b, x.post_id AS px, y.post_id AS py
              FROM s x JOIN s y ON x.author < y.author AND y.e >= x.e - $w AND y.e <= x.e + $w
              AND y.nw >= $t * x.nw AND x.nw >= $t * y.nw
              WHERE len(list_intersect(x.words, y.words))
                    >= $t * (x.nw + y.nw - len(list_intersect(x.words, y.words))))
        SELECT a, b, least(count(DISTINCT px), count(DISTINCT py))::BIGINT AS n,
               list_sort(list_distinct(flatten([list(px), list(py)])))
        FROM m GROUP BY a, b HAVING n >= $k ORDER BY a, b
        """,
        {"w": window_s, "k": min_co_actions, "t": threshold, "m": min_words},
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
    """SELECT of ``posts`` in the coordination-network-toolkit's input columns.

    ``repost_id`` is what a retweet repeats (``repost``), or for a retweet known only by
    its author (an 'RT @user:' text without text kept) a key of its own, so that the
    toolkit still treats it as a repost (its links are no shares) and pairs it with no
    one; ``reply_id`` is ``reply_to``; ``message`` is the text where the data has one
    (scored outputs keep none: empty)."""
    return f"""SELECT post_id AS message_id, author AS user_id, author AS username,
                      CASE WHEN repost IS NOT NULL THEN repost
                           WHEN rt THEN 'rt:' || post_id ELSE '' END AS repost_id,
                      coalesce(reply_to, '') AS reply_id,
                      coalesce(text, '') AS message, floor(e)::BIGINT AS timestamp,
                      array_to_string(urls, ' ') AS urls
               FROM {posts} ORDER BY e, post_id"""
