"""The ``network`` command: a hashtag's retweet communities, resilience and coordination."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from swarmlens.classifier.cli.inputs import dataset_window
from swarmlens.classifier.cli.output import print_json, show
from swarmlens.classifier.errors import InputError, OutputError
from swarmlens.classifier.fsio import check_regular_target
from swarmlens.classifier.vocab import LABELS

log = logging.getLogger(__name__)


def network(
    dataset: Annotated[list[Path], typer.Argument(help="Scored dataset directory or files.")],
    hashtag: Annotated[str, typer.Option(help="Hashtag, any spelling, with or without '#'.")],
    start: Annotated[str | None, typer.Option(help="ISO time, inclusive.")] = None,
    end: Annotated[str | None, typer.Option(help="ISO time, exclusive.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the network as JSON.")] = False,
    graphml: Annotated[
        Path | None, typer.Option(help="Write the retweet graph as GraphML (Gephi).")
    ] = None,
    csv_dir: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="Write CSV files (coordination-network-toolkit input) to this directory."
        ),
    ] = None,
    coordination_window: Annotated[
        str,
        typer.Option(help="Seconds within which shares of a link are co-shares, or 'auto'."),
    ] = "60",
    min_co_actions: Annotated[
        int,
        typer.Option(
            min=1,
            help="Distinct links, retweeted posts, replied posts or similar posts a pair of "
            "accounts must co-act on to be coordinated.",
        ),
    ] = 2,
    churn_hours: Annotated[int, typer.Option(help="Width of the churn windows (hours).")] = 24,
    method: Annotated[str, typer.Option(help="'auto', 'louvain' or 'leiden'.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed of communities, random removal, layout.")] = 0,
) -> None:
    """Retweet communities, robustness, coordination and churn of a hashtag's accounts.

    Communities come with their size, stance mix, centralization and resilience;
    robustness is what is left after removing the most retweeted accounts; coordination
    is co-link, co-retweet, co-reply and co-similar-text sharing within a time window;
    churn counts the accounts that appear and stop per window.
    """
    import duckdb  # here: `score` and the other commands never pay for importing it

    from swarmlens.classifier.analytics import datasets, network_sql, queries
    from swarmlens.classifier.network.export import write_csv, write_graphml
    from swarmlens.classifier.network.report import NetworkOptions, build_network

    start_at, end_at = dataset_window(dataset, start, end)
    window = _window(coordination_window)
    _check_outputs(graphml, csv_dir)  # before the work, not after it
    con = queries.connect()
    source = network_sql.network_source(con, [datasets.dataset_source(dataset)])
    options = NetworkOptions(
        window, min_co_actions, churn_hours=churn_hours, method=method, seed=seed
    )
    result = build_network(con, source, hashtag, start_at, end_at, options)
    if graphml is not None:
        log.info(f"Wrote {write_graphml(result, graphml)}")
    if csv_dir is not None:
        try:
            written = write_csv(result, con, csv_dir)
        except duckdb.Error as exc:  # DuckDB's COPY writes the messages file itself
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise OutputError(f"cannot write CSV files to {csv_dir}: {first}") from None
        for path in written:
            log.info(f"Wrote {path}")
    if as_json:
        print_json(result.data)
        return
    _print(result.data)


def _check_outputs(graphml: Path | None, csv_dir: Path | None) -> None:
    """E007 at once for a GraphML path that is no regular file (``/dev/null``, a FIFO: a
    rename would replace the device) or a CSV directory that cannot be one."""
    if graphml is not None:
        try:
            check_regular_target(graphml)
        except OSError as exc:
            raise OutputError(f"cannot write {graphml}: {exc.strerror}") from None
    if csv_dir is not None:
        if csv_dir.exists() and not csv_dir.is_dir():
            raise OutputError(f"cannot write to {csv_dir}: not a directory (--csv names one)")
        try:
            csv_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write to {csv_dir}: {exc.strerror or exc}") from None
        if not os.access(csv_dir, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write to {csv_dir}: not a writable directory")


def _window(value: str) -> float | None:
    if value.strip().lower() == "auto":
        return None
    try:
        seconds = float(value)
    except ValueError:
        problem = f"--coordination-window: {value!r} is neither seconds nor 'auto'"
        raise InputError(problem) from None
    if seconds <= 0:
        raise InputError("--coordination-window must be positive seconds or 'auto'")
    return seconds


def _print(data: dict[str, Any]) -> None:
    title = f"#{data['hashtag']} retweet communities, {data['start']} to {data['end']}"
    table = Table(
        title=title,
        caption=(
            f"{data['posts']} posts, {data['retweets']} retweets, "
            f"{data['totals']['accounts']} accounts; {data['method']}. Stance mixes are "
            "classify-and-count. centralization: 1 = a star, 0 = evenly retweeted; "
            "resilience: retweets left after removing the top 5% accounts."
        ),
    )
    for column in ("id", "size", *LABELS, "centralization", "resilience", "top accounts"):
        table.add_column(column, justify="left" if column == "top accounts" else "right")
    for c in data["communities"][:20]:
        resilience = "-" if c["resilience"] is None else f"{c['resilience']:.2f}"
        table.add_row(
            str(c["id"]),
            str(c["size"]),
            *(str(c["labels"][x]) for x in LABELS),
            f"{c['centralization']:.2f}",
            resilience,
            ", ".join(c["top_accounts"][:3]),
        )
    show(table)
    curve = Table(title="Robustness: left after removing the most retweeted (vs random)")
    for column in ("removed", "giant (targeted)", "weight (targeted)", "giant (random)",
                   "weight (random)"):
        curve.add_column(column, justify="right")
    for t, r in zip(data["robustness"]["targeted"], data["robustness"]["random"], strict=True):
        curve.add_row(str(t[0]), f"{t[1]:.2f}", f"{t[2]:.2f}", f"{r[1]:.2f}", f"{r[2]:.2f}")
    show(curve)
    groups = Table(
        title=f"Coordinated link sharing (window {data['coordination_window_s']:g} s)"
    )
    for column in ("accounts", "co-shares", "links"):
        groups.add_column(column)
    coord = data["coordination"]
    for g in coord["groups"][:20]:
        groups.add_row(", ".join(g["accounts"]), str(g["co_shares"]), "\n".join(g["urls"][:5]))
    if not coord["groups"]:
        log.info(
            f"No coordinated group: no pair of accounts co-shared {coord['min_co_actions']} "
            "links in the window."
        )
    show(groups)
    kinds = Table(
        title=f"Coordination by kind (window {coord['window_s']:g} s, at least "
        f"{coord['min_co_actions']} co-actions per pair)"
    )
    for column in ("kind", "pairs", "accounts", "groups", "largest group"):
        kinds.add_column(column, justify="left" if column in ("kind", "largest group") else "right")
    for kind, found in coord["by"].items():
        if not found["available"]:
            kinds.add_row(kind, "-", "-", "-", found["reason"])
            continue
        top = found["groups"][0] if found["groups"] else None
        largest = (f"{', '.join(top['accounts'][:5])} ({top['co_actions']} {found['items']})"
                   if top else "")
        kinds.add_row(kind, str(found["pairs"]), str(found["accounts"]),
                      str(len(found["groups"])), largest)
    show(kinds)
    churn = Table(title=f"Churn per {data['churn']['hours']} h window")
    for column in ("window start", "active", "appeared", "new", "stopped"):
        churn.add_column(column, justify="left" if column == "window start" else "right")
    for w in data["churn"]["windows"]:
        churn.add_row(w["start"], str(w["active"]), str(w["appeared"]), str(w["new"]),
                      str(w["stopped"]))
    show(churn)
