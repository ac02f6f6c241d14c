"""The server's settings: the core's ``Settings`` plus what only ``swarmlens serve`` reads.

Same environment prefix (``SWARMLENS_``), so every variable keeps its name; the core
never sees these fields (``classifier`` does not import the server).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator

from swarmlens.classifier.settings import Settings, default_data_dir


class ServerSettings(Settings):
    """What ``swarmlens serve`` needs besides the core's settings.

    data_dir: the server's DuckDB store (``swarmlens.duckdb``) lives here.
    host / port: where ``swarmlens serve`` listens.
    api_keys: comma-separated keys; when set, write endpoints need one
        (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``).
    max_batch: most posts per /v1/classify or /v1/posts request (more: 413).
    max_body_bytes: largest request body (more: 413).
    max_inflight: requests handled at once; beyond it the server answers 503 at once
        instead of letting requests time out.
    max_inflight_per_client: of those, most one client IP may hold while still sending
        their bodies (more: 429), so a few slow clients cannot take every slot.
        ``/healthz`` is never shed.
    body_timeout: seconds a request body may take to arrive (more: 408).
    allowed_hosts: comma-separated Host names the server answers to besides loopback
        names (localhost, 127.0.0.1, ::1) and ``host``; ``*`` allows any. Others get 421:
        a web page cannot reach the server through a rebound DNS name.
    max_explain_chars: most characters one /v1/classify?explain=true may hold (more: 413).
    trusted_proxies: comma-separated IP addresses or networks (CIDR) of the reverse
        proxies in front of the server. ``X-Forwarded-For`` (and ``-Proto``) is believed
        only from them; from anyone else it is ignored, so a client cannot pose as many
        clients to escape ``max_inflight_per_client``. Empty (default): never believed.
    max_connections: open connections at most (lowered to fit the process's file
        descriptor limit). Beyond it the connection idle the longest (waiting for a
        request's headers) is dropped, never one being answered, so /healthz gets in.
    header_timeout: seconds a connection may take to send a request's headers (from its
        opening, or from its previous answer when kept alive); then it is closed.
    explain_workers / explain_timeout: explanations (``explain=true``) run at most this
        many at once, each stopped after this many seconds (503 E041), away from the
        model everyone else uses; a few more may wait, beyond that 503 E040.
    network_workers / network_timeout: the same for ``GET /v1/hashtags/{tag}/network``;
        a network is also stopped when its client leaves or the server shuts down.
    max_webhook_bytes: largest body of the Label Studio webhook (more: 413).
    shutdown_timeout: seconds a stopping server waits for requests still being answered.
    reads_need_key: whether reading endpoints (data, classify, predict, status) need a
        key too; default: they do when ``api_keys`` is set. ``/healthz`` never does.
    model: model version or artifact path to serve (default: the registry's current one).
    retrain_min_labels: new annotations that trigger a background retrain.
    """

    data_dir: Path = Field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    api_keys: str = ""
    max_batch: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1)
    max_inflight: int = Field(default=64, ge=1)
    max_inflight_per_client: int = Field(default=16, ge=1)
    body_timeout: float = Field(default=15.0, gt=0)
    allowed_hosts: str = ""
    reads_need_key: bool | None = None
    max_explain_chars: int = Field(default=100_000, ge=1)
    trusted_proxies: str = ""
    max_connections: int = Field(default=1024, ge=16)
    header_timeout: float = Field(default=5.0, gt=0)
    explain_workers: int = Field(default=1, ge=1)
    explain_timeout: float = Field(default=30.0, gt=0)
    network_workers: int = Field(default=1, ge=1)
    network_timeout: float = Field(default=300.0, gt=0)
    max_webhook_bytes: int = Field(default=1024 * 1024, ge=1024)
    shutdown_timeout: int = Field(default=10, ge=1)
    model: str | None = None
    retrain_min_labels: int = Field(default=20, ge=1)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        for item in _items(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is no IP address or network: give addresses or CIDRs "
                    "(10.0.0.5, 10.0.0.0/8), comma separated"
                ) from None
        return value

    @property
    def proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``trusted_proxies`` as networks (an address is a network of one)."""
        return [ipaddress.ip_network(item, strict=False) for item in _items(self.trusted_proxies)]

    @property
    def hosts(self) -> list[str]:
        """Host names answered besides loopback: ``allowed_hosts`` and the bound ``host``."""
        names = [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]
        if self.host not in ("0.0.0.0", "::", ""):
            names.append(self.host)
        return names

    @property
    def reads_locked(self) -> bool:
        """Whether reading endpoints need an API key (``reads_need_key``, else: keys set)."""
        if self.reads_need_key is None:
            return bool(self.keys)
        return self.reads_need_key

    @property
    def keys(self) -> list[str]:
        """The API keys as a list (empty: no key is needed)."""
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
