"""Connections that never finish their headers, against a real uvicorn whose file
descriptor limit is lowered (400) so a few thousand of them would exhaust it: /healthz and
a one-post classify are still answered, idle connections are closed after the header time
limit, and endless headers are refused."""

from __future__ import annotations

import contextlib
import errno
import functools
import resource
import socket
import subprocess
from collections.abc import Iterator
from unittest import mock

import httpx
import pytest

from tests.support.processes import LiveServer

pytestmark = pytest.mark.integration

FD_LIMIT = 400
HALF_OPEN = 3000


def lowered_fd_limit() -> None:
    # In the server process, before it starts: soft and hard, so it cannot raise it.
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@pytest.fixture(scope="module")
def server(shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    env = {**shared_env, "SWARMLENS_HEADER_TIMEOUT": "3"}
    popen = functools.partial(subprocess.Popen, preexec_fn=lowered_fd_limit)
    with mock.patch("tests.support.processes.subprocess.Popen", popen):
        live = LiveServer(env, tmp_path_factory.mktemp("connections") / "data")
    yield live
    live.stop()


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def half_open(url: str, count: int) -> list[socket.socket]:
    """``count`` connections that send nothing (connects are not waited for)."""
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        code = sock.connect_ex(address(url))
        assert code in (0, errno.EINPROGRESS), errno.errorcode.get(code)
        sockets.append(sock)
    return sockets


def own_fd_room() -> int:
    """Descriptors this test process may open (its soft limit raised to the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = HALF_OPEN + 512 if hard == resource.RLIM_INFINITY else min(hard, HALF_OPEN + 512)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft - 256


def test_idle_connections_do_not_take_health_and_classify(server: LiveServer) -> None:
    # More connections than the server has file descriptors: before the fix the server
    # stopped accepting and /healthz hung; now the longest idle connection gives way.
    count = min(HALF_OPEN, own_fd_room())
    if count < 2 * FD_LIMIT:
        pytest.skip(f"this process may open only {count} sockets")
    sockets = half_open(server.url, count)
    try:
        assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
        body = {"posts": [{"id": "1", "text": "hello"}]}
        assert httpx.post(server.url + "/v1/classify", json=body, timeout=10).status_code == 200
        metrics = httpx.get(server.url + "/metrics", timeout=10).text
        assert 'swarmlens_connections_dropped_total{reason="over_limit"}' in metrics
    finally:
        for sock in sockets:
            sock.close()
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200


def test_headers_that_never_end_are_cut_off(server: LiveServer) -> None:
    # Half a request, then nothing: closed after SWARMLENS_HEADER_TIMEOUT (3 s).
    with socket.create_connection(address(server.url)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sock.settimeout(30)
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(4096) == b""
    # Headers sent byte after byte past the limit: 431, then closed.
    with socket.create_connection(address(server.url)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sock.settimeout(30)
        answer = b""
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            for _ in range(40):
                sock.sendall(b"X-Filler: " + b"a" * 4000 + b"\r\n")
            while chunk := sock.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
