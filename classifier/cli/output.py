"""What commands print: tables for people on stdout, JSON for programs, notices on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

out = Console()
"""Tables and answers (stdout)."""
err = Console(stderr=True, soft_wrap=True)
"""Errors (stderr); progress and notices go through ``logging`` (see ``classifier.logs``)."""


def print_json(data: Any) -> None:
    """The same figures as the table, as JSON on stdout (``--json``)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
