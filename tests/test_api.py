"""The HTTP API against real uvicorn servers on loopback."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import LiveServer

pytestmark = pytest.mark.integration
TAG = "SwarmlensApiTest"


def test_service_endpoints(live_server: str) -> None:
    assert httpx.get(f"{live_server}/healthz").json() == {"status": "ok"}
    info = httpx.get(f"{live_server}/info").json()
    assert info["max_batch"] == 1000 and info["store"]["dataset_rows"] == 6000
    model = httpx.get(f"{live_server}/v1/models/current").json()
    assert model["model_version"] == info["model_version"]
    assert model["labels"] == ["supportive", "opposing", "neutral"]
    schema = httpx.get(f"{live_server}/openapi.json").json()
    assert "/v1/hashtags/{tag}/volume" in schema["paths"]
    assert httpx.get(f"{live_server}/docs").status_code == 200
    page = httpx.get(f"{live_server}/")
    assert page.status_code == 200 and "swarmlens" in page.text


def test_classify(live_server: str) -> None:
    posts = [
        {"id": "b", "text": "Glory to the soldiers of the caliphate #ParisIsBurning"},
        {"id": "a", "text": "Not in my name. Flooding this tag with cats 🐱 #ParisIsBurning"},
        {"id": "c", "text": "Police cordon in the 10th arrondissement", "lang": "en"},
        {"id": "d", "text": ""},
    ]
    response = httpx.post(f"{live_server}/v1/classify", json={"posts": posts}).json()
    results = response["results"]
    assert [r["id"] for r in results] == ["b", "a", "c", "d"]
    assert [r["label"] for r in results[:3]] == ["supportive", "opposing", "neutral"]
    for r in results:
        assert abs(sum(r["scores"].values()) - 1) < 1e-3 and "explanation" not in r
    assert results[0]["hashtags"] == ["parisisburning"] and results[2]["lang"] == "en"
    explained = httpx.post(f"{live_server}/v1/classify?explain=true", json={"posts": posts[:1]})
    assert explained.json()["results"][0]["explanation"][0]["term"]
    assert explained.json()["model_version"] == response["model_version"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"posts": []}, "posts"),
        ({"posts": [{"id": "x"}]}, "text"),
        ({"items": []}, "posts"),
        ({"posts": [{"id": "", "text": "x"}]}, "id"),
    ],
)
def test_invalid_bodies_name_the_field(live_server: str, body: dict, field: str) -> None:
    response = httpx.post(f"{live_server}/v1/classify", json=body)
    assert response.status_code == 422
    assert field in response.json()["message"]


def test_size_limits(live_server: str) -> None:
    many = {"posts": [{"id": str(i), "text": "x"} for i in range(1001)]}
    response = httpx.post(f"{live_server}/v1/classify", json=many)
    assert response.status_code == 413 and "max_batch" in response.json()["detail"]
    huge = b'{"posts": [{"id": "1", "text": "' + b"x" * (9 * 1024 * 1024) + b'"}]}'
    response = httpx.post(
        f"{live_server}/v1/classify", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_unknown_hashtag_and_bad_parameters(live_server: str) -> None:
    empty = httpx.get(f"{live_server}/v1/hashtags/nosuchtagatall/volume")
    assert empty.status_code == 200 and empty.json()["series"] == []
    bad = httpx.get(f"{live_server}/v1/hashtags/x/volume", params={"interval": "week"})
    assert bad.status_code == 422 and "interval" in bad.json()["message"]
    backwards = httpx.get(
        f"{live_server}/v1/hashtags/x/volume",
        params={"start": "2015-11-14T00:00:00Z", "end": "2015-11-13T00:00:00Z"},
    )
    assert backwards.status_code == 400 and "start must be before end" in backwards.text
    missing = httpx.post(f"{live_server}/v1/datasets", json={"path": "/nonexistent/x"})
    assert missing.status_code == 400 and "does not exist" in missing.json()["detail"]


def test_ingest_and_volumes_match_classify(live_server: str) -> None:
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
    first = httpx.post(f"{live_server}/v1/posts", json={"posts": posts}).json()
    assert (first["accepted"], first["duplicate"], first["rejected"]) == (30, 0, 0)
    again = httpx.post(f"{live_server}/v1/posts", json={"posts": posts[:10]}).json()
    assert (again["accepted"], again["duplicate"]) == (0, 10)
    classified = httpx.post(
        f"{live_server}/v1/classify",
        json={"posts": [{"id": p["id"], "text": p["text"]} for p in posts]},
    ).json()["results"]
    expected: Counter = Counter()
    for post, result in zip(posts, classified, strict=True):
        expected[(post["created_at"][:13] + ":00:00Z", result["label"])] += 1
    url = f"{live_server}/v1/hashtags/{quote('#' + TAG)}/volume"
    volume = httpx.get(
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
    only = httpx.get(url, params=[("label", "opposing"), ("exclude_retweets", "true")]).json()
    assert set(only["series"][0]) == {"t", "opposing", "total"}
    no_rt = sum(
        1
        for p, r in zip(posts, classified, strict=True)
        if r["label"] == "opposing" and not p["retweet_of"]
    )
    assert sum(p["opposing"] for p in only["series"]) == no_rt
    strict = httpx.get(url, params={"min_score": 0.999}).json()
    confident = sum(1 for r in classified if max(r["scores"].values()) >= 0.999)
    assert sum(p["total"] for p in strict["series"]) == confident


def test_volume_aggregates_equal_exact_scan(live_server: str) -> None:
    url = f"{live_server}/v1/hashtags/{quote('#Paris_Is_Burning')}/volume"
    fast = httpx.get(
        url,
        params={"start": "2015-11-13T00:00:00Z", "end": "2015-11-16T00:00:00Z", "min_score": 0.9},
    ).json()
    exact = httpx.get(
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
    daily = httpx.get(
        url,
        params={"interval": "day", "start": "2015-11-10T00:00:00Z", "end": "2015-11-21T00:00:00Z"},
    ).json()
    daily_exact = httpx.get(
        url,
        params={
            "interval": "day",
            "start": "2015-11-10T00:00:00.5Z",
            "end": "2015-11-21T00:00:00Z",
        },
    ).json()
    hourly = httpx.get(
        url,
        params={"interval": "hour", "start": "2015-11-10T00:00:00Z", "end": "2015-11-21T00:00:00Z"},
    ).json()
    assert not daily["exact"] and daily_exact["exact"] and len(daily["series"]) == 11
    assert daily["series"][1:] == daily_exact["series"][1:]
    assert sum(p["total"] for p in daily["series"]) == sum(p["total"] for p in hourly["series"])
    arabic = httpx.get(f"{live_server}/v1/hashtags/{quote('#باريـس_تشتعل')}/volume").json()
    assert arabic["hashtag"] == "باريستشتعل" and arabic["series"]


def test_top_emerging_domains(live_server: str) -> None:
    top = httpx.get(f"{live_server}/v1/hashtags/top", params={"limit": 5}).json()["hashtags"]
    assert top[0]["hashtag"] == "parisisburning"
    first = top[0]
    assert first["total"] == first["supportive"] + first["opposing"] + first["neutral"]
    assert first["flood_share"] == pytest.approx(
        first["opposing"] / (first["supportive"] + first["opposing"]), abs=1e-4
    )
    supportive = httpx.get(
        f"{live_server}/v1/hashtags/top", params={"label": "supportive", "limit": 3}
    ).json()["hashtags"]
    assert all(h["total"] == h["supportive"] for h in supportive)
    emerging = httpx.get(
        f"{live_server}/v1/hashtags/emerging",
        params={"end": "2015-11-14T03:00:00Z", "window_hours": 6},
    ).json()
    names = [h["hashtag"] for h in emerging["hashtags"]]
    assert "parisisburning" in names or "باريستشتعل" in names
    assert emerging["hashtags"][0]["burst_score"] >= emerging["hashtags"][-1]["burst_score"]
    domains = httpx.get(f"{live_server}/v1/domains/top", params={"limit": 50}).json()["domains"]
    assert {"justpaste.it", "t.me"} <= {d["domain"] for d in domains}


def test_metrics(live_server: str) -> None:
    httpx.get(f"{live_server}/healthz")
    text = httpx.get(f"{live_server}/metrics").text
    assert 'swarmlens_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "swarmlens_request_seconds_bucket" in text
    assert "swarmlens_posts_classified_total" in text and "swarmlens_model_info{" in text


def test_api_keys_and_binding(
    shared_env: dict[str, str], demo_dataset: Path, tmp_path: Path
) -> None:
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "classifier.cli",
            "serve",
            "--host",
            "0.0.0.0",
            "--data-dir",
            str(tmp_path / "d0"),
        ],
        env=shared_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "no API keys" in refused.stderr
    env = {**shared_env, "SWARMLENS_API_KEYS": "k-one,k-two"}
    server = LiveServer(env, tmp_path / "d1")
    try:
        body = {"posts": [{"id": "k1", "text": "x", "created_at": "2016-01-01T00:00:00Z"}]}
        assert httpx.post(f"{server.url}/v1/posts", json=body).status_code == 401
        assert (
            httpx.post(
                f"{server.url}/v1/posts", json=body, headers={"X-API-Key": "wrong"}
            ).status_code
            == 403
        )
        ok = httpx.post(
            f"{server.url}/v1/posts", json=body, headers={"Authorization": "Bearer k-two"}
        )
        assert ok.status_code == 200 and ok.json()["accepted"] == 1
        attach = httpx.post(
            f"{server.url}/v1/datasets",
            json={"path": str(demo_dataset)},
            headers={"X-API-Key": "k-one"},
        )
        assert attach.status_code == 200 and attach.json()["rows"] == 6000
        assert httpx.get(f"{server.url}/v1/hashtags/top").status_code == 200
        assert httpx.get(f"{server.url}/info").json()["writes_need_api_key"] is True
    finally:
        server.stop()


def test_overload_sheds_instead_of_timing_out(shared_env: dict[str, str], tmp_path: Path) -> None:
    env = {**shared_env, "SWARMLENS_MAX_INFLIGHT": "1"}
    server = LiveServer(env, tmp_path / "d")
    try:
        body = {"posts": [{"id": str(i), "text": f"post number {i} " * 20} for i in range(1000)]}

        def call(_: int) -> int:
            return httpx.post(f"{server.url}/v1/classify", json=body, timeout=60).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = Counter(pool.map(call, range(16)))
        assert codes[200] >= 1 and codes[503] >= 1
        assert set(codes) <= {200, 503}
    finally:
        server.stop()


def test_schemathesis_finds_no_server_error(shared_env: dict[str, str], tmp_path: Path) -> None:
    server = LiveServer(shared_env, tmp_path / "d")
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--seed",
                "1",
                "--phases",
                "examples,coverage,fuzzing",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        report = result.stdout[-3000:] + result.stderr[-2000:]
        assert result.returncode == 0, report
        assert "Loaded specification" in result.stdout and "generated" in result.stdout
    finally:
        server.stop()
