"""Synthetic, deterministic, multilingual demo corpus (November 2015 Paris hashtags).

Modules: ``generator`` (public API), ``stream`` (post order, retweets, replies),
``texts`` (per-class composers), ``draws`` (random primitives), ``accounts``
(fake authors), ``scenario`` (period, mixes, intensity curves), ``wordbanks``
(loader of the JSON word banks in ``banks/``) and ``exports`` (Twitter and
Telegram formats).
"""

from swarmlens.classifier.demo.generator import (
    DEMO_SEED,
    DEMO_SIZE,
    generate_demo,
    to_telegram_export,
    to_twitter_v1,
    to_twitter_v2_page,
    write_demo_jsonl,
)

__all__ = [
    "DEMO_SEED",
    "DEMO_SIZE",
    "generate_demo",
    "to_telegram_export",
    "to_twitter_v1",
    "to_twitter_v2_page",
    "write_demo_jsonl",
]
