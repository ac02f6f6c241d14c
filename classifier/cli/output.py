"""What commands print: tables for people on stdout, JSON for programs, notices on stderr.

Tables fit the terminal they are shown on: long cells wrap (a word longer than its column
is folded onto the next line, never cut), and id columns (``id_column``) keep each id
whole on one line. When stdout is not a terminal (``> file``, ``| less``, a pipe to
another program) nothing is wrapped to a width at all: the answers console is then as
wide as its widest line (``PIPED_WIDTH``), whatever ``COLUMNS`` or the terminal on
stderr say, so a file holds every value in full. ``--json`` is the form for programs.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.table import Column, Table
from rich.text import Text

PIPED_WIDTH = 1_000_000
"""Width of the answers when stdout is not a terminal: no line is ever wrapped or cut."""


class AnswerConsole(Console):
    """The stdout console: the terminal's width on a terminal, unbounded otherwise.

    Rich falls back to 80 columns (or ``COLUMNS``, or the size of whichever standard
    stream is a terminal) when stdout is redirected, which cut tables written to files.
    """

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self.is_terminal:
            return size
        return ConsoleDimensions(PIPED_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        width, height = new_size
        self._width, self._height = width, height


out = AnswerConsole()
"""Tables and answers (stdout)."""
err = Console(stderr=True, soft_wrap=True)
"""Errors (stderr); progress and notices go through ``logging`` (see ``classifier.logs``)."""


def id_column(header: str, values: list[str], justify: str = "left") -> Column:
    """A column of ids (model versions, post ids): never wrapped, never cut.

    values: the ids it will hold; the column is at least as wide as the longest, so rich
    narrows the other columns (which wrap) rather than this one.
    """
    longest = max((len(v) for v in values), default=0)
    return Column(
        header, justify=justify, no_wrap=True, overflow="fold", min_width=longest or None
    )


def show(*renderables: Any) -> None:
    """Print tables (or text) on stdout so that no value is lost.

    A table's cells wrap rather than end in an ellipsis (a word longer than its column is
    folded onto the next line); id columns (``id_column``) are never wrapped. Printing is
    uncropped: a table wider than the terminal (its ids alone do not fit) wraps at the
    terminal's edge rather than losing its right-hand side.
    """
    for renderable in renderables:
        if isinstance(renderable, Table):
            for column in renderable.columns:
                if column.overflow == "ellipsis":
                    column.overflow = "fold"
            if not out.is_terminal:  # a file: the title and caption one line each, too
                for part in ("title", "caption"):
                    text = getattr(renderable, part)
                    if isinstance(text, str):
                        setattr(renderable, part, Text(text, no_wrap=True, overflow="ignore"))
        out.print(renderable, crop=False)


def print_json(data: Any) -> None:
    """The same figures as the table, as JSON on stdout (``--json``)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
