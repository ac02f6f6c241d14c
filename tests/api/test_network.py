"""GET /v1/hashtags/{tag}/network over ingested posts and the attached demo dataset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

TAG = "SwarmlensNetworkApiTest"
T0 = datetime(2015, 11, 15, 12, 0, tzinfo=UTC)


def _post(i: int, author: str, at: datetime, text: str, **extra: str) -> dict:
    return {
        "id": f"net-api-{i}",
        "text": f"{text} #{TAG}",
        "lang": "en",
        "created_at": at.isoformat(),
        "author": author,
        "platform": "twitter",
        **extra,
    }


def test_network_of_ingested_posts(client: TestClient) -> None:
    posts = [_post(0, "net_hub", T0, "Paris stands together")]
    posts += [
        _post(1 + i, f"net_fan{i}", T0 + timedelta(minutes=i), "RT @net_hub: Paris stands",
              retweet_of="net-api-0")
        for i in range(8)
    ]
    # Two accounts pushing the same two links seconds apart: a coordinated pair.
    for k, link in enumerate(["https://justpaste.it/netA", "https://justpaste.it/netB"]):
        at = T0 + timedelta(hours=k + 1)
        posts.append(_post(20 + 2 * k, "net_push1", at, f"look {link}"))
        posts.append(_post(21 + 2 * k, "net_push2", at + timedelta(seconds=5), f"see {link}"))
    stored = client.post("/v1/posts", json={"posts": posts})
    assert stored.status_code == 200 and stored.json()["rejected"] == 0, stored.text
    answer = client.get(f"/v1/hashtags/{TAG}/network")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["hashtag"] == TAG.lower() and data["posts"] == 13 and data["retweets"] == 8
    (hub,) = data["communities"]
    assert hub["size"] == 9 and hub["centralization"] == 1.0 and hub["resilience"] == 0.0
    assert hub["top_accounts"] == ["net_hub"]
    assert data["accounts"][0] == {
        "account": "net_hub", "community": 0, "in_strength": 8, "out_strength": 0,
    }
    assert data["coordination"]["groups"] == [
        {
            "accounts": ["net_push1", "net_push2"],
            "urls": ["https://justpaste.it/netA", "https://justpaste.it/netB"],
            "co_shares": 2,
            "window_s": 60.0,
        }
    ]
    by = data["coordination"]["by"]
    assert by["link"]["groups"] == [
        {
            "accounts": ["net_push1", "net_push2"],
            "co_actions": 2,
            "items": ["https://justpaste.it/netA", "https://justpaste.it/netB"],
        }
    ]
    assert by["link"]["pairs"] == 1 and by["retweet"]["pairs"] == 0
    assert by["text"]["available"] is False and by["text"]["reason"]
    assert data["totals"]["coordination_link_pairs"] == 1
    assert data["robustness"]["targeted"][0] == [0, 1.0, 1.0]
    assert len(data["drawing"]["nodes"]) == 9
    # A window that leaves the links out, and a window too short to see them as co-shares.
    early = client.get(
        f"/v1/hashtags/{TAG}/network",
        params={"start": T0.isoformat(), "end": (T0 + timedelta(minutes=30)).isoformat()},
    ).json()
    assert early["posts"] == 9 and early["coordination"]["groups"] == []
    short = client.get(f"/v1/hashtags/{TAG}/network", params={"coordination_window": 2}).json()
    assert short["coordination"]["groups"] == []
    assert short["coordination"]["by"]["link"]["pairs"] == 0
    once = client.get(f"/v1/hashtags/{TAG}/network", params={"min_co_actions": 3}).json()
    assert once["coordination"]["min_co_actions"] == 3 and once["coordination"]["groups"] == []


def test_network_of_the_demo_is_bounded(client: TestClient) -> None:
    answer = client.get("/v1/hashtags/ParisIsBurning/network")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["communities"] and data["totals"]["communities"] >= len(data["communities"])
    assert len(data["accounts"]) <= 500 and data["totals"]["accounts"] >= len(data["accounts"])
    assert all(sum(c["labels"].values()) > 0 for c in data["communities"])
    assert data["method"] in ("louvain", "leiden")


def test_network_bad_requests(client: TestClient) -> None:
    backwards = client.get(
        "/v1/hashtags/x/network",
        params={"start": "2015-11-14T00:00:00Z", "end": "2015-11-13T00:00:00Z"},
    )
    assert backwards.status_code == 400 and backwards.json()["code"] == "E008"
    no_tag = client.get("/v1/hashtags/%23%23/network")
    assert no_tag.status_code == 400 and "hashtag" in no_tag.json()["message"]
    window = client.get("/v1/hashtags/x/network", params={"coordination_window": 0})
    assert window.status_code == 422 and "coordination_window" in window.json()["message"]
    minimum = client.get("/v1/hashtags/x/network", params={"min_co_actions": 0})
    assert minimum.status_code == 422 and "min_co_actions" in minimum.json()["message"]
    empty = client.get("/v1/hashtags/nosuchtagatall/network")
    assert empty.status_code == 200 and empty.json()["communities"] == []
