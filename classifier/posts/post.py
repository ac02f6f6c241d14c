"""The ``Post``: one data model for a social-media post, used by every part of swarmlens.

``post_from_record`` builds one from any flat mapping (JSONL, CSV, Parquet rows,
API bodies) and is the single place where a record is validated: it raises
``RecordError`` with a reason a person can act on.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from swarmlens.classifier.errors import RecordError
from swarmlens.classifier.text import entities
from swarmlens.classifier.text.langid import resolve_lang
from swarmlens.classifier.text.normalize import clean, without_lone_surrogates
from swarmlens.classifier.vocab import LABELS, PLATFORMS

_RT_PREFIX = re.compile(r"RT @(\w{1,50})[:\s]")
"""The classic retweet prefix ('RT @handle:', or 'RT @handle ' as old clients wrote it): it
names the retweeted author when the source does not, retweet id known or not."""
MAX_TEXT_CHARS = 100_000
"""Longer texts are cut (and the cut is counted): no post on these networks is longer."""

EARLIEST_POST_TIME = datetime(2006, 3, 21, tzinfo=UTC)
"""No post is older: the first tweet (Twitter, 2006-03-21) predates VKontakte (2006-10) and
Telegram (2013). One window for every platform, so a record's fate never hangs on its
platform field."""
FUTURE_SKEW = timedelta(days=1)
"""How far past the reader's clock a post may be dated (clock skew, time zones)."""
QUERY_TIME_RANGE = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
"""Query bounds (start / end) must fall in [1970, 2100): wide enough for any question
about stored posts, narrow enough that bucket arithmetic never overflows."""


def check_post_time(moment: datetime | None, now: datetime | None = None) -> datetime | None:
    """``moment`` if it can be a post's time, else ValueError naming the window.

    The window is [EARLIEST_POST_TIME, now + FUTURE_SKEW]: the one bound every reader,
    the API and the columnar path share.
    """
    if moment is None:
        return None
    latest = (now or datetime.now(UTC)) + FUTURE_SKEW
    if moment < EARLIEST_POST_TIME or moment > latest:
        raise ValueError(
            f"{format_time(moment)} is outside the possible posting times "
            f"{format_time(EARLIEST_POST_TIME)} .. {format_time(latest)}"
        )
    return moment


def check_query_time(name: str, moment: datetime | None) -> datetime | None:
    """``moment`` if it lies in ``QUERY_TIME_RANGE``, else ValueError naming the range."""
    if moment is None:
        return None
    low, high = QUERY_TIME_RANGE
    try:
        inside = low <= moment.astimezone(UTC) < high
    except (OverflowError, ValueError):
        inside = False
    if not inside:
        raise ValueError(
            f"{name} must lie between {low.date().isoformat()} and {high.date().isoformat()}"
        )
    return moment


@dataclass(slots=True)
class Post:
    """A post as swarmlens sees it.

    post_id: the source's id, as a string (unique within a platform).
    platform: 'twitter', 'telegram', 'vkontakte' or 'other'.
    text: the text as posted (invalid bytes replaced, nothing else changed).
    lang: ISO 639-1 code from the source, else detected; 'und' when unknown.
    created_at: UTC time of posting, or None when the source gives none.
    hashtags: canonical hashtag keys (see ``entities.canonical_hashtag``).
    hashtag_forms: the spelling of each of ``hashtags`` as first written (no '#').
    urls / domains / mentions: extracted from the text (and the source's entities);
        urls normalised (``entities.normalize_url``) so shares of one link match.
    author: handle or id of the author, when known.
    retweet_of / reply_to: ids of the retweeted / replied-to post, when known.
    retweet_of_author: author of the retweeted post, when the source gives it (an
        API's nested original, or a text starting 'RT @handle:' or 'RT @handle ',
        whether or not ``retweet_of`` is known).
    label: stance label for training data, else None.
    group: author or thread id used to keep cross-validation folds apart.
    """

    post_id: str
    platform: str
    text: str
    lang: str
    created_at: datetime | None = None
    hashtags: list[str] = field(default_factory=list)
    hashtag_forms: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    author: str | None = None
    retweet_of: str | None = None
    reply_to: str | None = None
    label: str | None = None
    group: str | None = None
    retweet_of_author: str | None = None
    text_cut: bool = field(default=False, compare=False, repr=False)
    """True when ``text`` was cut to ``MAX_TEXT_CHARS`` (counted in summaries; not output)."""

    @property
    def is_retweet(self) -> bool:
        return self.retweet_of is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (created_at as ISO 8601 with 'Z')."""
        data = asdict(self)
        del data["text_cut"]
        data["created_at"] = format_time(self.created_at)
        return data


def format_time(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a trailing 'Z', or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: object) -> datetime | None:
    """Parse a timestamp into an aware UTC datetime.

    value: ISO 8601 text (naive means UTC), Twitter's 'Wed Nov 18 21:04:05 +0000
    2015', epoch seconds or milliseconds (number or digit string), a datetime,
    or None/''. Raises ValueError for anything else.
    """
    try:
        return _parse_time(value)
    except (OverflowError, OSError) as exc:
        # Epochs like 1e300 or a 20-digit string, and offsets that push year 1 or 9999
        # over the edge: out of any calendar, a reason rather than a crash.
        raise ValueError(f"time {value!r} is out of range ({exc})") from None


def _parse_time(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        moment = datetime.fromtimestamp(seconds, UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _parse_time(int(text))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:
                moment = email.utils.parsedate_to_datetime(_twitter_to_rfc2822(text))
            except (TypeError, ValueError, IndexError):
                raise ValueError(f"unreadable time {value!r}; use ISO 8601") from None
    else:
        raise ValueError(f"unreadable time {value!r}; use ISO 8601")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    if moment.tzinfo is UTC:
        return moment
    return moment.astimezone(UTC)


def _twitter_to_rfc2822(text: str) -> str:
    # 'Wed Nov 18 21:04:05 +0000 2015' -> 'Wed, 18 Nov 2015 21:04:05 +0000'
    day, month, date, clock, zone, year = text.split()
    return f"{day}, {date} {month} {year} {clock} {zone}"


def _encodable(value: str, name: str) -> str:
    """``value`` when it can be encoded as UTF-8; a lone surrogate in an id or a handle
    makes the record a reject (an id is no text to repair: '?' would merge distinct ids)."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(
                f"'{name}' holds a lone surrogate ({ascii(value)[:80]}), which no UTF-8 "
                "output can hold"
            ) from None
    return value


def _strings(values: list[str], name: str) -> list[str]:
    for value in values:
        _encodable(value, name)
    return values


def _optional_id(value: object, name: str) -> str | None:
    if type(value) is str:
        return _encodable(value, name) or None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(f"'{name}' must be a string or an integer, got {type(value).__name__}")
    return str(value)


def normalize_label(value: object) -> str | None:
    """A label as one of ``LABELS`` (case-insensitive), None when absent.

    Raises RecordError naming the allowed labels for anything else.
    """
    if value is None or value == "":
        return None
    if value in LABELS:
        return value  # type: ignore[return-value]
    if isinstance(value, str) and value.strip().lower() in LABELS:
        return value.strip().lower()
    raise RecordError(f"unknown label {value!r}; expected one of {', '.join(LABELS)}")


def retweeted_author(text: str) -> str | None:
    """The handle of a classic retweet prefix ('RT @handle: ...' or 'RT @handle ...'),
    else None."""
    found = _RT_PREFIX.match(text)
    return found.group(1) if found else None


def post_from_record(record: Mapping[str, Any], platform: str | None = None) -> Post:
    """Validate a flat record and build a ``Post``.

    record: a mapping with 'post_id' or 'id', and 'text'; optional 'lang',
        'created_at', 'platform', 'author', 'retweet_of', 'retweet_of_author',
        'reply_to', 'label',
        'group', and pre-extracted 'hashtags' / 'urls' / 'mentions' lists.
    platform: platform to use when the record names none.
    Raises RecordError (with the reason) when the record cannot be a post.
    """
    if not isinstance(record, Mapping):
        raise RecordError(f"expected a JSON object, got {type(record).__name__}")
    raw_id = record.get("post_id")
    if raw_id is None:
        raw_id = record.get("id")
    post_id = (_encodable(raw_id, "post_id") if type(raw_id) is str and raw_id
               else _optional_id(raw_id, "post_id"))
    if post_id is None:
        raise RecordError("missing 'post_id' (or 'id')")
    text = record.get("text")
    if type(text) is not str:
        if text is None:
            raise RecordError("missing 'text'")
        raise RecordError(f"'text' must be a string, got {type(text).__name__}")
    cut = len(text) > MAX_TEXT_CHARS
    if cut:
        text = text[:MAX_TEXT_CHARS]
    text = without_lone_surrogates(text)
    try:
        created_at = check_post_time(parse_time(record.get("created_at")))
    except ValueError as exc:
        raise RecordError(f"'created_at': {exc}") from None
    plat = record.get("platform") or platform or "other"
    if plat not in PLATFORMS:
        plat = str(plat).lower()
        if plat not in PLATFORMS:
            plat = "other"
    tags, url_list, handles, forms = entities.extract_all(text)
    given_urls = record.get("urls")
    if isinstance(given_urls, (list, tuple)):
        # Twitter's expanded URLs replace the t.co wrappers seen in the text: a tweet
        # that gives its URL list (even empty) has expanded every link it has, and a t.co
        # wrapper left in its text wraps a photo or video, which is not a link. On other
        # platforms a t.co link in the text was typed by the author: it stays.
        url_list = _merge(
            [u for u in given_urls if isinstance(u, str) and u],
            [u for u in url_list if plat != "twitter" or entities.domain(u) != "t.co"],
        )
    spelled = dict(zip(tags, forms, strict=True))
    extra_tags = record.get("hashtags")
    if isinstance(extra_tags, (list, tuple)):
        # The source's own tags: the text it gives (without '#', cleaned) is the spelling.
        for given in extra_tags:
            form = clean(str(given)).lstrip("#＃")
            key = entities.canonical_hashtag(form)
            if key:
                spelled.setdefault(key, form)
    author = record.get("author")
    author = None if author in (None, "") else _encodable(str(author), "author")
    retweet_of = _optional_id(record.get("retweet_of"), "retweet_of")
    retweeted = _optional_id(record.get("retweet_of_author"), "retweet_of_author")
    if retweeted is None:
        # A plain 'RT @handle:' text is a retweet of handle even when no id says so
        # (archives of texts): the retweet graph must have its edge.
        retweeted = retweeted_author(text)
    return Post(
        post_id=post_id,
        platform=plat,
        text=text,
        lang=resolve_lang(record.get("lang"), text),
        created_at=created_at,
        hashtags=_strings(list(spelled), "hashtags"),
        hashtag_forms=_strings(list(spelled.values()), "hashtags"),
        urls=_strings(entities.normalize_urls(url_list), "urls"),
        domains=_strings(entities.domains(url_list), "urls"),
        mentions=_strings(_merge(handles, _lower(record.get("mentions"))), "mentions"),
        author=author,
        retweet_of=retweet_of,
        reply_to=_optional_id(record.get("reply_to"), "reply_to"),
        label=normalize_label(record.get("label")),
        group=_optional_id(record.get("group"), "group"),
        retweet_of_author=retweeted,
        text_cut=cut,
    )


def _lower(values: object) -> list[str] | None:
    if not isinstance(values, (list, tuple)):
        return None
    return [str(v).lstrip("@").lower() for v in values]


def _merge(first: list[str], more: object) -> list[str]:
    if not isinstance(more, (list, tuple)) or not more:
        return first
    merged = dict.fromkeys(first)
    for item in more:
        if isinstance(item, str) and item:
            merged.setdefault(item, None)
    return list(merged)
