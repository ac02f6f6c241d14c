"""Prometheus metrics of one app instance (its own registry, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "swarmlens_requests",
            "HTTP requests handled.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "swarmlens_request_seconds",
            "Request latency.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.classified = Counter(
            "swarmlens_posts_classified",
            "Posts classified (classify and ingest).",
            registry=self.registry,
        )
        self.texts_cut = Counter(
            "swarmlens_texts_cut",
            "Texts cut to MAX_TEXT_CHARS before classification (any endpoint).",
            registry=self.registry,
        )
        self.rejected_busy = Counter(
            "swarmlens_requests_shed",
            "Requests answered 503 because the server was busy.",
            registry=self.registry,
        )
        self.work_running = Gauge(
            "swarmlens_work_running",
            "Expensive jobs (explain, network) running now.",
            ["pool"],
            registry=self.registry,
        )
        self.work_waiting = Gauge(
            "swarmlens_work_waiting",
            "Expensive jobs waiting for a worker of their pool.",
            ["pool"],
            registry=self.registry,
        )
        self.work_cancelled = Counter(
            "swarmlens_work_cancelled",
            "Expensive jobs stopped: time limit, client gone, or shutdown.",
            ["pool", "reason"],
            registry=self.registry,
        )
        self.connections_dropped = Counter(
            "swarmlens_connections_dropped",
            "Connections closed before a request: header time limit, over max_connections "
            "(the longest idle one goes), or headers too large.",
            ["reason"],
            registry=self.registry,
        )
        self.model = Gauge(
            "swarmlens_model_info",
            "The model being served (value 1).",
            ["model_version"],
            registry=self.registry,
        )
