"""Label-error review on the real dev data: does it rank deliberately flipped labels first?

    python bench/review.py [--data ../shared/data/dev.jsonl] [--flip 0.10] [--seeds 0 1 2]
        [--folds 5] [--group-folds] [--json]

For each seed, a copy of the labelled file has ``--flip`` of its labels replaced by another
label (drawn uniformly, seeded), and ``annotation.review.review`` (what `swarmlens annotate
review --data FILE` runs) ranks that copy's labels. Prints, per seed and on average,
precision and recall in the first k items, k = the number of flips (precision = recall
when the review lists at least k), and of the whole list confident learning flags (its
length is its estimate of the number of wrong labels). The flips are the only errors counted: a label wrong in the original file
that the review finds counts against its precision. Skips with a message when the data is
absent. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from swarmlens.annotation.review import review
from swarmlens.classifier.vocab import LABELS

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev.jsonl"


def flipped_copy(records: list[dict], share: float, seed: int, target: Path) -> set[str]:
    """Write ``records`` with ``share`` of the labels flipped; returns the flipped ids."""
    rng = np.random.default_rng(seed)
    k = round(share * len(records))
    chosen = rng.choice(len(records), k, replace=False)
    flipped = set()
    copy = [dict(r) for r in records]
    for i in chosen:
        others = [label for label in LABELS if label != copy[i]["label"]]
        copy[i]["label"] = others[int(rng.integers(len(others)))]
        flipped.add(str(copy[i]["id"]))
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in copy))
    return flipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--flip", type=float, default=0.10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--group-folds", action="store_true")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON too.")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: no labelled data at {args.data}")
        return 0
    records = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    print(
        f"{len(records)} labelled posts from {args.data}; {args.flip:.0%} of labels flipped; "
        f"{args.folds} {'group' if args.group_folds else 'label-stratified'} folds"
    )
    print(
        f"{'seed':>4} {'flips':>5} {'P@k':>6} {'R@k':>6} {'flagged':>7} {'P(flag)':>7} "
        f"{'R(flag)':>7} {'secs':>6}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            path = Path(tmp) / f"flipped-{seed}.jsonl"
            flips = flipped_copy(records, args.flip, seed, path)
            started = time.perf_counter()
            report = review([path], folds=args.folds, group_folds=args.group_folds)
            seconds = time.perf_counter() - started
            ranked = [item.id for item in report.items]
            k = len(flips)
            top_k = ranked[:k]  # the list may be shorter than k: then it is the whole list
            hits_k = len(flips & set(top_k))
            hits_flag = len(flips & set(ranked))
            row = {
                "seed": seed,
                "flips": k,
                "precision_at_k": hits_k / max(1, len(top_k)),
                "recall_at_k": hits_k / k,
                "flagged": len(ranked),
                "precision_flagged": hits_flag / max(1, len(ranked)),
                "recall_flagged": hits_flag / k,
                "seconds": round(seconds, 1),
            }
            rows.append(row)
            print(
                f"{seed:>4} {k:>5} {row['precision_at_k']:>6.3f} {row['recall_at_k']:>6.3f} "
                f"{len(ranked):>7} {row['precision_flagged']:>7.3f} "
                f"{row['recall_flagged']:>7.3f} {seconds:>6.1f}"
            )
    mean = {key: float(np.mean([r[key] for r in rows])) for key in rows[0] if key != "seed"}
    print(
        f"mean {mean['flips']:>5.0f} {mean['precision_at_k']:>6.3f} {mean['recall_at_k']:>6.3f} "
        f"{mean['flagged']:>7.0f} {mean['precision_flagged']:>7.3f} "
        f"{mean['recall_flagged']:>7.3f} {mean['seconds']:>6.1f}"
    )
    print("command: python bench/review.py " + " ".join(sys.argv[1:]))
    if args.json:
        print(
            json.dumps(
                {
                    "data": str(args.data),
                    "flip": args.flip,
                    "folds": args.folds,
                    "group_folds": args.group_folds,
                    "seeds": rows,
                    "mean": mean,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
