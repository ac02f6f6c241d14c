"""The network structure of the demo corpus, after the second seed article.

* News outlets and opponents gather around a few hubs: their retweets go to the recent
  posts of the most active accounts of their pool, and each retweeter stays loyal to one
  hub (it "only engages with a single user").
* Supporters are a dispersed swarm: their retweets go to any recent supporter post alike.
* A small relay group pushes the same justpaste.it / archive.org link within seconds,
  again and again.
* Some supporter accounts vanish (suspended) and come back under a new handle.

None of this draws from the run's main random source: choices reuse the draw the stream
makes anyway, or come from a second source seeded from the run's seed, so every other
field of the corpus (times, classes, languages, texts) stays what it was.
"""

from __future__ import annotations

import random
import zlib

from swarmlens.classifier.demo.accounts import syllables

__all__ = ["HUBS", "RELAY_SIZE", "Swarm"]

HUBS = 3
"""Hub accounts per (class, language) pool: the pool's most active accounts."""
RELAY_SIZE = 5
P_PUSH = 0.012
"""Chance that a supporter's Twitter post after the attacks starts a relay push."""
PUSH_GAP_S = 4
"""Seconds between the posts of one push (at most: never later than the stream's own)."""
P_REBORN = 0.3
"""Share of supporter Twitter accounts suspended once, returning under a new handle."""

Original = tuple[str, str, str]
"""(post id, author handle, text) of a post others can retweet."""


def _hash(text: str) -> int:
    # crc32, not hash(): str hashes change from one process to the next.
    return zlib.crc32(text.encode("utf-8"))


class Swarm:
    """The structural choices of one demo run."""

    def __init__(self, seed: int, n_pools: int, namespace: str = "") -> None:
        """namespace: '' for the demo corpus, the training corpus's otherwise (see
        ``accounts.handle``): its relay accounts are others too."""
        self.rng = random.Random(seed * 7919 + 17)
        self.n_pools = n_pools
        self.relays = [f"demo_{namespace}relay_{syllables(i)}" for i in range(RELAY_SIZE)]
        self.relay_group = f"demo-{namespace}relay"
        self.hub_posts: dict[tuple[int, str], list[Original]] = {}

    # -- hubs ------------------------------------------------------------------------------

    def is_hub(self, group: str) -> bool:
        """Whether the author with this group id is one of its pool's ``HUBS`` most active."""
        return int(group[6:]) // self.n_pools < HUBS

    def remember_hub_post(self, key: tuple[int, str], original: Original) -> None:
        posts = self.hub_posts.setdefault(key, [])
        posts.append(original)
        if len(posts) > 60:
            del posts[:30]

    def hub_target(self, key: tuple[int, str], retweeter: str, x: float) -> Original | None:
        """The post a loyal follower retweets: a recent post of its one hub, else None.

        x: the uniform draw the stream made for this choice.
        """
        posts = self.hub_posts.get(key)
        if not posts:
            return None
        hubs = sorted({p[1] for p in posts if p[1] != retweeter})
        if not hubs:
            return None
        hub = hubs[_hash(retweeter) % len(hubs)]
        own = [p for p in posts if p[1] == hub]
        return own[len(own) - 1 - int(len(own) * x * x)]

    # -- relay pushes ------------------------------------------------------------------------

    def push(self) -> bool:
        """Whether a supporter's Twitter post starts a relay push."""
        return self.rng.random() < P_PUSH

    def push_link(self, created: str) -> str:
        """The link one push spreads: a paste, or an archived copy of one."""
        token = "".join(self.rng.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(6))
        if self.rng.random() < 0.6:
            return f"https://justpaste.it/{token}"
        stamp = created[0:4] + created[5:7] + created[8:10] + created[11:13] + created[14:16]
        return f"https://web.archive.org/web/{stamp}00/http://justpaste.it/{token}"

    @staticmethod
    def retime(offsets: list[int], start: int, members: int) -> None:
        """Bring the next ``members - 1`` posts of a bin within seconds of post ``start``.

        Each moves earlier only (to at most ``PUSH_GAP_S`` seconds after the one before),
        so the bin stays sorted and the number of posts does not change.
        """
        for k in range(1, members):
            if start + k < len(offsets):
                offsets[start + k] = min(offsets[start + k], offsets[start] + k * PUSH_GAP_S)

    # -- suspensions -------------------------------------------------------------------------

    def reborn(self, handle: str, group: str, t: float) -> tuple[str, str]:
        """(handle, group) of a supporter account at ``t`` hours after the attacks: some are
        suspended between 6 and 60 hours in and return under a new handle (a new account)."""
        h = _hash(handle)
        if h % 1000 >= P_REBORN * 1000:
            return handle, group
        suspended_at = 6 + (h >> 10) % 55
        if t < suspended_at:
            return handle, group
        return f"{handle}_{syllables(h % 4900)}", f"{group}r"
