"""Who a request comes from: X-Forwarded-For believed from trusted proxies only, and the
share key of a client (IPv6 by /64)."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import pytest
from pydantic import ValidationError

from swarmlens.serve.metrics import Metrics
from swarmlens.serve.middleware import GuardMiddleware, client_key, forwarded_client
from swarmlens.serve.settings import ServerSettings

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128")]


def test_the_header_is_ignored_from_an_untrusted_peer() -> None:
    assert forwarded_client("203.0.113.9", [b"198.51.100.1"], PROXIES) == "203.0.113.9"
    assert forwarded_client("203.0.113.9", [b"198.51.100.1"], []) == "203.0.113.9"


def test_behind_trusted_proxies_the_last_untrusted_hop_is_the_client() -> None:
    # The client may write anything left of what the first proxy appended.
    header = [b"1.1.1.1, 198.51.100.7", b"10.1.2.3"]
    assert forwarded_client("10.0.0.2", header, PROXIES) == "198.51.100.7"
    assert forwarded_client("::1", [b"[2001:db8::5]:4711"], PROXIES) == "2001:db8::5"
    assert forwarded_client("10.0.0.2", [b"198.51.100.7:80"], PROXIES) == "198.51.100.7"
    assert forwarded_client("10.0.0.2", [], PROXIES) == "10.0.0.2"
    # A hop that is no address is not believed: the last good hop (here the peer) is kept.
    assert forwarded_client("10.0.0.2", [b"evil, not-an-ip"], PROXIES) == "10.0.0.2"
    # Only proxies all the way: the leftmost proxy is the client.
    assert forwarded_client("10.0.0.2", [b"10.9.9.9"], PROXIES) == "10.9.9.9"


def test_ipv6_clients_share_their_slash_64() -> None:
    assert client_key("2001:db8:1:2::a") == client_key("2001:db8:1:2:ffff::b")
    assert client_key("2001:db8:1:3::a") != client_key("2001:db8:1:2::a")
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key("192.0.2.1") != client_key("192.0.2.2")
    assert client_key("testclient") == "testclient"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    settings = ServerSettings(trusted_proxies="10.0.0.0/8, 127.0.0.1")
    assert [str(n) for n in settings.proxy_networks] == ["10.0.0.0/8", "127.0.0.1/32"]
    with pytest.raises(ValidationError, match="no IP address or network"):
        ServerSettings(trusted_proxies="proxy.example")


def guard_shares(peer: str, forwarded: list[str]) -> tuple[list[int], list[str]]:
    """Statuses a guard (one body per client, 10.0.0.0/8 trusted) gives requests from
    ``peer`` each naming the next ``forwarded`` client, whose bodies never arrive; and the
    clients the app saw."""
    seen: list[str] = []
    statuses: list[int] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        seen.append(scope["client"][0])
        await receive()  # the body never comes: the request keeps its client's share

    async def main() -> None:
        guard = GuardMiddleware(app, Metrics(), max_body_bytes=1000, max_inflight=50,
                                max_inflight_per_client=1, body_timeout=60,
                                trusted_proxies=PROXIES)
        stalled = asyncio.Event()

        async def receive() -> dict:
            await stalled.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        tasks = []
        for hop in forwarded:
            scope = {"type": "http", "method": "POST", "path": "/v1/classify",
                     "client": (peer, 4711),
                     "headers": [(b"content-length", b"100"), (b"x-forwarded-for", hop.encode())]}
            tasks.append(asyncio.ensure_future(guard(scope, receive, send)))
        for _ in range(10):  # every request reaches the app or its refusal
            await asyncio.sleep(0)
        stalled.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    return statuses, seen


def test_the_guard_counts_forwarded_clients_only_behind_a_trusted_proxy() -> None:
    hops = [f"198.51.100.{i}" for i in range(1, 6)]
    # From a client: one share whatever it claims (the rest 429), its own address seen.
    statuses, seen = guard_shares("203.0.113.9", hops)
    assert statuses.count(429) == 4 and seen == ["203.0.113.9"]
    # From a trusted proxy: each forwarded client has its own share, and is the client.
    statuses, seen = guard_shares("10.0.0.2", hops)
    assert 429 not in statuses and seen == hops
