"""The ``swarmlens`` command line: the app, its commands, and the entry point.

Commands live in one module per group (``models``, ``scoring``, ``demo``). Commands from
other packages (``serve``, ``annotate``) plug in through the ``swarmlens.commands``
entry-point group, so this core never imports them.
"""

from __future__ import annotations

import atexit
import inspect
import logging
import os
import sys
import threading

import typer
from pydantic import ValidationError

from swarmlens.classifier import logs
from swarmlens.classifier.cli import demo, estimate, models, network, scoring
from swarmlens.classifier.cli.output import err
from swarmlens.classifier.errors import EXIT_ERROR, SwarmlensError

log = logging.getLogger(__name__)

app = typer.Typer(
    help="swarmlens: who really drives an extremist hashtag (supportive / opposing / neutral).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(models.train)
app.command()(models.evaluate)
app.command()(scoring.score)
app.command()(models.models)
app.command()(scoring.volumes)
app.command()(estimate.estimate)
app.command()(network.network)
app.command("demo-data")(demo.demo_data)
app.command()(demo.demo)


_BUILT_IN = frozenset(
    info.name or (info.callback.__name__ if info.callback else "")
    for info in app.registered_commands
)


def _named_command(args: list[str]) -> str | None:
    """The command a command line names: its first word that is not an option."""
    return next((a for a in args if not a.startswith("-")), None)


def _load_plugins() -> None:
    from importlib.metadata import entry_points

    for point in entry_points(group="swarmlens.commands"):
        try:
            command = point.load()
        except ImportError as exc:
            log.warning(f"command {point.name!r} unavailable: {exc}")
            continue
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=point.name)
        else:
            app.command(point.name)(command)


def _reflowed(doc: str) -> str:
    """A docstring as help-screen text: each paragraph one line, for the screen to wrap.

    Typer keeps the line breaks of a docstring's later paragraphs, which then break
    mid-sentence on the help screen; its first paragraph is the command's one-sentence
    summary in ``swarmlens --help``.
    """
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(doc).split("\n\n"))


def _help_from_docstrings(group: typer.Typer) -> None:
    """Give every command of ``group`` (and of its sub-groups) its reflowed docstring."""
    for info in group.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = _reflowed(info.callback.__doc__)
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _help_from_docstrings(sub.typer_instance)


def main() -> None:
    """Console-script entry point: clear one-line errors for expected failures."""
    logs.configure()
    if _named_command(sys.argv[1:]) not in _BUILT_IN:
        # Scanning the installed entry points costs ~40 ms: not for a built-in command
        # (`score` of a small file is a whole process, timed as a user runs it).
        _load_plugins()
    _help_from_docstrings(app)
    try:
        app()
    except ValidationError as exc:
        # A SWARMLENS_* variable (or option) that is not a valid setting: say which.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in exc.errors()
        )
        err.print(f"[red]error:[/red] [E001] invalid setting: {problems}", highlight=False)
        sys.exit(EXIT_ERROR)
    except SwarmlensError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(EXIT_ERROR)
    except OSError as exc:
        # A file the command could not read or write (full disk, read-only file system):
        # one line naming it, not a traceback. Commands raise E001/E007 where they know which.
        where = f" {exc.filename}" if exc.filename else ""
        err.print(f"[red]error:[/red] [E007] cannot use{where}: {exc.strerror or exc}",
                  highlight=False)
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        # DuckDB reads datasets lazily: a scored file torn after its first line (which
        # analytics.datasets checks) fails only when a query runs. One line, not a traceback.
        if type(exc).__module__.split(".")[0] not in ("duckdb", "_duckdb"):
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        err.print(f"[red]error:[/red] [E001] a dataset cannot be read ({first}): pass what "
                  "`swarmlens score --out` wrote, intact", highlight=False)
        sys.exit(EXIT_ERROR)


def run() -> None:
    """The ``swarmlens`` console script: ``main``, then a quick exit.

    Tearing down the interpreter (freeing every module of numpy, pyarrow, pandas,
    pydantic...) takes 0.15-0.25 s after every command. Once the command is done and only
    the main thread is left, the atexit handlers run (logging, multiprocessing, temporary
    files), the standard streams are flushed, and the process ends there.
    """
    try:
        main()
        code: object = 0
    except SystemExit as exit_:
        code = exit_.code
    if threading.active_count() > 1:  # let Python join the other threads as usual
        raise SystemExit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"), as Python itself prints it
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``| head``): as Python exits then
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    main()
