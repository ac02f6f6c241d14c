"""Random draws of the demo generator: picks, hashtag spellings, tokens and fake links.

``Draws`` wraps the run's single ``random.Random``; every piece of randomness
of a run goes through it in a fixed order, which is what makes the corpus a
pure function of (n_posts, seed).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Mapping, Sequence

from swarmlens.classifier.demo.wordbanks import Tag

__all__ = ["Draws"]

_TOKEN_FIX = str.maketrans("-_", "Kx")


class Draws:
    """Random primitives over one seeded source."""

    def __init__(self, rng: random.Random, news_domains: Mapping[str, Sequence[str]]) -> None:
        """rng: the run's random source; news_domains: language -> made-up news domains."""
        # Bound methods: the hot loop calls these hundreds of thousands of times.
        self.rnd = rng.random
        self.bits = rng.getrandbits
        self.news_domains = news_domains

    # small helpers: index arithmetic instead of rng.choice is several times faster
    def pick(self, seq: Sequence[str]) -> str:
        """A uniformly chosen element. seq: a non-empty sequence of strings."""
        return seq[int(self.rnd() * len(seq))]

    def tag(self, tags: Sequence[Tag]) -> str:
        """One spelling of one hashtag, the canonical spelling most often.

        tags: candidate hashtags, each a tuple of spellings (canonical first).
        """
        return self.spelling(tags[int(self.rnd() * len(tags))])

    def spelling(self, spellings: Tag) -> str:
        """The canonical spelling 60% of the time, else one of the variants.

        spellings: one hashtag's spellings, canonical first.
        """
        r = self.rnd()
        if r < 0.6 or len(spellings) == 1:
            return spellings[0]
        return spellings[1 + int((r - 0.6) / 0.4 * (len(spellings) - 1))]

    def tags(self, tags: Sequence[Tag], k: int) -> list[str]:
        """Spellings of up to k distinct hashtags.

        tags: candidate hashtags; k: how many to draw (a hashtag drawn twice is
        kept once, so '#Baqiya #baqiya' never appears in one post).
        """
        out: list[str] = []
        seen: list[Tag] = []
        for _ in range(k):
            spellings = tags[int(self.rnd() * len(tags))]
            if spellings in seen:
                continue
            seen.append(spellings)
            out.append(self.spelling(spellings))
        return out

    def token(self, k: int) -> str:
        """Random alphanumeric token. k: its length (at most 16)."""
        # base64 runs in C; '-' and '_' are mapped to letters to look like t.co ids.
        raw = base64.urlsafe_b64encode(self.bits(96).to_bytes(12, "little"))
        return raw[:k].decode("ascii").translate(_TOKEN_FIX)

    def link(self, kind: str, lang: str, created: str, channel: str) -> str:
        """A fake URL of the given kind.

        kind: 'justpaste', 'archive', 'tme', 'tco', 'pic' or 'news';
        lang: language (picks a news domain); created: the post's ISO time;
        channel: handle used for t.me links.
        """
        if kind == "tco":
            return f"https://t.co/{self.token(10)}"
        if kind == "justpaste":
            return f"https://justpaste.it/{self.token(5).lower()}"
        if kind == "archive":
            stamp = created[0:4] + created[5:7] + created[8:10] + created[11:13] + created[14:16]
            return (
                f"https://web.archive.org/web/{stamp}{created[17:19]}/"
                f"http://justpaste.it/{self.token(5).lower()}"
            )
        if kind == "tme":
            return f"https://t.me/{channel}/{1 + int(self.rnd() * 4000)}"
        if kind == "pic":
            return f"pic.twitter.com/{self.token(10)}"
        domain = self.pick(self.news_domains[lang])
        return (
            f"https://{domain}/{created[0:4]}/{created[5:7]}/{created[8:10]}/"
            f"paris-{self.token(6).lower()}"
        )
