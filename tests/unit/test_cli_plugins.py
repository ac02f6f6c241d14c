"""The CLI loads its plugin commands (serve, annotate) only when a command line needs them."""

from __future__ import annotations

import importlib

import pytest

# the module (the package's ``main`` attribute is its function)
main = importlib.import_module("swarmlens.classifier.cli.main")


@pytest.mark.parametrize(
    ("args", "loads"),
    [
        (["score", "in.jsonl", "--out", "o.jsonl"], False),
        (["--verbose", "network", "d", "--hashtag", "x"], False),
        (["serve", "--port", "8001"], True),
        (["annotate", "push"], True),
        (["--help"], True),  # the help screen lists them
        ([], True),
    ],
)
def test_plugins_are_loaded_only_for_a_command_that_is_not_built_in(
    args: list[str], loads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[bool] = []
    monkeypatch.setattr(main, "_load_plugins", lambda: loaded.append(True))
    monkeypatch.setattr(main, "app", lambda: None)  # the command itself is not run
    monkeypatch.setattr(main, "_help_from_docstrings", lambda group: None)
    monkeypatch.setattr(main.sys, "argv", ["swarmlens", *args])
    main.main()
    assert loaded == ([True] if loads else [])
