"""Format adapters for Twitter API archives: v1.1 statuses (alone or in a search response),
v2 pages and stream lines, and twarc2's flattened tweets, to flat records.

An adapter only reshapes: it maps what the API calls things to the flat record
``post_from_record`` validates (id, text, lang, created_at, author, retweet_of,
reply_to, hashtags, urls, mentions, label, platform). It rejects only what it
cannot reshape (a v2 'data' item that is not an object); any other bad value is
passed on as found, for validation to reject with its usual reason.

URLs: a tweet's links are its URL entities, expanded (``urls``); a tweet that has an
entities object passes the list on even when empty, so the t.co wrappers left in its
text (photos and videos: ``entities.media``, or a v2 URL entity with a ``media_key``)
are not taken for links. A retweet's URLs, hashtags and mentions are its original's when
the payload holds the original (v1.1 ``retweeted_status``, v2 ``includes.tweets``,
twarc2's embedded ``referenced_tweets``); otherwise its own entities are kept, except
those that reach the '…' where Twitter cut its text (``#Re…`` is no hashtag).
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


def _status_entities(status: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The status's entities (the extended tweet's when it has them), None when none."""
    extended = status.get("extended_tweet")
    if isinstance(extended, Mapping) and isinstance(extended.get("entities"), Mapping):
        return extended["entities"]
    ents = status.get("entities")
    return ents if isinstance(ents, Mapping) else None


# -- entities, both versions ------------------------------------------------------

_CUT = "…"
"""What Twitter appends where it cut a retweet's text (140 characters)."""


def _entity_end(entity: Mapping[str, Any]) -> int | None:
    # v2 gives 'end', v1.1 'indices': [start, end]; both count code points, as Python does.
    end = entity.get("end")
    if end is None:
        indices = entity.get("indices")
        if isinstance(indices, list) and len(indices) == 2:
            end = indices[1]
    return end if isinstance(end, int) and not isinstance(end, bool) else None


def _uncut(ents: Mapping[str, Any] | None, text: object) -> Mapping[str, Any] | None:
    """``ents`` without the entities that reach the '…' of a cut retweet text: their
    text was cut mid-word ('#Re…'), so what they name is not what was posted."""
    if ents is None or not isinstance(text, str):
        return ents
    body = text.rstrip()
    if not (body.startswith("RT @") and body.endswith(_CUT)):
        return ents
    cut = len(body) - 1
    kept: dict[str, Any] = dict(ents)
    for key, items in ents.items():
        if isinstance(items, list):
            kept[key] = [
                e for e in items
                if not (isinstance(e, Mapping) and (_entity_end(e) or 0) >= cut)
            ]
    return kept


def _urls(ents: Mapping[str, Any] | None) -> list[str] | None:
    """Expanded link URLs of ``ents`` (media links left out), None when no entities."""
    if ents is None:
        return None
    return [
        u.get("expanded_url") or u.get("url")
        for u in ents.get("urls") or []
        if isinstance(u, Mapping) and (u.get("expanded_url") or u.get("url"))
        and u.get("media_key") is None
    ]


def _items(ents: Mapping[str, Any] | None, key: str, name: str) -> list[Any]:
    return [e.get(name) for e in (ents or {}).get(key) or [] if isinstance(e, Mapping)]


def _screen_name(status: Mapping[str, Any]) -> str | None:
    user = status.get("user")
    return user.get("screen_name") if isinstance(user, Mapping) else None


def twitter_v1_record(status: Mapping[str, Any]) -> dict[str, Any]:
    """A flat record from a Twitter API v1.1 status (extended or compat mode).

    status: one decoded status object.
    Retweets get the original's full text ('RT @author: ...') rather than the
    140-character truncation, its entities, and ``retweet_of`` set to the original's id.
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
    else:
        ents = _uncut(ents, text)
    return {
        "id": status.get("id_str", status.get("id")),
        "text": text,
        "lang": status.get("lang"),
        "created_at": status.get("created_at"),
        "author": _screen_name(status),
        "retweet_of": retweet_of,
        "retweet_of_author": retweeted,
        "reply_to": status.get("in_reply_to_status_id_str", status.get("in_reply_to_status_id")),
        "hashtags": _items(ents, "hashtags", "text"),
        "urls": _urls(ents),
        "mentions": _items(ents, "user_mentions", "screen_name"),
        "label": status.get("label", status.get("swarmlens_label")),
        "platform": "twitter",
    }


def twitter_v1_statuses(response: Mapping[str, Any]) -> list[Any]:
    """The statuses of a v1.1 search response (``{"statuses": [...], "search_metadata"}``)."""
    statuses = response.get("statuses")
    return statuses if isinstance(statuses, list) else []


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


def _v2_text(tweet: Mapping[str, Any]) -> tuple[Any, Mapping[str, Any] | None]:
    """(text, entities) of a v2 tweet: a long tweet's are in 'note_tweet' ('text' is cut)."""
    note = tweet.get("note_tweet")
    ents = tweet.get("entities") if isinstance(tweet.get("entities"), Mapping) else None
    if isinstance(note, Mapping) and isinstance(note.get("text"), str):
        note_ents = note.get("entities")
        return note["text"], note_ents if isinstance(note_ents, Mapping) else ents
    return tweet.get("text"), ents


def _username(user: object) -> Any:
    return user.get("username") if isinstance(user, Mapping) else None


def twitter_v2_record(
    tweet: object, users: Mapping[str, Any], tweets: Mapping[str, Any]
) -> dict[str, Any]:
    """A flat record from one Twitter API v2 tweet object and its page's includes.

    tweet: one item of the page's 'data' list (anything: a non-object is rejected).
    users / tweets: the page's includes, from ``twitter_v2_includes``; they give
        authors' usernames and the full text and entities of retweeted tweets.
    Raises RecordError when ``tweet`` is not an object.
    """
    if not isinstance(tweet, Mapping):
        raise RecordError(f"expected a tweet object in 'data', got {type(tweet).__name__}")
    text, ents = _v2_text(tweet)
    retweet_of = reply_to = retweeted = None
    from_original = False
    for ref in tweet.get("referenced_tweets") or []:
        if not isinstance(ref, Mapping):
            continue
        if ref.get("type") == "retweeted":
            retweet_of = ref.get("id")
            original = tweets.get(str(retweet_of))
            if isinstance(original, Mapping):
                author_id = original.get("author_id")
                retweeted = users.get(str(author_id)) or _username(original.get("author"))
                retweeted = retweeted or author_id
                original_text, original_ents = _v2_text(original)
                if isinstance(original_text, str):
                    text = f"RT @{retweeted or 'unknown'}: {original_text}"
                    ents, from_original = original_ents, True
        elif ref.get("type") == "replied_to":
            reply_to = ref.get("id")
    if retweet_of is not None and not from_original:
        ents = _uncut(ents, text)
    author_id = tweet.get("author_id")
    author = users.get(str(author_id)) or _username(tweet.get("author")) or author_id
    return {
        "id": tweet.get("id"),
        "text": text,
        "lang": tweet.get("lang"),
        "created_at": tweet.get("created_at"),
        "author": author,
        "retweet_of": retweet_of,
        "retweet_of_author": retweeted,
        "reply_to": reply_to,
        "hashtags": _items(ents, "hashtags", "tag"),
        "urls": _urls(ents),
        "mentions": _items(ents, "mentions", "username"),
        "label": tweet.get("label"),
        "platform": "twitter",
    }


def twitter_v2_tweet_record(tweet: Mapping[str, Any]) -> dict[str, Any]:
    """A flat record from one v2 tweet on its own: a line of ``twarc2 flatten`` (its
    ``author`` a user object, each of its ``referenced_tweets`` the referenced tweet's
    fields merged in, or under ``tweet``) or a bare v2 tweet object.

    The tweet's own objects stand in for a page's includes; a referenced tweet with no
    text (twarc2 leaves a deleted or protected one empty) is taken as missing.
    """
    users: dict[str, Any] = {}
    tweets: dict[str, Any] = {}

    def add_user(user: object) -> None:
        if isinstance(user, Mapping) and user.get("id") is not None and _username(user):
            users[str(user["id"])] = user["username"]

    add_user(tweet.get("author"))
    refs = tweet.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, Mapping):
            continue
        embedded = ref.get("tweet") if isinstance(ref.get("tweet"), Mapping) else ref
        if isinstance(embedded.get("text"), str) or isinstance(embedded.get("note_tweet"), Mapping):
            tweets[str(ref.get("id"))] = embedded
            add_user(embedded.get("author"))
    return twitter_v2_record(tweet, users, tweets)
