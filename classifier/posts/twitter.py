"""Format adapters for Twitter API archives: v1.1 statuses and v2 pages to flat records.

An adapter only reshapes: it maps what the API calls things to the flat record
``post_from_record`` validates (id, text, lang, created_at, author, retweet_of,
reply_to, hashtags, urls, mentions, label, platform). It rejects only what it
cannot reshape (a v2 'data' item that is not an object); any other bad value is
passed on as found, for validation to reject with its usual reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swarmlens.classifier.errors import RecordError

# -- v1.1 ------------------------------------------------------------------------


def _status_text(status: Mapping[str, Any]) -> str | None:
    # Extended (280-character) tweets in compat mode keep the full text aside.
    extended = status.get("extended_tweet")
    if isinstance(extended, Mapping) and isinstance(extended.get("full_text"), str):
        return extended["full_text"]
    text = status.get("full_text", status.get("text"))
    return text if isinstance(text, str) else None


def _status_entities(status: Mapping[str, Any]) -> Mapping[str, Any]:
    extended = status.get("extended_tweet")
    if isinstance(extended, Mapping) and isinstance(extended.get("entities"), Mapping):
        return extended["entities"]
    ents = status.get("entities")
    return ents if isinstance(ents, Mapping) else {}


def _screen_name(status: Mapping[str, Any]) -> str | None:
    user = status.get("user")
    return user.get("screen_name") if isinstance(user, Mapping) else None


def twitter_v1_record(status: Mapping[str, Any]) -> dict[str, Any]:
    """A flat record from a Twitter API v1.1 status (extended or compat mode).

    status: one decoded status object.
    Retweets get the original's full text ('RT @author: ...') rather than the
    140-character truncation, and ``retweet_of`` set to the original's id.
    """
    text = _status_text(status)
    ents = _status_entities(status)
    retweet_of = retweeted = None
    original = status.get("retweeted_status")
    if isinstance(original, Mapping):
        retweet_of = original.get("id_str", original.get("id"))
        retweeted = _screen_name(original)
        original_text = _status_text(original)
        if original_text is not None:
            text = f"RT @{_screen_name(original) or 'unknown'}: {original_text}"
            ents = _status_entities(original)
    return {
        "id": status.get("id_str", status.get("id")),
        "text": text,
        "lang": status.get("lang"),
        "created_at": status.get("created_at"),
        "author": _screen_name(status),
        "retweet_of": retweet_of,
        "retweet_of_author": retweeted,
        "reply_to": status.get("in_reply_to_status_id_str", status.get("in_reply_to_status_id")),
        "hashtags": [h.get("text") for h in ents.get("hashtags") or [] if isinstance(h, Mapping)],
        "urls": [
            u.get("expanded_url") or u.get("url")
            for u in ents.get("urls") or []
            if isinstance(u, Mapping) and (u.get("expanded_url") or u.get("url"))
        ],
        "mentions": [
            m.get("screen_name") for m in ents.get("user_mentions") or [] if isinstance(m, Mapping)
        ],
        "label": status.get("label", status.get("swarmlens_label")),
        "platform": "twitter",
    }


# -- v2 ----------------------------------------------------------------------------


def twitter_v2_includes(page: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(users, tweets) of a v2 page's 'includes', for ``twitter_v2_record``.

    page: one decoded v2 response page.
    users maps user id -> username; tweets maps tweet id -> referenced tweet object.
    """
    includes = page.get("includes") if isinstance(page.get("includes"), Mapping) else {}
    users = {
        str(u.get("id")): u.get("username")
        for u in includes.get("users") or []
        if isinstance(u, Mapping)
    }
    tweets = {str(t.get("id")): t for t in includes.get("tweets") or [] if isinstance(t, Mapping)}
    return users, tweets


def twitter_v2_record(
    tweet: object, users: Mapping[str, Any], tweets: Mapping[str, Any]
) -> dict[str, Any]:
    """A flat record from one Twitter API v2 tweet object and its page's includes.

    tweet: one item of the page's 'data' list (anything: a non-object is rejected).
    users / tweets: the page's includes, from ``twitter_v2_includes``; they give
        authors' usernames and the full text of retweeted tweets.
    Raises RecordError when ``tweet`` is not an object.
    """
    if not isinstance(tweet, Mapping):
        raise RecordError(f"expected a tweet object in 'data', got {type(tweet).__name__}")
    # Long tweets carry their full text in 'note_tweet'; 'text' is then cut.
    note = tweet.get("note_tweet")
    text = note.get("text") if isinstance(note, Mapping) else tweet.get("text")
    retweet_of = reply_to = retweeted = None
    for ref in tweet.get("referenced_tweets") or []:
        if not isinstance(ref, Mapping):
            continue
        if ref.get("type") == "retweeted":
            retweet_of = ref.get("id")
            original = tweets.get(str(retweet_of))
            if isinstance(original, Mapping):
                author_id = original.get("author_id")
                retweeted = users.get(str(author_id)) or author_id
            if isinstance(original, Mapping) and isinstance(original.get("text"), str):
                who = users.get(str(original.get("author_id"))) or "unknown"
                text = f"RT @{who}: {original['text']}"
        elif ref.get("type") == "replied_to":
            reply_to = ref.get("id")
    ents = tweet.get("entities") if isinstance(tweet.get("entities"), Mapping) else {}
    author_id = tweet.get("author_id")
    return {
        "id": tweet.get("id"),
        "text": text,
        "lang": tweet.get("lang"),
        "created_at": tweet.get("created_at"),
        "author": users.get(str(author_id)) or author_id,
        "retweet_of": retweet_of,
        "retweet_of_author": retweeted,
        "reply_to": reply_to,
        "hashtags": [h.get("tag") for h in ents.get("hashtags") or [] if isinstance(h, Mapping)],
        "urls": [
            u.get("expanded_url") or u.get("url")
            for u in ents.get("urls") or []
            if isinstance(u, Mapping) and (u.get("expanded_url") or u.get("url"))
        ],
        "mentions": [
            m.get("username") for m in ents.get("mentions") or [] if isinstance(m, Mapping)
        ],
        "label": tweet.get("label"),
        "platform": "twitter",
    }
