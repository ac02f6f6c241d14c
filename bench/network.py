"""`swarmlens network` on a large archive: wall time and peak RSS of the real command.

    python bench/network.py [--n 1000000] [--hashtag parisisburning]

Builds (once, cached in the temp directory) a scored-shape Parquet dataset of N demo posts
without running the model (the label is the generator's own: this measures the network,
not scoring; `bench/archive.py` measures scoring), then runs `swarmlens network DATASET
--hashtag TAG --json` as a real process, sampling the RSS of its process tree. Figures are
printed, never asserted.

Accounts are counted three ways, after the run (untimed): authors in the archive, authors
of the hashtag's posts, and accounts in the retweet graph (those in a retweet of the
hashtag: what Louvain works on). The demo generator's 10M posts have ~1.5M authors, ~0.96M
of them on #parisisburning, ~0.35M in its retweet graph.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def dataset_path(n: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from swarmlens.classifier.demo.generator import DEMO_SEED, generate_demo
    from swarmlens.classifier.posts.post import post_from_record
    from swarmlens.classifier.vocab import LABELS, OUTPUT_SCHEMA

    path = Path(tempfile.gettempdir()) / f"swarmlens-bench-network-{n}"
    if (path / "_done").exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    print(f"building a {n:,}-post scored-shape dataset in {path} ...", flush=True)
    rows, part = [], 0
    for record in generate_demo(n, DEMO_SEED + 3):
        post = post_from_record(record)
        rows.append(
            {
                "post_id": post.post_id,
                "label": post.label,
                "scores": {x: float(x == post.label) for x in LABELS},
                "model_version": "bench",
                "lang": post.lang,
                "hashtags": post.hashtags,
                "domains": post.domains,
                "created_at": post.created_at,
                "platform": post.platform,
                "author": post.author,
                "retweet_of": post.retweet_of,
                "retweet_of_author": post.retweet_of_author,
                "reply_to": post.reply_to,
                "urls": post.urls,
                "mentions": post.mentions,
            }
        )
        if len(rows) == 200_000:
            pq.write_table(pa.Table.from_pylist(rows, OUTPUT_SCHEMA), path / f"part-{part}.parquet")
            rows, part = [], part + 1
    if rows:
        pq.write_table(pa.Table.from_pylist(rows, OUTPUT_SCHEMA), path / f"part-{part}.parquet")
    (path / "_done").write_text("")
    return path


def watch(process: subprocess.Popen) -> int:
    """Peak RSS (bytes) of ``process`` and its children until it ends."""
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.05)
    return peak


def authors(dataset: Path, key: str) -> tuple[int, int]:
    """(authors in the archive, authors of the posts of hashtag ``key``) of ``dataset``."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    files = str(dataset / "*.parquet").replace("'", "''")
    row = con.execute(
        f"""SELECT count(DISTINCT author),
                   count(DISTINCT author) FILTER (WHERE list_contains(hashtags, $tag))
            FROM read_parquet('{files}')""",
        {"tag": key},
    ).fetchone()
    return int(row[0]), int(row[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--hashtag", default="parisisburning")
    args = parser.parse_args()
    dataset = dataset_path(args.n)
    cmd = [sys.executable, "-m", "swarmlens.classifier.cli", "network", str(dataset),
           "--hashtag", args.hashtag, "--json"]
    # The JSON of a large network is tens of MB: to a file, not a pipe nobody reads yet.
    with tempfile.TemporaryFile() as sink, tempfile.TemporaryFile() as errors:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=sink, stderr=errors)
        peak = watch(process)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # On a shared machine wall time depends on the other jobs; CPU time much less.
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if process.returncode != 0:
            errors.seek(0)
            sys.exit(f"network failed:\n{errors.read().decode()}")
        sink.seek(0)
        data = json.loads(sink.read())
    everyone, tagged = authors(dataset, data["hashtag"])
    print(f"posts in archive      {args.n:,} ({everyone:,} authors)")
    print(f"posts with #{data['hashtag']}  {data['posts']:,} ({data['retweets']:,} retweets, "
          f"{tagged:,} authors)")
    print(f"retweet graph         {data['totals']['accounts']:,} accounts / "
          f"{data['totals']['retweet_edges']:,} edges")
    print(f"communities           {data['totals']['communities']:,} ({data['method']})")
    print(f"coordinated groups    {data['totals']['coordination']:,}")
    print(f"wall time             {seconds:.1f} s (process start to JSON out)")
    print(f"CPU time              {cpu:.1f} s (user + system, all threads)")
    print(f"peak RSS              {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
