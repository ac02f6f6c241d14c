"""Hashtag volumes, top and emerging hashtags, top domains, in-process over the demo dataset."""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

TAG = "SwarmlensApiTest"


def test_unknown_hashtag_and_bad_parameters(client: TestClient) -> None:
    empty = client.get("/v1/hashtags/nosuchtagatall/volume")
    assert empty.status_code == 200 and empty.json()["series"] == []
    bad = client.get("/v1/hashtags/x/volume", params={"interval": "week"})
    assert bad.status_code == 422 and "interval" in bad.json()["message"]
    backwards = client.get(
        "/v1/hashtags/x/volume",
        params={"start": "2015-11-14T00:00:00Z", "end": "2015-11-13T00:00:00Z"},
    )
    assert backwards.status_code == 400 and "start must be before end" in backwards.text
    missing = client.post("/v1/datasets", json={"path": "/nonexistent/x"})
    # The same words as for a path that exists but is no dataset (issue 26: attach errors
    # must not tell an API client whether a path exists on the server).
    assert missing.status_code == 400 and missing.json()["code"] == "E001"
    assert "no readable scored dataset" in missing.json()["detail"]


def test_ingest_and_volumes_match_classify(client: TestClient) -> None:
    texts = [
        f"the State of the Caliphate hits France #{TAG}",
        f"Not in my name, flooding #{TAG} with cats 🐱",
        f"Police cordon near the stadium #{TAG}",
        f"ces lâches ne représentent personne #{TAG.lower()}",
        f"باقية وتتمدد #{TAG}",
        f"RT @demo_x: Paris stands together #{TAG}",
    ]
    posts = []
    for i in range(30):
        hour = i % 5
        posts.append(
            {
                "id": f"api-{i}",
                "text": texts[i % len(texts)],
                "created_at": f"2016-03-01T{10 + hour:02d}:{(i * 7) % 60:02d}:00Z",
                "platform": "twitter",
                "author": f"demo_{i % 4}",
                "retweet_of": "api-0" if i % 6 == 5 else None,
            }
        )
    first = client.post("/v1/posts", json={"posts": posts}).json()
    assert (first["accepted"], first["duplicate"], first["rejected"]) == (30, 0, 0)
    again = client.post("/v1/posts", json={"posts": posts[:10]}).json()
    assert (again["accepted"], again["duplicate"]) == (0, 10)
    classified = client.post(
        "/v1/classify",
        json={"posts": [{"id": p["id"], "text": p["text"]} for p in posts]},
    ).json()["results"]
    expected: Counter = Counter()
    for post, result in zip(posts, classified, strict=True):
        expected[(post["created_at"][:13] + ":00:00Z", result["label"])] += 1
    url = f"/v1/hashtags/{quote('#' + TAG)}/volume"
    volume = client.get(
        url, params={"start": "2016-03-01T09:00:00Z", "end": "2016-03-01T16:00:00Z"}
    ).json()
    assert volume["hashtag"] == TAG.lower()
    assert [p["t"] for p in volume["series"]] == [
        f"2016-03-01T{h:02d}:00:00Z" for h in range(9, 16)
    ]
    got = Counter(
        {
            (p["t"], label): p[label]
            for p in volume["series"]
            for label in ("supportive", "opposing", "neutral")
            if p[label]
        }
    )
    assert got == expected
    assert volume["series"][0]["total"] == 0  # 09:00 is empty but present
    only = client.get(url, params=[("label", "opposing"), ("exclude_retweets", "true")]).json()
    assert set(only["series"][0]) == {"t", "opposing", "total"}
    no_rt = sum(
        1
        for p, r in zip(posts, classified, strict=True)
        if r["label"] == "opposing" and not p["retweet_of"]
    )
    assert sum(p["opposing"] for p in only["series"]) == no_rt
    strict = client.get(url, params={"min_score": 0.999}).json()
    confident = sum(1 for r in classified if max(r["scores"].values()) >= 0.999)
    assert sum(p["total"] for p in strict["series"]) == confident


def test_volume_aggregates_equal_exact_scan(client: TestClient) -> None:
    url = f"/v1/hashtags/{quote('#Paris_Is_Burning')}/volume"
    fast = client.get(
        url,
        params={"start": "2015-11-13T00:00:00Z", "end": "2015-11-16T00:00:00Z", "min_score": 0.9},
    ).json()
    exact = client.get(
        url,
        params={
            "start": "2015-11-13T00:00:00.000001Z",
            "end": "2015-11-16T00:00:00Z",
            "min_score": 0.9,
        },
    ).json()
    assert not fast["exact"] and exact["exact"]
    assert sum(p["total"] for p in fast["series"]) > 100
    # The first bucket differs by at most posts at exactly 00:00:00; compare the rest.
    assert fast["series"][1:] == exact["series"][1:]
    daily = client.get(
        url,
        params={"interval": "day", "start": "2015-11-10T00:00:00Z", "end": "2015-11-21T00:00:00Z"},
    ).json()
    daily_exact = client.get(
        url,
        params={
            "interval": "day",
            "start": "2015-11-10T00:00:00.5Z",
            "end": "2015-11-21T00:00:00Z",
        },
    ).json()
    hourly = client.get(
        url,
        params={"interval": "hour", "start": "2015-11-10T00:00:00Z", "end": "2015-11-21T00:00:00Z"},
    ).json()
    assert not daily["exact"] and daily_exact["exact"] and len(daily["series"]) == 11
    assert daily["series"][1:] == daily_exact["series"][1:]
    assert sum(p["total"] for p in daily["series"]) == sum(p["total"] for p in hourly["series"])
    arabic = client.get(f"/v1/hashtags/{quote('#باريـس_تشتعل')}/volume").json()
    assert arabic["hashtag"] == "باريستشتعل" and arabic["series"]


def test_top_emerging_domains(client: TestClient) -> None:
    top = client.get("/v1/hashtags/top", params={"limit": 5}).json()["hashtags"]
    assert top[0]["hashtag"] == "parisisburning"
    first = top[0]
    assert first["total"] == first["supportive"] + first["opposing"] + first["neutral"]
    assert first["flood_share"] == pytest.approx(
        first["opposing"] / (first["supportive"] + first["opposing"]), abs=1e-4
    )
    supportive = client.get("/v1/hashtags/top", params={"label": "supportive", "limit": 3}).json()[
        "hashtags"
    ]
    assert all(h["total"] == h["supportive"] for h in supportive)
    emerging = client.get(
        "/v1/hashtags/emerging",
        params={"end": "2015-11-14T03:00:00Z", "window_hours": 6},
    ).json()
    names = [h["hashtag"] for h in emerging["hashtags"]]
    assert "parisisburning" in names or "باريستشتعل" in names
    assert emerging["hashtags"][0]["burst_score"] >= emerging["hashtags"][-1]["burst_score"]
    domains = client.get("/v1/domains/top", params={"limit": 50}).json()["domains"]
    assert {"justpaste.it", "t.me"} <= {d["domain"] for d in domains}


def test_emerging_counts_accounts_not_posts(client: TestClient) -> None:
    """Ingested in one hour: #SwarmlensCrowdTest by 40 accounts, #SwarmlensFloodTest by one
    account 120 times. Scored on accounts, the crowd ranks and the flood does not."""
    posts = [
        {
            "id": f"crowd-{i}",
            "text": f"Paris stands together #SwarmlensCrowdTest {i}",
            "created_at": f"2017-05-01T10:{i:02d}:00Z",
            "author": f"demo_crowd_{i}",
        }
        for i in range(40)
    ] + [
        {
            "id": f"flood-{i}",
            "text": f"buy now #SwarmlensFloodTest {i}",
            "created_at": f"2017-05-01T10:{i % 60:02d}:{i // 60:02d}Z",
            "author": "demo_flooder",
        }
        for i in range(120)
    ]
    assert client.post("/v1/posts", json={"posts": posts}).json()["accepted"] == 160
    params = {"end": "2017-05-01T11:00:00Z", "window_hours": 1}
    body = client.get("/v1/hashtags/emerging", params=params).json()
    assert body["window"] == {
        "start": "2017-05-01T10:00:00Z",
        "end": "2017-05-01T11:00:00Z",
        "hours": 1,
    }
    names = [h["hashtag"] for h in body["hashtags"]]
    assert names[0] == "swarmlenscrowdtest" and "swarmlensfloodtest" not in names
    crowd = body["hashtags"][0]
    assert (crowd["accounts"], crowd["recent"], crowd["baseline_accounts"]) == (40, 40, 0)
    assert 0 < crowd["expected_accounts"] < 1 and 0 <= crowd["p_value"] < 1e-10
    assert crowd["burst_score"] > 10 and body["prior_accounts_per_window"] > 0
    loose = client.get("/v1/hashtags/emerging", params={**params, "min_recent": 1}).json()
    ranked = {h["hashtag"]: h for h in loose["hashtags"]}
    flood = ranked["swarmlensfloodtest"]
    assert (flood["accounts"], flood["recent"]) == (1, 120)
    assert flood["burst_score"] < crowd["burst_score"]
    bad = client.get("/v1/hashtags/emerging", params={"window_hours": 0})
    assert bad.status_code == 422 and "window_hours" in bad.json()["message"]


def test_emerging_finds_the_demo_burst_within_its_first_hour(client: TestClient) -> None:
    """The supporters' tags start about 21:15 UTC on 13 Nov 2015 (the demo's attack hour):
    a one-hour window ending at 22:00 already ranks them first, none seen the day before."""
    body = client.get(
        "/v1/hashtags/emerging", params={"end": "2015-11-13T22:00:00Z", "window_hours": 1}
    ).json()
    top = body["hashtags"][:2]
    assert {h["hashtag"] for h in top} == {"باريستشتعل", "الدولهالاسلاميهتضربفرنسا"}
    assert all(h["baseline_accounts"] == 0 and h["accounts"] >= 5 for h in top)
    assert all(0 < h["expected_accounts"] < 0.1 for h in top)


def test_tags_are_shown_as_people_spell_them(client: TestClient) -> None:
    """``display`` is the key's most frequent spelling, beside the key (the identity)."""
    spellings = ["SwarmlensSpellTest"] * 4 + ["swarmlensspelltest"] * 2 + ["SWARMLENSSPELLTEST"]
    arabic = "الدولة_سبيل_اختبار"  # ta marbuta: the key folds it to ha, the display keeps it
    posts = [
        {"id": f"spell-{i}", "text": f"Paris stands together #{tag} #{arabic}",
         "created_at": f"2018-02-03T10:{i:02d}:00Z", "author": f"demo_spell_{i}"}
        for i, tag in enumerate(spellings)
    ]
    assert client.post("/v1/posts", json={"posts": posts}).json()["accepted"] == len(posts)
    window = {"start": "2018-02-03T00:00:00Z", "end": "2018-02-04T00:00:00Z"}
    top = client.get("/v1/hashtags/top", params=window).json()["hashtags"]
    shown = {h["hashtag"]: h["display"] for h in top}
    assert shown == {"swarmlensspelltest": "SwarmlensSpellTest", "الدولهسبيلاختبار": arabic}
    volume = client.get("/v1/hashtags/SWARMLENSSPELLTEST/volume", params=window).json()
    assert (volume["hashtag"], volume["display"]) == ("swarmlensspelltest", "SwarmlensSpellTest")
    emerging = client.get(
        "/v1/hashtags/emerging", params={"end": "2018-02-03T11:00:00Z", "window_hours": 1}
    ).json()["hashtags"]
    assert {h["hashtag"]: h["display"] for h in emerging} == shown
    # The demo dataset (attached): its most frequent spellings, not its keys.
    demo = client.get("/v1/hashtags/top", params={"limit": 50}).json()["hashtags"]
    demo_shown = {h["hashtag"]: h["display"] for h in demo}
    assert demo_shown["parisisburning"] == "ParisIsBurning"
    assert demo_shown["الدولهالاسلاميهتضربفرنسا"] == "الدولة_الإسلامية_تضرب_فرنسا"
