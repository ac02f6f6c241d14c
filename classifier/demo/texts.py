"""Post texts of the demo corpus: one composer per class (supportive, opposing, neutral).

Each composer assembles opener, slogan or headline, hashtags, links, mentions
and emoji from the word banks (``wordbanks``) with the run's random draws
(``draws``). The branch probabilities here shape the hard cases the classifier
is meant to meet: opponents quoting slogans or flooding supporters' hashtags,
news about the hashtags, supporters hijacking solidarity tags.
"""

from __future__ import annotations

import bisect
import random

from swarmlens.classifier.demo.accounts import Authors
from swarmlens.classifier.demo.draws import Draws
from swarmlens.classifier.demo.scenario import NEU, OPP, SUP, flood_probability
from swarmlens.classifier.demo.wordbanks import Banks

__all__ = ["CLEAR_FLOOD", "Composer"]

CLEAR_FLOOD = 0.5
"""In the training corpus, the share of the demo's flooding into supporters' tags."""


class Composer(Draws):
    """Writes the text of one post of a class, given its language, time and platform."""

    def __init__(
        self, rng: random.Random, banks: Banks, authors: Authors, clear: bool = False
    ) -> None:
        """rng: the run's random source; banks: the word banks; authors: the run's pools.

        Authors are needed for '@' mentions of other accounts of the same pool.
        clear: write the training corpus's clear-cut posts: no counter-speech that quotes
        a slogan (mockery, sarcasm), no news that repeats a slogan or a supporters' tag,
        and less flooding of the supporters' tags. A model trained on those meets the
        demo corpus's confusable posts as it would meet real ones: unseen, so
        classify-and-count is biased and an audit has something to correct.
        """
        super().__init__(rng, banks.news_domains)
        self.banks = banks
        self.clear = clear
        self.author = authors.author
        # Headline hours and texts split once, for bisect on the hours.
        self.neu_heads = {
            lang: (tuple(h[0] for h in heads), tuple(h[1] for h in heads))
            for lang, heads in banks.neu_heads.items()
        }

    def supportive(self, lang: str, t: float, tg: int, created: str, handle: str) -> str:
        """Text of a supportive post: opener / slogan(s) / hashtags / link / emoji.

        lang: language; t: hours since the attacks; tg: 1 for a Telegram channel
        post; created: ISO time; handle: the author's handle.
        """
        rnd = self.rnd
        b = self.banks
        bank = b.sup_text[lang]
        after = t >= 0.25
        slogans = bank["paris"] if after and rnd() < 0.85 else bank["generic"]
        core = self.pick(slogans)
        tag_pool = b.sup_tags[lang] if after else b.sup_generic_tags[lang]
        r = rnd()
        tags = self.tags(tag_pool, 1 if r < 0.5 else (2 if r < 0.85 else 3))
        if after and rnd() < 0.25:
            tags.append(self.tag(b.sup_generic_tags[lang]))
        if after and rnd() < 0.08:
            # Hashtag hijacking: supporters also post into solidarity tags.
            tags.append(self.tag(b.opp_tags[lang]))
        opener = self.pick(bank["open"])
        if after and rnd() < 0.07:
            # Hard case: a news headline with a gloating slogan appended.
            times, heads = self.neu_heads[lang]
            k = max(1, bisect.bisect_right(times, t))
            opener = heads[int(rnd() * k)] + " -"
        emoji = self.pick(b.sup_emoji) if rnd() < 0.5 else ""
        if tg:
            second = self.pick(bank["generic"] if rnd() < 0.5 else slogans)
            links = [self.link("tme", lang, created, handle)]
            r = rnd()
            if r < 0.35:
                links.insert(0, self.link("justpaste", lang, created, handle))
            elif r < 0.55:
                links.insert(0, self.link("archive", lang, created, handle))
            head = " ".join(p for p in (emoji, opener, core) if p)
            return f"{head}\n{second} {self.pick(b.sup_emoji)}\n\n{' '.join(tags)}\n" + "\n".join(
                links
            )
        if rnd() < 0.2:
            core = f"{core} — {self.pick(bank['generic'])}"
        parts = [opener, core]
        if rnd() < 0.3:
            parts.insert(0, tags.pop())
        parts.extend(tags)
        r = rnd()
        if r < 0.15:
            parts.append(self.link("justpaste", lang, created, handle))
        elif r < 0.25:
            parts.append(self.link("archive", lang, created, handle))
        elif r < 0.35:
            chan, _ = self.author(SUP, lang, 1, rnd())
            parts.append(self.link("tme", lang, created, chan))
        elif r < 0.5:
            parts.append(self.link("tco", lang, created, handle))
        if rnd() < 0.08:
            other, _ = self.author(SUP, lang, 0, rnd())
            parts.append(f"via @{other}")
        parts.append(emoji)
        return " ".join(p for p in parts if p)

    def opposing(self, lang: str, t: float, tg: int, created: str, handle: str) -> str:
        """Text of an opposing post; flooding into supporters' tags grows with time.

        lang: language; t: hours since the attacks; tg: 1 for a Telegram channel
        post; created: ISO time; handle: the author's handle.
        """
        rnd = self.rnd
        b = self.banks
        bank = b.opp_text[lang]
        tags: list[str]
        if t < 0.5:
            # Background counter-extremism before the attacks.
            if rnd() < 0.3 and not self.clear:
                slogan = self.pick(b.sup_text[lang]["generic"])
                core = self.pick(bank["mock"]).format(slogan=slogan)
                tags = [self.tag(b.sup_generic_tags[lang])]
            else:
                core = self.pick(bank["counter"])
                tags = [self.tag(b.opp_generic_tags[lang])]
        elif rnd() < flood_probability(t) * (CLEAR_FLOOD if self.clear else 1.0):
            r = rnd()
            if r < 0.45:
                category = "flood"
            elif r < 0.65:
                # Counter-speech that quotes a slogan: mockery and sarcasm.
                category = "condemn" if self.clear else "mock"
            elif r < 0.8:
                category = "condemn"
            elif r < 0.9:
                category = "solidarity"
            else:
                category = "report"
            core = self.pick(bank[category])
            if category == "mock":
                core = core.format(slogan=self.pick(b.sup_text[lang]["paris"]))
            tags = self.tags(b.sup_tags[lang], 1 if rnd() < 0.7 else 2)
            if rnd() < 0.3:
                tags.append(self.tag(b.opp_tags[lang]))
        else:
            r = rnd()
            if r < 0.45:
                core = self.pick(bank["solidarity"])
            elif r < 0.8:
                core = self.pick(bank["condemn"])
            elif r < 0.95 or self.clear:
                core = self.pick(bank["counter"])
            else:
                core = self.pick(bank["mock"]).format(slogan=self.pick(b.sup_text[lang]["paris"]))
            tags = self.tags(b.opp_tags[lang], 1 if rnd() < 0.6 else 2)
        parts = [self.pick(bank["open"]), core]
        if rnd() < 0.25:
            parts.insert(0, tags.pop())
        parts.extend(tags)
        r = rnd()
        if "🐱" in core or "😺" in core or "🐈" in core or r < 0.1:
            parts.append(self.link("pic", lang, created, handle))
        elif r < 0.2:
            parts.append(self.link("tco", lang, created, handle))
        elif r < 0.25:
            parts.append(self.link("news", lang, created, handle))
        if rnd() < 0.1:
            other, _ = self.author(OPP, lang, 0, rnd())
            parts.append(f"cc @{other}")
        if rnd() < 0.35:
            parts.append(self.pick(b.opp_emoji))
        text = " ".join(p for p in parts if p)
        if tg:
            return text + "\n" + self.link("tme", lang, created, handle)
        return text

    def neutral(self, lang: str, t: float, tg: int, created: str, handle: str) -> str:
        """Text of a news post: opener / headline / tag / link / 'via'.

        lang: language; t: hours since the attacks; tg: 1 for a Telegram channel
        post; created: ISO time; handle: the author's handle.
        """
        rnd = self.rnd
        b = self.banks
        doc = b.neu_doc.get(lang)
        tags: list[str]
        if t < 0.2:
            if doc and rnd() < 0.25:
                core = self.pick(doc)
                tags = [self.tag(b.doc_tags), b.doc_genre_tag]
            else:
                core = self.pick(b.neu_pre[lang])
                tags = [self.tag(b.neu_pre_tags)]
        else:
            r = rnd()
            if t >= 1.5 and r < 0.06 and not self.clear:
                # News about the supporters' tags, some repeating a slogan in quotes; the
                # slogan comes from the draw already made (no new draw: the stream stays).
                slogans = b.sup_text[lang]["paris"]
                slogan = slogans[int(r * 1e6) % len(slogans)]
                core = self.pick(b.neu_quote[lang]).format(
                    tag=self.tag(b.sup_tags[lang]), slogan=slogan
                )
                tags = [self.tag(b.neu_tags[lang])]
            elif doc and r < 0.07:
                core = self.pick(doc)
                tags = [self.tag(b.doc_tags)]
            else:
                times, heads = self.neu_heads[lang]
                k = max(1, bisect.bisect_right(times, t))
                core = heads[int(rnd() * k)]
                tags = self.tags(b.neu_tags[lang], 1 if rnd() < 0.7 else 2)
        opener = self.pick(b.neu_open[lang])
        link = (
            self.link("news", lang, created, handle)
            if rnd() < 0.6
            else self.link("tco", lang, created, handle)
        )
        if tg:
            more = self.pick(b.neu_more[lang])
            head = f"🔴 {opener} {core}" if opener else f"🔴 {core}"
            return f"{head}\n\n{more}\n{' '.join(tags)}\n{link}\nhttps://t.me/{handle}"
        parts = [opener, core, *tags, link]
        if rnd() < 0.15:
            other, _ = self.author(NEU, lang, 0, rnd())
            parts.append(f"via @{other}")
        if rnd() < 0.1:
            parts.append(self.pick(b.neu_emoji))
        return " ".join(p for p in parts if p)
