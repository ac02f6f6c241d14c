"""The ``swarmlens`` command line: the app, its commands, and the entry point.

Commands live in one module per group (``models``, ``scoring``, ``demo``). Commands from
other packages (``serve``, ``annotate``) plug in through the ``swarmlens.commands``
entry-point group, so this core never imports them.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from importlib.metadata import entry_points

import typer
from pydantic import ValidationError

from swarmlens.classifier import logs
from swarmlens.classifier.cli import demo, estimate, models, network, scoring
from swarmlens.classifier.cli.output import err
from swarmlens.classifier.errors import SwarmlensError

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


def _load_plugins() -> None:
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


def main() -> None:
    """Console-script entry point: clear one-line errors for expected failures."""
    logs.configure()
    _load_plugins()
    try:
        app()
    except ValidationError as exc:
        # A SWARMLENS_* variable (or option) that is not a valid setting: say which.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in exc.errors()
        )
        err.print(f"[red]error:[/red] [E001] invalid setting: {problems}", highlight=False)
        sys.exit(2)
    except SwarmlensError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(2)
    except OSError as exc:
        # A file the command could not read or write (full disk, read-only file system):
        # one line naming it, not a traceback. Commands raise E001/E007 where they know which.
        where = f" {exc.filename}" if exc.filename else ""
        err.print(f"[red]error:[/red] [E007] cannot use{where}: {exc.strerror or exc}",
                  highlight=False)
        sys.exit(2)


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
