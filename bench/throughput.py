"""Scoring throughput on one core: `swarmlens score` against fastText, same file, same run.

    python bench/throughput.py [--n 50000] [--model REF]

Writes an N-post JSONL file with the demo generator, then in worker processes pinned to
one core times (a) swarmlens's whole scoring path (read, parse, language, entities,
features, model, write JSONL) and (b) fastText (read, parse, predict, write JSONL), with
fastText trained on the demo corpus with the subword settings of the accuracy reference.
A second swarmlens run drops the source's `lang` so language identification runs too.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pin() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def time_swarmlens(path: str, out: str, model_ref: str | None) -> dict[str, float]:
    _pin()
    from threadpoolctl import threadpool_limits

    from swarmlens.classifier.batch.scoring import OutputWriter, batched, score_batch
    from swarmlens.classifier.model.training import ensure_model
    from swarmlens.classifier.posts.readers import read_posts

    model, entry = ensure_model(model_ref)
    with threadpool_limits(1):
        started = time.perf_counter()
        count = 0
        with OutputWriter(out) as writer:
            for batch in batched(read_posts([path])):
                writer.write(score_batch(model, batch, entry.id))
                count += len(batch)
        seconds = time.perf_counter() - started
    return {"posts": count, "seconds": seconds}


def time_fasttext(path: str, out: str, train_path: str) -> dict[str, float]:
    _pin()
    import fasttext
    import orjson

    model = fasttext.train_supervised(
        train_path, epoch=25, lr=0.5, wordNgrams=2, minn=2, maxn=5, dim=100, thread=1, verbose=0
    )
    started = time.perf_counter()
    ids, texts = [], []
    with open(path, "rb") as handle:
        for line in handle:
            record = orjson.loads(line)
            ids.append(record["id"])
            texts.append(record["text"].replace("\n", " "))
    labels, probs = model.predict(texts, k=3)
    with open(out, "wb") as handle:
        for post_id, names, values in zip(ids, labels, probs, strict=True):
            scores = {
                n.removeprefix("__label__"): float(v) for n, v in zip(names, values, strict=True)
            }
            handle.write(orjson.dumps({"post_id": post_id, "scores": scores}) + b"\n")
    seconds = time.perf_counter() - started
    return {"posts": len(texts), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="posts in the benchmark file")
    parser.add_argument("--model", default=None, help="model version or path (default: current)")
    args = parser.parse_args()

    from swarmlens.classifier.demo.generator import DEMO_SEED, generate_demo, write_demo_jsonl

    work = Path(tempfile.mkdtemp(prefix="swarmlens-bench-"))
    archive = work / "posts.jsonl"
    write_demo_jsonl(archive, n_posts=args.n, seed=DEMO_SEED + 1)
    no_lang = work / "posts-nolang.jsonl"
    with archive.open() as src, no_lang.open("w") as dst:
        for line in src:
            record = json.loads(line)
            record.pop("lang")
            dst.write(json.dumps(record, ensure_ascii=False) + "\n")
    train = work / "fasttext-train.txt"
    with train.open("w") as handle:
        for record in generate_demo():
            handle.write(f"__label__{record['label']} {record['text'].replace(chr(10), ' ')}\n")

    ctx = get_context("spawn")
    with ctx.Pool(1) as pool:
        # Build the default model first (if needed) so no timed run pays for it.
        pool.apply(time_swarmlens, (str(archive), str(work / "warm.jsonl"), args.model))
    runs = {}
    for name, func, fargs in [
        (
            "swarmlens score (lang given)",
            time_swarmlens,
            (str(archive), str(work / "a.jsonl"), args.model),
        ),
        (
            "swarmlens score (lang detected)",
            time_swarmlens,
            (str(no_lang), str(work / "b.jsonl"), args.model),
        ),
        (
            "fastText (minn 2, maxn 5, wordNgrams 2)",
            time_fasttext,
            (str(archive), str(work / "c.jsonl"), str(train)),
        ),
    ]:
        with ctx.Pool(1) as pool:  # a fresh process per run: cold caches, as a user gets
            runs[name] = pool.apply(func, fargs)

    print(f"\nThroughput on one core, {args.n:,} posts (demo generator), output JSONL")
    print(f"{'run':44} {'posts/s':>10} {'seconds':>8}")
    rates = {}
    for name, result in runs.items():
        rates[name] = result["posts"] / result["seconds"]
        print(f"{name:44} {rates[name]:>10,.0f} {result['seconds']:>8.2f}")
    ft = rates["fastText (minn 2, maxn 5, wordNgrams 2)"]
    print(
        f"\nswarmlens / fastText: {rates['swarmlens score (lang given)'] / ft:.2f}x (lang given), "
        f"{rates['swarmlens score (lang detected)'] / ft:.2f}x (lang detected)"
    )
    print(
        f"command: python bench/throughput.py --n {args.n}"
        + (f" --model {args.model}" if args.model else "")
    )


if __name__ == "__main__":
    main()
