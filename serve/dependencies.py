"""Shared request-time helpers."""

from __future__ import annotations

from datetime import UTC, datetime


def aware(moment: datetime | None) -> datetime | None:
    """Naive times in query parameters are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
