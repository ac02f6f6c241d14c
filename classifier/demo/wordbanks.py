"""Loads the demo corpus word banks: the JSON files of the ``banks`` package data folder.

Every phrase, hashtag, emoji, news domain and handle suffix of the demo corpus
lives in ``classifier/demo/banks/*.json``; this module reads them once per
process (``load_banks``) into immutable tuples and applies the per-language
fallbacks, so the generator never needs to know which language lacks what.

The module is not called ``banks.py`` because ``banks`` is the package of the
data files itself (``swarmlens.classifier.demo.banks``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from swarmlens.classifier.demo.scenario import LANGS
from swarmlens.classifier.vocab import LABELS, Label

__all__ = ["BANKS_PACKAGE", "BANK_NAMES", "Banks", "Tag", "load_banks", "read_bank"]

# Resolved through importlib.resources rather than a path next to __file__ so the
# banks are found in editable installs, wheels and zipped installs alike.
BANKS_PACKAGE = "swarmlens.classifier.demo.banks"
BANK_NAMES = ("hashtags", *LABELS, "outlets")

Tag = tuple[str, ...]
"""One hashtag's spellings, canonical first."""

_Texts = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Banks:
    """All word banks, keyed by language code where they are per language.

    Tag tables hold ``Tag`` tuples; a hashtag repeated in a table is drawn more
    often. Text categories are the keys of ``sup_text`` / ``opp_text`` (e.g.
    'open', 'paris', 'generic'; 'condemn', 'mock', 'flood'...).
    """

    sup_tags: Mapping[str, tuple[Tag, ...]]
    sup_generic_tags: Mapping[str, tuple[Tag, ...]]
    opp_tags: Mapping[str, tuple[Tag, ...]]
    opp_generic_tags: Mapping[str, tuple[Tag, ...]]
    neu_tags: Mapping[str, tuple[Tag, ...]]
    neu_pre_tags: tuple[Tag, ...]
    doc_tags: tuple[Tag, ...]
    doc_genre_tag: str
    sup_text: Mapping[str, _Texts]
    opp_text: Mapping[str, _Texts]
    neu_heads: Mapping[str, tuple[tuple[float, str], ...]]
    neu_quote: _Texts
    neu_pre: _Texts
    neu_doc: _Texts
    neu_open: _Texts
    neu_more: _Texts
    sup_emoji: tuple[str, ...]
    opp_emoji: tuple[str, ...]
    neu_emoji: tuple[str, ...]
    news_domains: _Texts
    news_suffixes: tuple[str, ...]


@cache
def read_bank(name: str) -> dict[str, Any]:
    """The parsed JSON of one bank file, read once per process.

    name: a member of ``BANK_NAMES`` (the file name without '.json').
    """
    text = (files(BANKS_PACKAGE) / f"{name}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"demo word bank {name}.json must hold a non-empty JSON object")
    return data


def _texts(table: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """A name -> phrases table as tuples. table: the JSON object."""
    return {key: tuple(values) for key, values in table.items()}


@cache
def load_banks() -> Banks:
    """All word banks, built once per process (later calls return the same object)."""
    tags = read_bank("hashtags")
    spellings = {canonical: (canonical, *rest) for canonical, rest in tags["variants"].items()}

    def tag_list(names: Sequence[str]) -> tuple[Tag, ...]:
        """Hashtags named by canonical spelling. names: the JSON list."""
        missing = [name for name in names if name not in spellings]
        if missing:
            raise KeyError(f"hashtags.json: no 'variants' entry for {missing}")
        return tuple(spellings[name] for name in names)

    def tag_table(key: str) -> dict[str, tuple[Tag, ...]]:
        """A language -> hashtags table. key: its name in hashtags.json."""
        return {lang: tag_list(names) for lang, names in tags[key].items()}

    sup = read_bank(Label.SUPPORTIVE)
    opp = read_bank(Label.OPPOSING)
    neu = read_bank(Label.NEUTRAL)
    outlets = read_bank("outlets")

    sup_generic_tags = tag_table("supportive_generic")
    opp_text = {lang: _texts(table) for lang, table in opp["text"].items()}
    news_domains = _texts(outlets["news_domains"])
    # Why: smaller languages have fewer templates and tags; every language gets
    # every category here, falling back within the language, so the composers
    # never have to check.
    generic_fallback = tag_list(tags["supportive_generic_fallback"])
    for lang in LANGS:
        bank = opp_text[lang]
        bank.setdefault("open", ("",))
        bank.setdefault("counter", bank["condemn"])
        bank.setdefault("report", bank["condemn"])
        sup_generic_tags.setdefault(lang, generic_fallback)
        news_domains.setdefault(
            lang, tuple(pattern.format(lang=lang) for pattern in outlets["news_domain_fallback"])
        )

    return Banks(
        sup_tags=tag_table(Label.SUPPORTIVE),
        sup_generic_tags=sup_generic_tags,
        opp_tags=tag_table(Label.OPPOSING),
        opp_generic_tags=tag_table("opposing_generic"),
        neu_tags=tag_table(Label.NEUTRAL),
        neu_pre_tags=tag_list(tags["neutral_pre"]),
        doc_tags=tag_list(tags["documentary"]),
        doc_genre_tag=tags["documentary_genre"],
        sup_text={lang: _texts(table) for lang, table in sup["text"].items()},
        opp_text=opp_text,
        neu_heads={
            lang: tuple((float(hours), text) for hours, text in heads)
            for lang, heads in neu["headlines"].items()
        },
        neu_quote=_texts(neu["quote"]),
        neu_pre=_texts(neu["pre"]),
        neu_doc=_texts(neu["documentary"]),
        neu_open=_texts(neu["open"]),
        neu_more=_texts(neu["more"]),
        sup_emoji=tuple(sup["emoji"]),
        opp_emoji=tuple(opp["emoji"]),
        neu_emoji=tuple(neu["emoji"]),
        news_domains=news_domains,
        news_suffixes=tuple(outlets["handle_suffixes"]),
    )
