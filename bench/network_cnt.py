"""swarmlens's coordination pairs against QUT's coordination-network-toolkit (CNT) on one export.

    python bench/network_cnt.py [--dataset DIR --hashtag TAG] [--window 60] [--min-weight 2]
                                [--cnt /tmp/cntvenv/bin/python] [--n 20000]

swarmlens computes the hashtag's network (the same code as `swarmlens network DATASET
--hashtag TAG --coordination-window W --min-co-actions K --csv DIR`) and writes the
toolkit's messages CSV; CNT (`python -m coordination_network_toolkit`, installed apart:
`python -m venv /tmp/cntvenv && /tmp/cntvenv/bin/pip install coordination-network-toolkit`)
preprocesses that CSV and computes co_link, co_retweet and co_reply at the same time window
and minimum edge weight. Prints, per kind, the pairs of accounts each finds and their
overlap. CNT turns an empty URL cell into the URL "" and pairs link-less posts: co_link is
given both raw and with those rows removed ("empty-URL pairs aside").

Without --dataset it builds (once, in the temp directory) a scored-shape dataset: N demo
posts plus planted groups that retweet, reply to and link the same posts within seconds,
among accounts doing the same at random times (whole seconds, as platforms stamp them).
The two tools count an edge's weight differently (swarmlens: distinct links / posts the
pair co-acted on; CNT: distinct messages of one account with a match), so pairs can differ
where one account posts a link several times or several links in one post.
Skips with a message when CNT is not installed. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import random
import shlex
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

KINDS = {"link": "co_link", "retweet": "co_retweet", "reply": "co_reply"}


def planted_dataset(n: int, seed: int = 11) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from swarmlens.classifier.demo.generator import DEMO_SEED, generate_demo
    from swarmlens.classifier.posts.post import post_from_record
    from swarmlens.classifier.vocab import LABELS, OUTPUT_SCHEMA

    path = Path(tempfile.gettempdir()) / f"swarmlens-bench-cnt-{n}-{seed}"
    if (path / "_done").exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    rows = []

    def add(post_id: str, author: str, at: datetime, **extra: object) -> None:
        rows.append({
            "post_id": post_id, "label": "neutral",
            "scores": dict.fromkeys(LABELS, 1 / 3), "model_version": "bench", "lang": "en",
            "hashtags": ["parisisburning"], "domains": [],
            "created_at": at.replace(microsecond=0), "platform": "twitter", "author": author,
            **extra,
        })

    for record in generate_demo(n, DEMO_SEED + 5):
        post = post_from_record(record)
        add(post.post_id, post.author, post.created_at, hashtags=post.hashtags,
            retweet_of=post.retweet_of, retweet_of_author=post.retweet_of_author,
            reply_to=post.reply_to, urls=post.urls, label=post.label)
    rng = random.Random(seed)
    t0 = datetime(2015, 11, 14, tzinfo=UTC)
    k = 0
    for g in range(6):  # planted groups: 4 accounts, 8 items each, within 40 s
        members = [f"cnt_grp{g}_{m}" for m in range(4)]
        for item in range(8):
            at = t0 + timedelta(seconds=rng.randrange(2 * 86_400))
            src = f"cnt_src{g}_{item}"
            add(src, f"cnt_author{g}", at - timedelta(minutes=5))
            for m in members:
                when = at + timedelta(seconds=rng.randrange(40))
                kind = ("retweet", "reply", "link")[item % 3]
                k += 1
                if kind == "retweet":
                    add(f"cnt_p{k}", m, when, retweet_of=src,
                        retweet_of_author=f"cnt_author{g}", urls=[f"https://l.example/{src}"])
                elif kind == "reply":
                    add(f"cnt_p{k}", m, when, reply_to=src)
                else:
                    add(f"cnt_p{k}", m, when, urls=[f"https://l.example/{src}"])
    # Background: 400 accounts acting on 150 popular posts at random over two days.
    for item in range(150):
        src = f"cnt_pop{item}"
        add(src, "cnt_popular", t0)
        for _ in range(40):
            k += 1
            who = f"cnt_bg{rng.randrange(400)}"
            when = t0 + timedelta(seconds=rng.randrange(2 * 86_400))
            kind = rng.choice(("retweet", "reply", "link"))
            if kind == "retweet":
                add(f"cnt_p{k}", who, when, retweet_of=src, retweet_of_author="cnt_popular")
            elif kind == "reply":
                add(f"cnt_p{k}", who, when, reply_to=src)
            else:
                add(f"cnt_p{k}", who, when, urls=[f"https://pop.example/{item}"])
    pq.write_table(pa.Table.from_pylist(rows, OUTPUT_SCHEMA), path / "part-0.parquet")
    (path / "_done").write_text("")
    return path


def swarmlens_pairs(
    dataset: Path, hashtag: str, window: float, k: int, out: Path
) -> tuple[dict[str, set], Path]:
    from swarmlens.classifier.analytics import datasets, network_sql, queries
    from swarmlens.classifier.network.export import write_csv
    from swarmlens.classifier.network.report import NetworkOptions, build_network

    con = queries.connect()
    source = network_sql.network_source(con, [datasets.parquet_source([dataset])])
    network = build_network(con, source, hashtag, options=NetworkOptions(window, k))
    pairs = {
        kind: {(a, b) for a, b, _, _ in
               network_sql.co_action_pairs(con, network.posts_table, kind, window, k)}
        for kind in KINDS
    }
    messages = write_csv(network, con, out)[0]
    return pairs, messages


def cnt_available(python: str) -> bool:
    probe = [python, "-c", "import coordination_network_toolkit"]
    try:
        return subprocess.run(probe, capture_output=True).returncode == 0
    except OSError:
        return False


def cnt_pairs(python: str, db: Path, kind: str, window: int, k: int) -> set[tuple[str, str]]:
    cmd = [python, "-m", "coordination_network_toolkit", str(db), "compute", kind,
           "--time_window", str(window), "--min_edge_weight", str(k), "--n_cpus", "2"]
    subprocess.run(cmd, check=True, capture_output=True)
    table = {"co_link": "co_link_network", "co_retweet": "co_retweet_network",
             "co_reply": "co_reply_network"}[kind]
    with sqlite3.connect(db) as con:
        rows = con.execute(f"SELECT user_1, user_2 FROM {table} WHERE user_1 <> user_2")
        return {(min(a, b), max(a, b)) for a, b in rows}


def compare(name: str, ours: set, theirs: set) -> None:
    both = ours & theirs
    union = ours | theirs
    jaccard = len(both) / len(union) if union else 1.0
    print(f"{name:<26} {len(ours):>9,} {len(theirs):>9,} {len(both):>9,} "
          f"{len(ours - theirs):>9,} {len(theirs - ours):>9,} {jaccard:>8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, help="scored dataset (default: planted)")
    parser.add_argument("--hashtag", default="parisisburning")
    parser.add_argument("--n", type=int, default=20_000, help="demo posts of the planted set")
    parser.add_argument("--window", type=int, default=60, help="seconds (CNT takes whole ones)")
    parser.add_argument("--min-weight", type=int, default=2)
    parser.add_argument("--cnt", default="/tmp/cntvenv/bin/python",
                        help="a Python with coordination-network-toolkit installed")
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    if not cnt_available(args.cnt):
        print(f"skipped: coordination-network-toolkit is not importable by {args.cnt} "
              "(python -m venv /tmp/cntvenv && /tmp/cntvenv/bin/pip install "
              "coordination-network-toolkit)")
        return
    dataset = args.dataset or planted_dataset(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        ours, messages = swarmlens_pairs(dataset, args.hashtag, float(args.window),
                                         args.min_weight, Path(tmp) / "csv")
        print(f"swarmlens: swarmlens network {dataset} --hashtag {args.hashtag} "
              f"--coordination-window {args.window} --min-co-actions {args.min_weight} "
              f"--csv DIR  ->  {messages.name}")
        with messages.open() as handle:
            rows = list(csv.DictReader(handle))
        print(f"export: {len(rows):,} messages, "
              f"{sum(1 for r in rows if r['repost_id']):,} with repost_id, "
              f"{sum(1 for r in rows if r['reply_id']):,} with reply_id, "
              f"{sum(1 for r in rows if not r['urls']):,} with no URL")
        db = Path(tmp) / "cnt.db"
        subprocess.run([args.cnt, "-m", "coordination_network_toolkit", str(db), "preprocess",
                        "--format", "csv", str(messages)], check=True, capture_output=True)
        print(f"CNT: {args.cnt} -m coordination_network_toolkit DB compute KIND "
              f"--time_window {args.window} --min_edge_weight {args.min_weight}")
        print(f"\n{'pairs (window, min weight)':<26} {'swarmlens':>9} {'CNT':>9} {'both':>9} "
              f"{'only ours':>9} {'only CNT':>9} {'jaccard':>8}")
        theirs = {kind: cnt_pairs(args.cnt, db, KINDS[kind], args.window, args.min_weight)
                  for kind in KINDS}
        compare("co-link (CNT raw)", ours["link"], theirs["link"])
        with sqlite3.connect(db) as con:
            con.execute("DELETE FROM message_url WHERE url = ''")
        aside = cnt_pairs(args.cnt, db, "co_link", args.window, args.min_weight)
        compare("co-link (empty URL aside)", ours["link"], aside)
        compare("co-retweet", ours["retweet"], theirs["retweet"])
        compare("co-reply", ours["reply"], theirs["reply"])


if __name__ == "__main__":
    main()
