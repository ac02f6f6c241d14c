"""API keys: write endpoints need one when ``SWARMLENS_API_KEYS`` is set."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status


def require_key(request: Request) -> None:
    """Dependency: accept ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""
    keys: list[str] = request.app.state.settings.keys
    if not keys:
        return
    given = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if given is None and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    if given is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this endpoint needs an API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not any(hmac.compare_digest(given.encode(), key.encode()) for key in keys):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "API key not accepted")
