"""HTTP API under load: classify and hashtag-volume latency on a 10M-post dataset.

    python bench/api_load.py [--rows 10000000] [--rate 200] [--seconds 60] [--json]
    python bench/api_load.py --rows 200000 --rate 100 --seconds 10      # quick run

What it does, on loopback (127.0.0.1) only:

1. Builds a scored dataset of ``--rows`` posts without classifying them all: a small
   demo archive (``--base-posts``, default 20,000) is scored by the real
   ``swarmlens score ARCHIVE --out DIR --workers 2``, then DuckDB replicates those rows
   (new unique ``post_id || '-' || copy``, ``created_at`` shifted by one week per copy,
   so 10M rows span about 9.6 years) into a hive-partitioned ``day=YYYY-MM-DD/``
   Parquet dataset. The dataset (and the model registry it was scored with) is cached
   under ``--cache-dir`` (default /tmp/swarmlens-api-load), keyed by row count, so
   re-runs skip this step. Build time is printed.
2. Starts the real server (``python -m classifier.cli serve --attach DATASET``) on a free
   loopback port with a fresh data dir, and times start-up: until the "attached" line
   (aggregates computed) and until ``GET /healthz`` answers.
3. Runs two open-loop load phases, each at ``--rate`` requests/s for ``--seconds``:
   (a) ``POST /v1/classify`` with one post (50 different demo texts, no ``lang``, so
   language detection runs); (b) ``GET /v1/hashtags/{tag}/volume`` over the big
   dataset with varying tag (top 8), interval (hour with an hour-aligned 1-14 day
   range; day unbounded or with a 30-365 day range), ``label=supportive`` on a third
   and ``lang=en`` on a tenth. Requests are sent at their scheduled times whatever the
   responses, and latency is measured from the *scheduled* time, so a slow server
   cannot hide its queueing (no coordinated omission). The load uses asyncio (uvloop if
   installed) and a minimal keep-alive HTTP/1.1 client (``LeanClient``, up to 2 x rate
   connections): httpx's pool cost a full core at this rate and made the client, not
   the server, the bottleneck. httpx serves the control requests (/healthz, /metrics,
   /info, probes). Exactly rate x seconds requests are sent; stragglers get ``--drain``
   seconds, then count as errors. ``--warmup`` sequential requests precede each phase
   (not counted). ``--phase classify|volume`` runs one phase only.
4. Reports per phase: requests, achieved rate (responses/s and 2xx/s), errors by
   status, p50/p95/p99/max latency (2xx responses; also per kind of volume query),
   server RSS before/after/peak and 5 s later, CPU of the server, of the client and of
   other processes, the server's own mean handling time and shed (503) count from
   ``/metrics``, then the targets: classify p99 < 25 ms, volume p99 < 100 ms, no
   errors, RSS flat (grows by less than 5 %). Single "probe" requests follow, without
   load (volume: 7 d hourly, 365 d daily, whole series daily and hourly, a
   non-hour-aligned range that forces a raw Parquet scan; top hashtags, /info,
   /metrics). ``--json`` prints the figures as JSON instead of the table. Figures are
   printed, never asserted: missed targets do not change the exit code.
5. Always stops the server (SIGTERM, then SIGKILL after 20 s) and removes its data dir,
   also on Ctrl-C or SIGTERM (the handler stops the server at once).

The client shares the machine with the server (and with whatever else runs): the
"lag" column (how late the generator itself sent) and the CPU of other processes tell
whether the figures are the server's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]

HOST = "127.0.0.1"  # loopback only, never anything else
SHIFT_DAYS = 7  # each copy of the base rows moves this many days later
DATASET_FORMAT = 1  # bump when the replicated layout changes (invalidates the cache)
TARGETS = {"classify_p99_ms": 25.0, "volume_p99_ms": 100.0, "errors": 0, "rss_growth_pct": 5.0}


def log(message: str) -> None:
    print(f"[api_load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


_RUNNING: list[subprocess.Popen[bytes]] = []  # the server, while it runs


def _interrupt(signum: int, frame: object) -> None:
    """Ctrl-C / SIGTERM: stop the server at once (the finally blocks then clean up)."""
    for proc in _RUNNING:
        if proc.poll() is None:
            proc.terminate()
    raise KeyboardInterrupt


# -- 1. the dataset --------------------------------------------------------------------------


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SWARMLENS_MODELS_DIR"] = str(cache / "models")
    env.pop("SWARMLENS_DATA_DIR", None)
    return env


def build_base(cache: Path, base_posts: int) -> tuple[Path, float]:
    """Demo archive of ``base_posts`` posts scored by the real CLI; cached."""
    from swarmlens.classifier.demo.generator import DEMO_SEED, write_demo_jsonl

    base = cache / f"base-{base_posts}"
    scored = base / "scored"
    if (scored / "_summary.json").exists():
        return scored, 0.0
    started = time.perf_counter()
    shutil.rmtree(base, ignore_errors=True)
    archive = write_demo_jsonl(base / "demo.jsonl", n_posts=base_posts, seed=DEMO_SEED + 3)
    log(f"scoring {base_posts:,} demo posts with `swarmlens score` (builds a model the first time)")
    cmd = [sys.executable, "-m", "swarmlens.classifier.cli", "score", str(archive), "--out", str(scored), "--workers", "2"]
    subprocess.run(cmd, cwd=ROOT, env=_env(cache), check=True, stdout=subprocess.DEVNULL)
    return scored, time.perf_counter() - started


def build_dataset(cache: Path, rows: int, base_posts: int) -> dict[str, Any]:
    """The replicated ``rows``-post dataset and its metadata (span, top hashtags); cached."""
    import duckdb

    target = cache / f"dataset-{rows}-b{base_posts}-s{SHIFT_DAYS}-v{DATASET_FORMAT}"
    meta_path = target / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        meta.update(cached=True, build_seconds=0.0, base_seconds=0.0)
        return meta
    started = time.perf_counter()
    scored, base_seconds = build_base(cache, base_posts)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    data = target / "data"
    tmp = target / ".data.tmp"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET threads = 2")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET temp_directory = '{target / '.duckdb_tmp'}'")
    source = f"read_parquet('{scored}/**/*.parquet', hive_partitioning = false)"
    con.execute(
        f"CREATE TABLE base AS SELECT *, (row_number() OVER (ORDER BY created_at, post_id) - 1)::BIGINT AS rn FROM {source}"
    )
    n_base = con.execute("SELECT count(*) FROM base").fetchone()[0]
    copies = math.ceil(rows / n_base)
    log(f"replicating {n_base:,} scored posts x {copies} copies -> {rows:,} rows with DuckDB")
    replicate_started = time.perf_counter()
    con.execute(
        f"""
        COPY (
            SELECT post_id || '-' || c AS post_id, label, scores, model_version, lang, hashtags, domains,
                   created_at + to_days(CAST(c * {SHIFT_DAYS} AS INTEGER)) AS created_at,
                   platform, author,
                   CASE WHEN retweet_of IS NULL THEN NULL ELSE retweet_of || '-' || c END AS retweet_of,
                   CAST(created_at + to_days(CAST(c * {SHIFT_DAYS} AS INTEGER)) AS DATE) AS day
            FROM base, range({copies}) AS r(c)
            WHERE c * {n_base} + rn < {rows}
        ) TO '{tmp}' (FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd, FILENAME_PATTERN 'part-{{i}}')
        """
    )
    tmp.rename(data)
    replicate_seconds = time.perf_counter() - replicate_started
    check = f"read_parquet('{data}/**/*.parquet', hive_partitioning = false)"
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {check}").fetchall()]
    count, lo, hi = con.execute(
        f"SELECT count(*), min(created_at)::TIMESTAMP, max(created_at)::TIMESTAMP FROM {check}"
    ).fetchone()
    top = [
        r[0]
        for r in con.execute(
            "SELECT key, count(*) AS n FROM (SELECT unnest(hashtags) AS key FROM base) "
            "GROUP BY key ORDER BY n DESC, key LIMIT 10"
        ).fetchall()
    ]
    files = sum(1 for _ in data.rglob("*.parquet"))
    size = sum(p.stat().st_size for p in data.rglob("*.parquet"))
    con.close()
    shutil.rmtree(target / ".duckdb_tmp", ignore_errors=True)
    meta = {
        "path": str(data),
        "rows": int(count),
        "base_posts": int(n_base),
        "copies": copies,
        "shift_days": SHIFT_DAYS,
        "columns": columns,
        "first": lo.replace(tzinfo=UTC).isoformat(),
        "last": hi.replace(tzinfo=UTC).isoformat(),
        "top_hashtags": top,
        "files": files,
        "bytes": size,
        "replicate_seconds": round(replicate_seconds, 2),
    }
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    meta.update(
        cached=False,
        build_seconds=round(time.perf_counter() - started, 2),
        base_seconds=round(base_seconds, 2),
    )
    return meta


# -- 2. the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    attach_seconds: float | None = None
    ready_seconds: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server(cache: Path, run_dir: Path, dataset: Path, timeout: float) -> Server:
    port = free_port()
    log_path = run_dir / "server.log"
    cmd = [
        sys.executable, "-m", "swarmlens.classifier.cli", "serve",
        "--host", HOST, "--port", str(port),
        "--data-dir", str(run_dir / "data"), "--attach", str(dataset),
    ]  # fmt: skip
    with log_path.open("wb") as sink:
        # Own session: Ctrl-C reaches this script only, which then stops the server itself.
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=_env(cache), stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    _RUNNING.append(proc)
    server = Server(proc, port, log_path)
    started = time.perf_counter()
    deadline = started + timeout
    with httpx.Client(base_url=server.base_url, timeout=2.0, trust_env=False) as client:
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log_tail()}")
            if server.attach_seconds is None and "attached " in server.log_tail(50):
                server.attach_seconds = time.perf_counter() - started
            try:
                if client.get("/healthz").json().get("status") == "ok":
                    server.ready_seconds = time.perf_counter() - started
                    return server
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
    raise RuntimeError(f"server not ready after {timeout:.0f} s:\n{server.log_tail()}")


def stop_server(server: Server | None) -> None:
    if server is None or server.proc.poll() is not None:
        return
    server.proc.terminate()
    try:
        server.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=10)


def rss_bytes(pid: int) -> int:
    try:
        proc = psutil.Process(pid)
        return proc.memory_info().rss + sum(
            c.memory_info().rss for c in proc.children(recursive=True)
        )
    except psutil.Error:
        return 0


def machine_busy_seconds() -> float:
    """CPU seconds spent by everything on the machine (all cores), idle and iowait excluded."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def cpu_seconds(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except psutil.Error:
        return 0.0


# -- 3. load -----------------------------------------------------------------------------------


@dataclass
class Spec:
    method: str
    url: str
    params: list[tuple[str, str]] | None = None
    body: dict[str, Any] | None = None
    kind: str = ""


def classify_texts(n: int = 50) -> list[str]:
    """``n`` short demo posts (synthetic), spread over labels, languages and platforms."""
    from swarmlens.classifier.demo.generator import DEMO_SEED, generate_demo

    records = list(generate_demo(3000, seed=DEMO_SEED + 11))
    rng = random.Random(7)
    rng.shuffle(records)
    by_label: dict[str, list[str]] = {}
    for record in records:
        if len(record["text"]) <= 280:
            by_label.setdefault(record["label"], []).append(record["text"])
    texts: list[str] = []
    while len(texts) < n:
        for label in sorted(by_label):
            if by_label[label] and len(texts) < n:
                texts.append(by_label[label].pop())
    return texts


def classify_specs(texts: list[str]) -> Callable[[int], Spec]:
    def make(i: int) -> Spec:
        return Spec("POST", "/v1/classify", body={"posts": [{"id": str(i), "text": texts[i % len(texts)]}]}, kind="classify")

    return make


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def hourly14_specs(meta: dict[str, Any], seed: int = 11) -> Callable[[int], Spec]:
    """Issue 11's load: hourly volume of one of the 20 top hashtags over a 14-day,
    hour-aligned window placed at random in the data (varied tags and windows)."""
    tags = meta["top_hashtags"][:20]
    first = datetime.fromisoformat(meta["first"]).replace(minute=0, second=0, microsecond=0)
    last = datetime.fromisoformat(meta["last"]).replace(minute=0, second=0, microsecond=0)
    span_hours = max(1, int((last - first).total_seconds() // 3600) - 14 * 24)

    def make(i: int) -> Spec:
        rng = random.Random(seed * 1_000_003 + i)
        start = first + timedelta(hours=rng.randrange(0, span_hours + 1))
        params = [("interval", "hour"), ("start", _iso(start)),
                  ("end", _iso(start + timedelta(days=14)))]
        tag = tags[rng.randrange(len(tags))]
        return Spec("GET", f"/v1/hashtags/{quote(tag, safe='')}/volume", params=params,
                    kind="hour, 14 d range")

    return make


def volume_specs(meta: dict[str, Any], seed: int = 11) -> Callable[[int], Spec]:
    """Varying volume queries: all ranges hour-aligned, so the server's aggregates answer."""
    tags = meta["top_hashtags"][:8]
    first = datetime.fromisoformat(meta["first"]).replace(minute=0, second=0, microsecond=0)
    last = datetime.fromisoformat(meta["last"]).replace(minute=0, second=0, microsecond=0)
    span_hours = max(1, int((last - first).total_seconds() // 3600))

    def window(rng: random.Random, hours: int) -> tuple[str, str]:
        hours = min(hours, span_hours)
        start = first + timedelta(hours=rng.randrange(0, span_hours - hours + 1))
        return _iso(start), _iso(start + timedelta(hours=hours))

    def make(i: int) -> Spec:
        rng = random.Random(seed * 1_000_003 + i)
        tag = tags[rng.randrange(len(tags))]
        params: list[tuple[str, str]] = []
        roll = rng.random()
        if roll < 0.45:
            kind = "hour, 1-14 d range"
            start, end = window(rng, 24 * rng.randint(1, 14))
            params += [("interval", "hour"), ("start", start), ("end", end)]
        elif roll < 0.75:
            kind = "day, 30-365 d range"
            start, end = window(rng, 24 * rng.randint(30, 365))
            params += [("interval", "day"), ("start", start), ("end", end)]
        else:
            kind = "day, whole series"
            params.append(("interval", "day"))
        if rng.random() < 1 / 3:
            params.append(("label", "supportive"))
        if rng.random() < 0.1:
            params.append(("lang", "en"))
        return Spec("GET", f"/v1/hashtags/{quote(tag, safe='')}/volume", params=params, kind=kind)

    return make


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class PhaseResult:
    name: str
    target_rate: float
    seconds: float
    sent: int = 0
    completed: int = 0
    ok: int = 0
    wall_seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    bytes_in: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    rss_before: int = 0
    rss_after: int = 0
    rss_peak: int = 0
    rss_settled: int = 0
    server_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    machine_cpu_seconds: float = 0.0
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    server_mean_ms: float | None = None
    shed: int = 0
    warmup_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 2)

        return {
            "target_rate": self.target_rate,
            "seconds": self.seconds,
            "sent": self.sent,
            "completed": self.completed,
            "ok": self.ok,
            "achieved_rate": round(self.completed / self.wall_seconds, 1) if self.wall_seconds else 0.0,
            "ok_rate": round(self.ok / self.wall_seconds, 1) if self.wall_seconds else 0.0,
            "errors": sum(self.errors.values()),
            "errors_by_status": dict(self.errors),
            "p50_ms": r(percentile(lat, 50)),
            "p95_ms": r(percentile(lat, 95)),
            "p99_ms": r(percentile(lat, 99)),
            "max_ms": r(max(lat) if lat else None),
            "client_lag_p99_ms": r(percentile(self.lag_ms, 99)),
            "client_lag_max_ms": r(max(self.lag_ms) if self.lag_ms else None),
            "mean_response_bytes": round(self.bytes_in / self.completed) if self.completed else 0,
            "request_mix": dict(self.kinds),
            "rss_before_mb": round(self.rss_before / 2**20, 1),
            "rss_after_mb": round(self.rss_after / 2**20, 1),
            "rss_peak_mb": round(self.rss_peak / 2**20, 1),
            "rss_settled_mb": round(self.rss_settled / 2**20, 1),
            "rss_growth_pct": round(100 * (self.rss_after - self.rss_before) / self.rss_before, 1)
            if self.rss_before
            else None,
            "server_cpu_pct": round(100 * self.server_cpu_seconds / self.wall_seconds, 1) if self.wall_seconds else None,
            "client_cpu_pct": round(100 * self.client_cpu_seconds / self.wall_seconds, 1) if self.wall_seconds else None,
            "other_processes_cpu_pct": round(
                100 * (self.machine_cpu_seconds - self.server_cpu_seconds - self.client_cpu_seconds) / self.wall_seconds, 1
            ) if self.wall_seconds else None,
            "latency_by_kind": {
                kind: {"ok": len(v), "p50_ms": r(percentile(v, 50)), "p99_ms": r(percentile(v, 99)), "max_ms": r(max(v))}
                for kind, v in sorted(self.by_kind.items())
            },
            "server_mean_handling_ms": r(self.server_mean_ms),
            "server_shed_503": self.shed,
            "warmup_ms": [round(x, 1) for x in self.warmup_ms],
        }


async def server_metrics(client: httpx.AsyncClient) -> dict[str, float]:
    """Flat {sample name{labels}: value} from /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    text = (await client.get("/metrics")).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}"] = sample.value
    return out


class LeanClient:
    """Minimal keep-alive HTTP/1.1 client over asyncio streams, for the load phases only.

    httpx's connection pool spends CPU per request in proportion to the requests and
    connections outstanding; with hundreds in flight it saturated a core of this
    2-core machine and the generator fell minutes behind its schedule. This client
    does one thing (send a request, read a Content-Length or chunked response) at
    a small, constant cost. At most ``max_connections`` requests are on the wire;
    more wait for a connection (and that wait counts in their latency).
    """

    def __init__(self, port: int, max_connections: int) -> None:
        self.port = port
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._host_header = f"Host: {HOST}:{port}\r\n".encode()

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()

    async def request(self, spec: Spec, timeout: float) -> tuple[int, bytes]:
        """(status, body); raises TimeoutError or OSError / IncompleteReadError."""
        target = spec.url + (f"?{urlencode(spec.params)}" if spec.params else "")
        body = json.dumps(spec.body).encode() if spec.body is not None else b""
        head = f"{spec.method} {target} HTTP/1.1\r\n".encode() + self._host_header
        if spec.body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
        message = head + b"\r\n" + body
        async with self._slots:
            async with asyncio.timeout(timeout):
                reused = bool(self._idle)
                try:
                    return await self._exchange(message)
                except (OSError, asyncio.IncompleteReadError):
                    if not reused:
                        raise
                    # An idle connection the server had closed: one retry on a fresh one.
                    self.close()
                    return await self._exchange(message)

    async def _exchange(self, message: bytes) -> tuple[int, bytes]:
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            writer.write(message)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip().lower()
            if "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding") == "chunked":
                parts = []
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    parts.append(await reader.readexactly(size + 2))
                    if size == 0:
                        break
                body = b"".join(part[:-2] for part in parts)
            else:
                body = await reader.read()
                headers["connection"] = "close"
        except BaseException:
            writer.close()
            raise
        if headers.get("connection") == "close":
            writer.close()
        else:
            self._idle.append((reader, writer))
        return status, body


async def run_phase(
    client: httpx.AsyncClient,
    lean: LeanClient,
    name: str,
    route: str,
    make: Callable[[int], Spec],
    pid: int,
    rate: float,
    seconds: float,
    drain: float,
    warmup: int,
    timeout: float,
    settle: float = 5.0,
) -> PhaseResult:
    result = PhaseResult(name, rate, seconds)
    for i in range(warmup):  # sequential, not counted; lets caches and pools fill
        begun = time.perf_counter()
        try:
            status, body = await lean.request(make(-1 - i), timeout)
            if status >= 300:
                log(f"{name} warm-up request answered {status}: {body[:200]!r}")
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            log(f"{name} warm-up request failed: {exc!r}")
        result.warmup_ms.append((time.perf_counter() - begun) * 1000)
    before = await server_metrics(client)
    result.rss_before = result.rss_peak = rss_bytes(pid)
    cpu_before = cpu_seconds(pid)
    client_cpu_before = cpu_seconds(os.getpid())
    machine_before = machine_busy_seconds()
    total = int(rate * seconds)
    stop_sampling = asyncio.Event()

    async def sample_rss() -> None:
        while not stop_sampling.is_set():
            result.rss_peak = max(result.rss_peak, rss_bytes(pid))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_sampling.wait(), timeout=0.5)

    async def one(i: int, scheduled: float) -> None:
        spec = make(i)
        result.kinds[spec.kind] += 1
        try:
            status, body = await lean.request(spec, timeout)
        except TimeoutError:
            result.errors["timeout"] += 1
            return
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.errors[f"exception {type(exc).__name__}"] += 1
            return
        done = time.perf_counter()
        result.completed += 1
        result.bytes_in += len(body)
        if 200 <= status < 300:
            result.ok += 1
            result.latencies_ms.append((done - scheduled) * 1000)
            result.by_kind.setdefault(spec.kind, []).append((done - scheduled) * 1000)
        else:
            result.errors[str(status)] += 1

    sampler = asyncio.create_task(sample_rss())
    tasks: list[asyncio.Task[None]] = []
    t0 = time.perf_counter() + 0.05
    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        result.lag_ms.append(max(0.0, (time.perf_counter() - scheduled) * 1000))
        tasks.append(asyncio.create_task(one(i, scheduled)))
        result.sent += 1
    _, pending = await asyncio.wait(tasks, timeout=drain) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
        result.errors["unfinished after drain"] += len(pending)
    result.wall_seconds = time.perf_counter() - t0
    stop_sampling.set()
    await sampler
    result.server_cpu_seconds = cpu_seconds(pid) - cpu_before
    result.client_cpu_seconds = cpu_seconds(os.getpid()) - client_cpu_before
    result.machine_cpu_seconds = machine_busy_seconds() - machine_before
    result.rss_after = rss_bytes(pid)
    result.rss_peak = max(result.rss_peak, result.rss_after)
    after = await server_metrics(client)
    await asyncio.sleep(settle)
    result.rss_settled = rss_bytes(pid)
    key = f"{{route={route}}}"
    count = after.get(f"swarmlens_request_seconds_count{key}", 0.0) - before.get(f"swarmlens_request_seconds_count{key}", 0.0)
    total_s = after.get(f"swarmlens_request_seconds_sum{key}", 0.0) - before.get(f"swarmlens_request_seconds_sum{key}", 0.0)
    result.server_mean_ms = 1000 * total_s / count if count else None
    result.shed = int(after.get("swarmlens_requests_shed_total{}", 0.0) - before.get("swarmlens_requests_shed_total{}", 0.0))
    return result


async def probes(client: httpx.AsyncClient, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Single timed requests outside the load phases (after them, so RSS figures are unaffected)."""
    tag = quote(meta["top_hashtags"][0], safe="")
    first = datetime.fromisoformat(meta["first"]).replace(minute=0, second=0, microsecond=0)
    odd_start = _iso(first + timedelta(days=30, minutes=30))
    odd_end = _iso(first + timedelta(days=31, minutes=30))
    week = (_iso(first + timedelta(days=30)), _iso(first + timedelta(days=37)))
    year = (_iso(first + timedelta(days=30)), _iso(first + timedelta(days=395)))
    cases = [
        ("volume hour, 7 d range", f"/v1/hashtags/{tag}/volume", [("interval", "hour"), ("start", week[0]), ("end", week[1])]),
        ("volume day, 365 d range", f"/v1/hashtags/{tag}/volume", [("interval", "day"), ("start", year[0]), ("end", year[1])]),
        ("volume day, whole series", f"/v1/hashtags/{tag}/volume", [("interval", "day")]),
        ("volume hour, whole series", f"/v1/hashtags/{tag}/volume", [("interval", "hour")]),
        (
            "volume hour, 1 d range not hour-aligned (raw scan)",
            f"/v1/hashtags/{tag}/volume",
            [("interval", "hour"), ("start", odd_start), ("end", odd_end)],
        ),
        ("hashtags top 20", "/v1/hashtags/top", [("limit", "20")]),
        ("info", "/info", None),
        ("metrics", "/metrics", None),
    ]
    out = []
    for label, url, params in cases:
        begun = time.perf_counter()
        entry: dict[str, Any] = {"probe": label, "url": url, "params": params}
        try:
            response = await client.get(url, params=params, timeout=300.0)
            entry.update(status=response.status_code, bytes=len(response.content))
            if response.status_code >= 300:
                entry["detail"] = response.text[:300]
            elif url.endswith("/volume"):
                entry["points"] = len(response.json().get("series", []))
                entry["exact"] = response.json().get("exact")
            elif url == "/info":
                entry["info"] = response.json()
        except httpx.HTTPError as exc:
            entry.update(status=f"exception {type(exc).__name__}")
        entry["ms"] = round((time.perf_counter() - begun) * 1000, 1)
        out.append(entry)
    return out


async def load(server: Server, meta: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    connections = max(64, int(args.rate * 2))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=server.base_url, limits=limits, timeout=args.timeout, trust_env=False
    ) as client:
        info = (await client.get("/info")).json()
        loadavg = os.getloadavg()[0]
        lean = LeanClient(server.port, connections)
        pid = server.proc.pid
        phases = {}
        plan = [
            ("classify", "/v1/classify", classify_specs(classify_texts())),
            ("volume", "/v1/hashtags/{tag}/volume",
             hourly14_specs(meta) if args.volume_mix == "hourly14" else volume_specs(meta)),
        ]
        for name, route, make in plan:
            if args.phase in (name, "both"):
                log(f"phase {name}: {args.rate:g} req/s for {args.seconds:g} s")
                lean.close()  # no stale keep-alive connections from the previous phase
                phases[name] = await run_phase(
                    client, lean, name, route, make, pid,
                    args.rate, args.seconds, args.drain, args.warmup, args.timeout,
                )  # fmt: skip
        lean.close()
        probe_results = [] if args.no_probes else await probes(client, meta)
    return {"info": info, "phases": phases, "probes": probe_results, "loadavg_1min": loadavg}


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop (installed with uvicorn[standard]) when present: a cheaper client loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


# -- 4. report --------------------------------------------------------------------------------


def verdicts(phases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for name, limit in (("classify", TARGETS["classify_p99_ms"]), ("volume", TARGETS["volume_p99_ms"])):
        if name not in phases:
            continue
        p = phases[name]
        p99 = p["p99_ms"]
        out.append({"check": f"{name} p99 < {limit:g} ms", "value": p99, "met": p99 is not None and p99 < limit})
        out.append({"check": f"{name} errors == 0", "value": p["errors"], "met": p["errors"] == 0})
        growth = p["rss_growth_pct"]
        out.append(
            {
                "check": f"{name} RSS flat (< {TARGETS['rss_growth_pct']:g} % growth)",
                "value": growth,
                "met": growth is not None and growth < TARGETS["rss_growth_pct"],
            }
        )
        rate_ok = p["achieved_rate"] >= 0.95 * p["target_rate"]
        out.append({"check": f"{name} achieved rate >= 95 % of {p['target_rate']:g}/s", "value": p["achieved_rate"], "met": rate_ok})
    return out


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(report: dict[str, Any]) -> None:
    b, s = report["build"], report["server"]
    print()
    print(f"dataset: {b['rows']:,} rows ({b['base_posts']:,} scored demo posts x {b['copies']} copies, +{b['shift_days']} d each), "
          f"{b['files']:,} Parquet files, {b['bytes'] / 2**20:,.0f} MiB, {b['first'][:10]} .. {b['last'][:10]}")
    if b["cached"]:
        print(f"build: cached ({b['path']}); first build replicated in {b['replicate_seconds']:.1f} s")
    else:
        print(f"build: {b['build_seconds']:.1f} s total (demo archive + `swarmlens score`: {b['base_seconds']:.1f} s, "
              f"DuckDB replication: {b['replicate_seconds']:.1f} s)")
    print(f"server start-up: attached after {fmt(s['attach_seconds'])} s, /healthz ok after {s['ready_seconds']:.1f} s; "
          f"RSS after start {s['rss_after_start_mb']:.0f} MiB; max_inflight {s['max_inflight']}")
    print()
    head = (f"{'phase':9} {'sent':>6} {'ok':>6} {'req/s':>7} {'ok/s':>7} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
            f"{'RSS before':>10} {'RSS after':>9} {'RSS peak':>9} {'RSS +5 s':>9} {'srv CPU':>8} {'srv mean':>9} {'cli CPU':>8} {'lag p99':>8}")
    print(head)
    print("-" * len(head))
    for name, p in report["phases"].items():
        print(f"{name:9} {p['sent']:>6} {p['ok']:>6} {p['achieved_rate']:>7.1f} {p['ok_rate']:>7.1f} {p['errors']:>7} {fmt(p['p50_ms']):>8} "
              f"{fmt(p['p95_ms']):>8} {fmt(p['p99_ms']):>8} {fmt(p['max_ms']):>8} {p['rss_before_mb']:>7.0f} MB "
              f"{p['rss_after_mb']:>6.0f} MB {p['rss_peak_mb']:>6.0f} MB {p['rss_settled_mb']:>6.0f} MB {fmt(p['server_cpu_pct'], '.0f'):>7}% "
              f"{fmt(p['server_mean_handling_ms']):>6} ms {fmt(p['client_cpu_pct'], '.0f'):>7}% {fmt(p['client_lag_p99_ms']):>5} ms")
    print("req/s: responses of any status per second (wall time includes the drain); ok/s: 2xx per second; latencies: 2xx only,")
    print("from the scheduled send time; CPU: % of one core over the phase; srv mean: the server's own handling time (/metrics);")
    print("RSS +5 s: server RSS 5 s after the phase ended (transient vs retained growth); lag: how late the load generator")
    print("itself sent (client-side delay, included in latencies)")
    others = ", ".join(f"{n} {fmt(p['other_processes_cpu_pct'], '.0f')}%" for n, p in report["phases"].items())
    print(f"machine: {report['config']['cpus']} CPUs, load average (1 min) {report['config']['loadavg_1min']:.2f} before the phases; "
          f"CPU used by other processes during the phases (% of one core): {others}")
    print()
    for name, p in report["phases"].items():
        if p["errors_by_status"]:
            print(f"{name} errors by status: {p['errors_by_status']} (503 shed by the server: {p['server_shed_503']})")
        print(f"{name}: mean response {p['mean_response_bytes']:,} B; first warm-up requests (ms): {p['warmup_ms'][:5]}")
        for kind, k in p["latency_by_kind"].items():
            print(f"  {kind:24} {k['ok']:>6} ok   p50 {fmt(k['p50_ms']):>8} ms   p99 {fmt(k['p99_ms']):>8} ms   max {fmt(k['max_ms']):>8} ms")
    print()
    print("targets:")
    for v in report["verdicts"]:
        print(f"  {'MET   ' if v['met'] else 'MISSED'} {v['check']:50} {fmt(v['value']) if isinstance(v['value'], float) else v['value']}")
    if report["probes"]:
        print()
        print("probes (single requests after the load phases):")
        for p in report["probes"]:
            extra = f", {p['points']:,} points, exact={p['exact']}" if "points" in p else ""
            extra += f": {p['detail'][:120]}" if "detail" in p else ""
            print(f"  {p['probe']:52} {p['ms']:>9.1f} ms  status {p['status']}  {p.get('bytes', 0):>10,} B{extra}")
    print()
    print(f"command: {report['command']}")


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="posts in the attached dataset")
    parser.add_argument("--rate", type=float, default=200.0, help="target requests/s in each phase")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of each phase")
    parser.add_argument("--base-posts", type=int, default=20_000, help="demo posts scored for real, then replicated")
    parser.add_argument("--warmup", type=int, default=20, help="sequential warm-up requests per phase (not counted)")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait for stragglers after a phase")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    parser.add_argument("--start-timeout", type=float, default=1800.0, help="seconds to wait for the server to be ready")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "swarmlens-api-load")
    parser.add_argument("--phase", choices=["both", "classify", "volume"], default="both", help="which load phase(s) to run")
    parser.add_argument("--no-probes", action="store_true", help="skip the single probe requests")
    parser.add_argument("--volume-mix", choices=["mixed", "hourly14"], default="mixed",
                        help="volume queries: the mixed set, or issue 11's hourly 14-day "
                        "windows of the 20 top hashtags")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.rows < 1 or args.rate <= 0 or args.seconds <= 0 or args.base_posts < 1:
        parser.error("--rows, --rate, --seconds and --base-posts must be positive")

    command = f"python bench/api_load.py --rows {args.rows} --rate {args.rate:g} --seconds {args.seconds:g}"
    if args.base_posts != 20_000:
        command += f" --base-posts {args.base_posts}"
    if args.phase != "both":
        command += f" --phase {args.phase}"
    if args.volume_mix != "mixed":
        command += f" --volume-mix {args.volume_mix}"
    if args.no_probes:
        command += " --no-probes"
    if args.json:
        command += " --json"

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    cache = args.cache_dir.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    meta = build_dataset(cache, args.rows, args.base_posts)
    if meta["cached"]:
        log(f"dataset cached: {meta['path']} ({meta['rows']:,} rows)")
    else:
        log(f"dataset built in {meta['build_seconds']:.1f} s: {meta['path']} ({meta['rows']:,} rows)")

    run_dir = Path(tempfile.mkdtemp(prefix="swarmlens-api-load-run-"))
    server: Server | None = None
    keep_log = False
    try:
        log(f"starting the server with {meta['rows']:,} rows attached")
        try:
            server = start_server(cache, run_dir, Path(meta["path"]), args.start_timeout)
        except RuntimeError:
            keep_log = True
            raise
        rss_start = rss_bytes(server.proc.pid)
        log(f"server ready in {server.ready_seconds:.1f} s (pid {server.proc.pid}, port {server.port})")
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            results = runner.run(load(server, meta, args))
    finally:
        stop_server(server)
        if keep_log:
            log(f"server log kept in {run_dir / 'server.log'}")
            shutil.rmtree(run_dir / "data", ignore_errors=True)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)

    phases = {name: p.summary() for name, p in results["phases"].items()}
    report = {
        "command": command,
        "config": {
            "rows": args.rows, "rate": args.rate, "seconds": args.seconds,
            "base_posts": args.base_posts, "warmup": args.warmup, "phase": args.phase,
            "volume_mix": args.volume_mix,
            "cpus": os.cpu_count(), "loadavg_1min": results["loadavg_1min"],
        },
        "build": meta,
        "server": {
            "attach_seconds": None if server is None or server.attach_seconds is None else round(server.attach_seconds, 2),
            "ready_seconds": None if server is None or server.ready_seconds is None else round(server.ready_seconds, 2),
            "rss_after_start_mb": round(rss_start / 2**20, 1),
            "max_inflight": results["info"].get("max_inflight"),
            "store": results["info"].get("store"),
        },
        "phases": phases,
        "verdicts": verdicts(phases),
        "probes": results["probes"],
        "targets": TARGETS,
    }  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    else:
        print_table(report)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted; the server was stopped")
        sys.exit(130)
