"""Fake authors of the demo corpus: handle spelling and per-pool author draws.

Authors are grouped in pools per (class, language, platform). Pool sizes scale
with the corpus size; every handle starts with ``demo_`` and group ids with
``demo-u``, so nothing can be mistaken for a real account.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from swarmlens.classifier.demo.scenario import CLASS_SHARE, LANG_SHARE, LANGS, NEU, TELEGRAM_SHARE

__all__ = ["POSTS_PER_AUTHOR", "Authors", "handle", "syllables"]

# Mean posts per author in each (class, platform) pool: news outlets and
# channels post a lot, individual accounts a few times.
POSTS_PER_AUTHOR = {
    (0, 0): 5.0,
    (0, 1): 25.0,
    (1, 0): 4.0,
    (1, 1): 10.0,
    (2, 0): 30.0,
    (2, 1): 40.0,
}

_SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")


def syllables(number: int) -> str:
    """Bijective base-70 spelling of ``number`` as pronounceable syllables.

    number: a non-negative integer; distinct numbers give distinct strings.
    """
    out = []
    number += 1
    while number > 0:
        number -= 1
        number, digit = divmod(number, len(_SYLLABLES))
        out.append(_SYLLABLES[digit])
    return "".join(out)


def handle(global_id: int, kind: int, news_suffixes: Sequence[str], namespace: str = "") -> str:
    """Obviously fake author handle.

    global_id: unique author number across all pools.
    kind: 0 individual Twitter account, 1 Twitter news outlet, 2 Telegram channel.
    news_suffixes: suffixes of news outlet handles (the 'outlets' word bank).
    namespace: '' for the demo corpus; the training corpus's ('tr_') makes its accounts
        others ('tr' is no syllable, so no handle of one corpus is one of the other's).
    """
    syl = syllables(global_id)
    if kind == 2:
        return f"demo_{namespace}ch_{syl}"
    if kind == 1:
        return f"demo_{namespace}{syl}_{news_suffixes[global_id % len(news_suffixes)]}"
    if global_id % 3 == 0:
        return f"demo_{namespace}{syl}{global_id % 89}"
    return f"demo_{namespace}{syl}"


class Authors:
    """The author pools of one generation run, with a bounded handle cache."""

    def __init__(self, n_posts: int, news_suffixes: Sequence[str], namespace: str = "") -> None:
        """n_posts: corpus size (scales the pools); news_suffixes, namespace: see ``handle``.

        Group ids are 'demo-u' + number in the demo corpus and 'demo-t' + number in the
        training corpus (same length: ``swarm.Swarm.is_hub`` reads the number at [6:]).
        """
        self.news_suffixes = news_suffixes
        self.namespace = namespace
        self.group_prefix = "demo-t" if namespace else "demo-u"
        # Author pools per (class, language, platform); pool p owns the
        # author numbers congruent to p, so handles never collide.
        self.pools: dict[tuple[int, str, int], tuple[int, int, int]] = {}
        keys = [(c, lang, tg) for c in range(3) for lang in LANGS for tg in (0, 1)]
        self.n_pools = len(keys)
        for p, (c, lang, tg) in enumerate(keys):
            share = CLASS_SHARE[c] * LANG_SHARE[c].get(lang, 0.0)
            share *= TELEGRAM_SHARE[c] if tg else 1.0 - TELEGRAM_SHARE[c]
            size = max(3, math.ceil(n_posts * share / POSTS_PER_AUTHOR[(c, tg)]))
            kind = 2 if tg else (1 if c == NEU else 0)
            self.pools[(c, lang, tg)] = (p, size, kind)
        self.handles: dict[int, tuple[str, str]] = {}

    def author(self, cls: int, lang: str, tg: int, r: float) -> tuple[str, str]:
        """(handle, group id) of an author of a pool.

        cls: class index; lang: language code; tg: 1 for Telegram, 0 for Twitter;
        r: a uniform draw in [0, 1); squaring it makes a few authors very active.
        """
        p, size, kind = self.pools[(cls, lang, tg)]
        gid = int(size * r * r) * self.n_pools + p
        known = self.handles.get(gid)
        if known is None:
            if len(self.handles) > 65536:
                # Bounded cache keeps a 1M-post run at constant memory.
                self.handles.clear()
            known = self.handles[gid] = (
                handle(gid, kind, self.news_suffixes, self.namespace),
                f"{self.group_prefix}{gid:07d}",
            )
        return known
