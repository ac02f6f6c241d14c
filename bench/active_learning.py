"""Simulated active learning on the real dev data: how many labels each sampling strategy needs.

    python bench/active_learning.py [--folds 5] [--seeds 1] [--seed-size 30] [--batch 30]
        [--strategies random uncertainty typical+margin-diverse ...] [--jobs 2]
        [--data ../shared/data/dev.jsonl] [--out bench/results/active_learning.png]

Group-aware folds (StratifiedGroupKFold on `group`: an author's posts never sit
on both sides). For each fold, the held-out fold is the test set and the other
folds are the unlabelled pool. Annotation starts from a seed set drawn from the
pool (stratified by label, the same for every strategy; or, for a strategy named
``COLD+LOOP`` such as ``typical+margin-diverse``, chosen by the ``COLD`` strategy
of ``annotation.sampling``, which sees no labels); each round retrains
``StanceClassifier`` on the labels so far, records macro-F1 on the test fold,
and "annotates" the next batch chosen by ``annotation.sampling.select`` (the
true label is revealed), until the whole pool is labelled. Curves are averaged
over folds and seeds (a seed changes the folds, the seed set and the random
draws). The reference is the model trained on the whole pool of each fold.

Prints the learning curves (labels used vs macro-F1 per strategy), the
full-data macro-F1, and for each strategy the smallest share of the pool at
which its averaged curve reaches the full-data macro-F1 (and 99% and 97.5% of
it; curves are noisy). Draws the curves to a PNG. Skips with a message when the data is
absent. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from swarmlens.classifier.model.splits import fold_splits
from swarmlens.classifier.vocab import LABELS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dev.jsonl"
DEFAULT_OUT = ROOT / "bench" / "results" / "active_learning.png"

FULL = "full data"
DEFAULT_STRATEGIES = (
    "random",
    "uncertainty",
    "entropy",
    "diversity",
    "hashtag-stratified",
    "margin-diverse",
    "margin-balanced",
    "typical+margin",
    "typical+margin-diverse",
)
"""Compared by default. ``margin`` is ``uncertainty`` under its literature name (the same picks)."""


def split_strategy(name: str) -> tuple[str | None, str]:
    """(cold start or None for the label-stratified seed set, loop strategy) of a bench name."""
    cold, _, loop = name.rpartition("+")
    return (cold or None), loop


@dataclass
class Run:
    """One learning curve: a strategy on one fold of one seed."""

    strategy: str
    seed: int
    fold: int
    pool_size: int
    counts: list[int]
    f1: list[float]
    seconds: float


_DATA: dict[str, object] = {}


def _load(path: Path) -> None:
    from swarmlens.classifier.posts.post import post_from_record

    with path.open(encoding="utf-8") as handle:
        posts = [post_from_record(json.loads(line)) for line in handle if line.strip()]
    _DATA["posts"] = posts
    _DATA["labels"] = np.array([p.label for p in posts], dtype=object)
    _DATA["groups"] = np.array([p.group for p in posts], dtype=object)


def folds_of(n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    labels, groups = _DATA["labels"], _DATA["groups"]
    return list(fold_splits(list(labels), list(groups), folds=n_folds, seed=seed))


def _macro_f1(model: object, test: np.ndarray) -> float:
    posts, labels = _DATA["posts"], _DATA["labels"]
    predicted = model.predict([posts[i].text for i in test])
    return float(
        f1_score(labels[test], predicted, labels=list(LABELS), average="macro", zero_division=0)
    )


def _fit(indices: list[int]) -> object:
    from swarmlens.classifier.model.estimator import StanceClassifier

    posts, labels, groups = _DATA["posts"], _DATA["labels"], _DATA["groups"]
    return StanceClassifier().fit(
        [posts[i].text for i in indices],
        [labels[i] for i in indices],
        groups=[groups[i] for i in indices],
    )


def simulate(task: tuple[str, int, int, int, int, int]) -> Run:
    """Run one learning curve: (strategy, seed, fold, n_folds, seed_size, batch) -> Run."""
    from swarmlens.annotation.sampling import select

    strategy, seed, fold, n_folds, seed_size, batch = task
    started = time.perf_counter()
    train, test = folds_of(n_folds, seed)[fold]
    posts, labels = _DATA["posts"], _DATA["labels"]
    if strategy == FULL:
        f1 = _macro_f1(_fit(list(train)), test)
        return Run(
            strategy, seed, fold, len(train), [len(train)], [f1], time.perf_counter() - started
        )
    cold, loop = split_strategy(strategy)
    if cold is None:
        labelled, unlabelled = train_test_split(
            train, train_size=seed_size, stratify=labels[train], random_state=seed * 1000 + fold
        )
        labelled, unlabelled = list(labelled), list(unlabelled)
    else:
        first = set(select([posts[i] for i in train], seed_size, cold, seed=seed * 1000 + fold))
        labelled = [int(i) for k, i in enumerate(train) if k in first]
        unlabelled = [int(i) for k, i in enumerate(train) if k not in first]
    counts: list[int] = []
    scores: list[float] = []
    for round_no in range(len(train)):
        model = _fit(labelled)
        counts.append(len(labelled))
        scores.append(_macro_f1(model, test))
        if not unlabelled:
            break
        picked = select(
            [posts[i] for i in unlabelled],
            batch,
            loop,
            model=model,
            seed=seed * 1_000_000 + fold * 1000 + round_no,
        )
        chosen = set(picked)
        labelled += [unlabelled[k] for k in picked]
        unlabelled = [i for k, i in enumerate(unlabelled) if k not in chosen]
    return Run(strategy, seed, fold, len(train), counts, scores, time.perf_counter() - started)


def first_reach(shares: np.ndarray, curve: np.ndarray, target: float) -> float | None:
    """Smallest share at which ``curve`` is at or above ``target`` (None: never)."""
    hits = np.flatnonzero(curve >= target - 1e-12)
    return float(shares[hits[0]]) if len(hits) else None


def main() -> None:
    from swarmlens.annotation.sampling import STRATEGIES

    def strategy_name(name: str) -> str:
        cold, loop = split_strategy(name)
        if loop not in STRATEGIES or (cold is not None and cold not in STRATEGIES):
            raise argparse.ArgumentTypeError(
                f"{name!r}: expected STRATEGY or COLD+STRATEGY, each one of {', '.join(STRATEGIES)}"
            )
        return name

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--seed-size", type=int, default=30)
    parser.add_argument("--batch", type=int, default=30)
    parser.add_argument(
        "--strategies", nargs="+", default=list(DEFAULT_STRATEGIES), type=strategy_name
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not args.data.exists():
        print(
            f"skipped: {args.data} not found (the real dev data lives in shared/, beside the project)"
        )
        return
    started = time.perf_counter()
    _load(args.data)
    strategies = list(dict.fromkeys(args.strategies))
    tasks = [
        (strategy, seed, fold, args.folds, args.seed_size, args.batch)
        for seed in range(args.seeds)
        for fold in range(args.folds)
        for strategy in [*strategies, FULL]
    ]
    # Longest first, so the two workers finish together.
    tasks.sort(key=lambda t: t[0] == FULL)
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, initializer=_load, initargs=(args.data,)) as pool:
            runs = list(pool.map(simulate, tasks))
    else:
        runs = [simulate(t) for t in tasks]
    by_strategy: dict[str, list[Run]] = {s: [] for s in [*strategies, FULL]}
    for run in runs:
        by_strategy[run.strategy].append(run)

    full = np.array([r.f1[0] for r in by_strategy[FULL]])
    reference = float(full.mean())
    pools = np.array([r.pool_size for r in by_strategy[FULL]])
    # Common grid: label counts every run reaches, then "the whole pool" (sizes differ by fold).
    grid = [c for c in by_strategy[strategies[0]][0].counts if c < pools.min()]
    shares = np.array([100.0 * np.mean(c / pools) for c in grid] + [100.0])
    curves: dict[str, np.ndarray] = {}
    for strategy in strategies:
        rows = []
        for run in by_strategy[strategy]:
            at = dict(zip(run.counts, run.f1, strict=True))
            rows.append([at[c] for c in grid] + [run.f1[-1]])
        curves[strategy] = np.array(rows).mean(axis=0)

    posts = _DATA["posts"]
    print(
        f"\n{len(posts)} posts ({args.data.name}); group-aware {args.folds}-fold CV x {args.seeds} "
        f"seed(s); pool {pools.min()}-{pools.max()} posts per fold, seed set {args.seed_size} "
        f"(stratified by label), batches of {args.batch}; test macro-F1 averaged over "
        f"{len(full)} runs"
    )
    width = max(12, *(len(s) for s in strategies))
    header = f"{'labels':>7} {'% pool':>7} " + " ".join(f"{s:>{width}}" for s in strategies)
    print(header)
    for k, share in enumerate(shares):
        label_count = f"{grid[k]}" if k < len(grid) else "all"
        print(
            f"{label_count:>7} {share:>6.1f}% "
            + " ".join(f"{curves[s][k]:>{width}.4f}" for s in strategies)
        )
    print(
        f"\nfull-data macro-F1 (model trained on the whole pool): {reference:.4f} "
        f"± {full.std():.4f} (std over folds/seeds); 99% of it: {0.99 * reference:.4f}; "
        f"97.5%: {0.975 * reference:.4f}"
    )
    print(
        f"\n{'strategy':24} {'reaches full-data':>18} {'reaches 99%':>12} {'97.5%':>7} "
        f"{'best F1':>8} {'at':>7} {'sec':>6}"
    )
    best_share: dict[str, float | None] = {}
    for strategy in strategies:
        curve = curves[strategy]
        hit = first_reach(shares, curve, reference)
        hit99 = first_reach(shares, curve, 0.99 * reference)
        hit975 = first_reach(shares, curve, 0.975 * reference)
        best_share[strategy] = hit
        seconds = sum(r.seconds for r in by_strategy[strategy])
        top = int(np.argmax(curve))
        print(
            f"{strategy:24} {_share(hit):>18} {_share(hit99):>12} {_share(hit975):>7} "
            f"{curve[top]:>8.4f} "
            f"{shares[top]:>6.1f}% {seconds:>6.0f}"
        )
    reached = {s: v for s, v in best_share.items() if v is not None}
    if reached:
        winner = min(reached, key=reached.get)
        verdict = "meets" if reached[winner] <= 40.0 else "misses"
        print(
            f"\ntarget (best strategy reaches full-data macro-F1 with <= 40% of labels): {verdict} it "
            f"- {winner} first reaches it at {reached[winner]:.1f}% of the pool"
        )
    else:
        print(
            "\ntarget (best strategy reaches full-data macro-F1 with <= 40% of labels): misses it "
            "- no strategy's averaged curve reaches the full-data macro-F1"
        )

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("\nfigure: skipped (matplotlib is not installed)")
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        _plot(args, shares, curves, reference)
        print(f"\nfigure: {args.out}")
    print(f"elapsed: {time.perf_counter() - started:.0f} s on {args.jobs} worker(s)")
    extra = (
        "" if strategies == list(DEFAULT_STRATEGIES) else " --strategies " + " ".join(strategies)
    )
    print(
        f"command: python bench/active_learning.py --folds {args.folds} --seeds {args.seeds} "
        f"--seed-size {args.seed_size} --batch {args.batch} --jobs {args.jobs}{extra}"
    )


def _share(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}%"


def _plot(
    args: argparse.Namespace, shares: np.ndarray, curves: dict[str, np.ndarray], reference: float
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=120)
    for strategy, curve in curves.items():
        ax.plot(shares, curve, marker="o", markersize=3, linewidth=1.5, label=strategy)
    ax.axhline(
        reference, color="black", linestyle="--", linewidth=1, label=f"full data ({reference:.3f})"
    )
    ax.axhline(0.99 * reference, color="grey", linestyle=":", linewidth=1, label="99% of full data")
    ax.axvline(
        40, color="tab:red", linestyle="-.", linewidth=1, alpha=0.6, label="target: 40% of labels"
    )
    ax.set_xlabel("labels used (% of the unlabelled pool)")
    ax.set_ylabel("test macro-F1")
    ax.set_xlim(0, 100)
    ax.set_title(
        f"Active learning on {args.data.name}: group-aware {args.folds}-fold CV x {args.seeds} seed(s), "
        f"seed set {args.seed_size}, batch {args.batch}",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out)
    plt.close(fig)


if __name__ == "__main__":
    main()
