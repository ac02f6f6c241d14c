"""The post stream of one demo run: time order, classes, platforms, retweets and replies.

``records`` walks the per-bin plan of ``scenario.plan``: it draws each bin's
timestamps and sorts them on their own (so memory does not grow with
``n_posts``), then for every post its class, language, platform and author,
and either a retweet of a recent original, a reply, or fresh text from
``texts.Composer``; ``swarm`` shapes who retweets whom (hubs, a dispersed swarm), the
relay group's pushes and the accounts that return under new handles.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from typing import Any

from swarmlens.classifier.demo.accounts import Authors
from swarmlens.classifier.demo.scenario import (
    BIN_SECONDS,
    LABELS,
    LANG_CUM,
    NEU,
    OPP,
    P_REPLY,
    P_RETWEET,
    SUP,
    TELEGRAM_SHARE,
    Bin,
    plan,
)
from swarmlens.classifier.demo.swarm import Swarm
from swarmlens.classifier.demo.texts import Composer
from swarmlens.classifier.demo.wordbanks import load_banks

__all__ = ["records"]


TRAINING_NAMESPACE = "tr_"
"""Handle namespace of the training corpus (``accounts.handle``): other accounts."""


def records(n_posts: int, seed: int, training: bool = False) -> Iterator[dict[str, Any]]:
    """Iterator over the n_posts records of the run ``seed``, in time order.

    n_posts: corpus size (>= 0, checked by the caller); seed: the run's seed.
    training: the default model's training corpus instead of the demo corpus: other
        accounts (handles 'demo_tr_...', groups 'demo-t...', post ids 'demo-tr-...') and
        clear-cut texts (``texts.Composer``'s ``clear``), so the demo corpus's confusable
        posts are ones the model has not seen.
    The plan, pools and banks are set up now; records are made lazily.
    """
    banks = load_banks()
    namespace = TRAINING_NAMESPACE if training else ""
    authors = Authors(n_posts, banks.news_suffixes, namespace)
    composer = Composer(random.Random(seed), banks, authors, clear=training)
    width = max(6, len(str(max(n_posts - 1, 0))))
    swarm = Swarm(seed, authors.n_pools, namespace)
    prefix = "demo-tr-" if training else "demo-"
    return _run(composer, swarm, plan(n_posts), width, prefix)


def _run(
    composer: Composer, swarm: Swarm, bins: list[Bin], width: int, id_prefix: str = "demo-"
) -> Iterator[dict[str, Any]]:
    """Yield the records of ``bins`` in time order.

    composer: the run's text composer (and its random source and authors);
    bins: per-bin counts and class mixes from ``scenario.plan``;
    swarm: the run's network structure (hubs, relay pushes, returning accounts);
    width: zero-padded width of the numeric part of post ids; id_prefix: what precedes it.
    """
    rnd = composer.rnd
    author = composer.author
    # Recent Twitter originals per (class, language): retweet and reply targets.
    recent: dict[tuple[int, str], list[tuple[str, str, str]]] = {}
    last_channel_post: dict[str, str] = {}
    bisect_right = bisect.bisect_right
    # Everything the hot loop needs about a class, in one tuple lookup.
    per_class = [
        (*LANG_CUM[c], TELEGRAM_SHARE[c], LABELS[c], compose)
        for c, compose in enumerate((composer.supportive, composer.opposing, composer.neutral))
    ]
    index = 0
    clocks = [
        [f"{m0 + off // 60:02d}:{off % 60:02d}Z" for off in range(BIN_SECONDS)]
        for m0 in range(0, 60, BIN_SECONDS // 60)
    ]
    # A relay push under way: (handles still to post, text, language).
    push: tuple[list[str], str, str] | None = None
    for count, prefix, minute0, t0, p_sup, p_sup_opp in bins:
        if not count:
            continue
        offsets = sorted([int(rnd() * BIN_SECONDS) for _ in range(count)])
        # "MM:SSZ" strings for every offset of this bin, shared by all bins
        # that start at the same minute of the hour.
        clock = clocks[minute0 // 10]
        for position in range(count):
            off = offsets[position]
            created = prefix + clock[off]
            t = t0 + off / 3600.0
            relay = push is not None and bool(push[0])
            r = rnd()
            cls = SUP if r < p_sup else (OPP if r < p_sup_opp else NEU)
            langs, cum, tg_share, label, compose = per_class[cls]
            lang = langs[bisect_right(cum, rnd())]
            tg = 1 if rnd() < tg_share else 0
            post_id = id_prefix + str(index).zfill(width)
            index += 1
            handle, group = author(cls, lang, tg, rnd())
            if cls == SUP and not tg:
                handle, group = swarm.reborn(handle, group, t)
            retweet_of = reply_to = None
            key = (cls, lang)
            pool = recent.get(key)
            if tg:
                text = compose(lang, t, tg, created, handle)
                previous = last_channel_post.get(handle)
                if previous is not None and cls == NEU and rnd() < 0.1:
                    # News channels thread updates under their earlier post.
                    reply_to = previous
                last_channel_post[handle] = post_id
                if len(last_channel_post) > 65536:
                    last_channel_post.clear()
            elif pool and rnd() < P_RETWEET:
                x = rnd()
                original = swarm.hub_target(key, handle, x) if cls != SUP else None
                if original is None and cls == SUP:
                    # The swarm: any recent supporter post is as likely to be retweeted.
                    original = pool[int(len(pool) * x)]
                elif original is None:
                    # Popular recent posts get most retweets: bias toward the end.
                    original = pool[len(pool) - 1 - int(len(pool) * x**2)]
                retweet_of = original[0]
                text = f"RT @{original[1]}: {original[2]}"
            else:
                target_pool = pool
                if cls == OPP and rnd() < 0.7:
                    # Opponents mostly answer supporters.
                    target_pool = recent.get((SUP, lang))
                body = compose(lang, t, tg, created, handle)
                if target_pool and rnd() < P_REPLY:
                    target = target_pool[len(target_pool) - 1 - int(len(target_pool) * rnd())]
                    reply_to = target[0]
                    text = f"@{target[1]} {body}"
                else:
                    text = body
                if pool is None:
                    pool = recent[key] = []
                if not relay:
                    pool.append((post_id, handle, text))
                    if cls != SUP and swarm.is_hub(group):
                        swarm.remember_hub_post(key, (post_id, handle, text))
                if len(pool) > 120:
                    del pool[:60]
                if (
                    not relay
                    and cls == SUP
                    and reply_to is None
                    and t >= 0.25
                    and swarm.push()
                ):
                    # A relay push starts: this post and the next few, seconds apart, by
                    # the relay accounts, all with the same new link.
                    members = min(len(swarm.relays), count - position)
                    if members >= 2:
                        text = f"{text} {swarm.push_link(created)}"
                        handles = swarm.relays[:members]
                        handle, group = handles.pop(0), swarm.relay_group + "0"
                        pool[-1] = (post_id, handle, text)
                        push = (handles, text, lang)
                        swarm.retime(offsets, position, members)
            if relay and push is not None:
                # The stream's draws for this post were made as usual; its content is
                # the push's.
                handle = push[0].pop(0)
                group = swarm.relay_group + str(swarm.relays.index(handle))
                text, lang, label, tg = push[1], push[2], LABELS[SUP], 0
                retweet_of = reply_to = None
                recent.setdefault((SUP, lang), []).append((post_id, handle, text))
            yield {
                "id": post_id,
                "platform": "telegram" if tg else "twitter",
                "author": handle,
                "group": group,
                "text": text,
                "lang": lang,
                "created_at": created,
                "label": label,
                "retweet_of": retweet_of,
                "reply_to": reply_to,
                "synthetic": True,
            }
