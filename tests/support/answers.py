"""Checks on the API's answers that several test modules share."""

from __future__ import annotations

from typing import Any


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    """The JSON body of an error ``response``, after checking its status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return body
