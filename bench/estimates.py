"""Audited estimates vs classify-and-count over simulated hashtag populations from dev.

    python bench/estimates.py [--populations 200] [--size 1500] [--seed 0] [--data PATH] [--json]
        [--designs uniform,active,uniform/lang,active/lang,active/label,oracle]

Data: ../shared/data/dev.jsonl (see shared/data/README.md), read in place; skips with a
message when absent.

Protocol:
  1. Group-aware 5-fold CV (`model.splits.fold_splits` over `group`, seed --seed): each
     held-out fold is scored by a `StanceClassifier()` trained on the other folds, so every
     post gets calibrated probabilities from a model that never saw its author.
  2. --populations simulated hashtags: each draws a stance mix from Dirichlet(1, 1, 1) and
     --size posts with that mix from ONE held-out fold (with replacement within a label when
     the fold holds fewer posts of it than needed: a population is a simulation). The truth
     is the population's own label shares.
  3. Per population: classify-and-count (shares of the top predicted label) and, for audits
     of 50, 100 and 200 posts (a seeded uniform sample without replacement of the
     population's rows, labelled with their dev labels), the prediction-powered estimate
     (`classifier.analytics.estimate.ppi_shares`) with 95% intervals.
  4. The same audit sizes drawn by each design (`annotation.audit.design_sample`, one seed
     per population and size shared by the designs), named DESIGN[/STRATA] as
     `annotate push --strategy audit --design DESIGN [--stratify STRATA]` draws them:
       uniform       a uniform sample, the unweighted estimate (today's audit);
       active        inclusion probabilities from the model's uncertainty sqrt(1 - sum f^2),
                     20% mixed uniform, weighted by 1 / probability (`--design active`);
       uniform/lang  proportional per language, uniform within it (`--stratify lang`);
       active/lang   proportional per language, active within it;
       active/label  proportional per predicted label (`--stratify label`), active within it;
       oracle        a reference no audit can use: probabilities from the true error
                     |Y - f| (same 20% uniform mix), what a perfectly calibrated model's
                     uncertainty would give.

Figures: mean absolute error of the three label shares (mean over labels and populations),
the coverage of the 95% label-share intervals (share of label x population intervals that
hold the truth), the coverage of the flood-share intervals (opposing / (supportive +
opposing), delta method), and the mean interval width, with its ratio to uniform's at the
same audit size. Writes bench/results/estimates.json.
Dev figures, printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from swarmlens.annotation.audit import active_probabilities, design_sample, systematic
from swarmlens.classifier.analytics.estimate import audit_weights, one_hot, ppi_shares
from swarmlens.classifier.model.splits import fold_splits
from swarmlens.classifier.vocab import FLOOD_PAIR, LABELS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dev.jsonl"
RESULTS = ROOT / "bench" / "results" / "estimates.json"
AUDITS = (50, 100, 200)
DESIGNS = ("uniform", "active", "uniform/lang", "active/lang", "active/label", "oracle")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def out_of_fold(rows: list[dict], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probabilities in LABELS order, true label index, fold) of every post, out of fold."""
    from swarmlens.classifier.model.estimator import StanceClassifier

    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    groups = [r["group"] for r in rows]
    proba = np.zeros((len(rows), len(LABELS)))
    fold_of = np.zeros(len(rows), dtype=int)
    for fold, (train, test) in enumerate(fold_splits(labels, groups, folds=5, seed=seed)):
        model = StanceClassifier().fit(
            [texts[i] for i in train], [labels[i] for i in train], groups=[groups[i] for i in train]
        )
        scored = model.predict_proba([texts[i] for i in test])
        for col, label in enumerate(model.classes_):
            proba[test, LABELS.index(str(label))] = scored[:, col]
        fold_of[test] = fold
        log(f"fold {fold}: trained on {len(train)}, scored {len(test)}")
    truth = np.array([LABELS.index(label) for label in labels])
    return proba, truth, fold_of


def populations(
    proba: np.ndarray,
    truth: np.ndarray,
    fold_of: np.ndarray,
    count: int,
    size: int,
    seed: int,
    langs: np.ndarray,
):
    """Yield (probabilities, true labels, languages) of simulated hashtag populations."""
    rng = np.random.default_rng(seed)
    folds = np.unique(fold_of)
    for _ in range(count):
        fold = rng.choice(folds)
        mix = rng.dirichlet(np.ones(len(LABELS)))
        wanted = rng.multinomial(size, mix)
        rows = []
        for k, n in enumerate(wanted):
            pool = np.flatnonzero((fold_of == fold) & (truth == k))
            if n and len(pool):
                rows.append(rng.choice(pool, size=n, replace=n > len(pool)))
        chosen = np.concatenate(rows)
        yield proba[chosen], truth[chosen], langs[chosen]


def draw(design: str, f_all, y_all, langs, n: int, seed: int):
    """(rows, weights or None, strata or None) of one audit of n posts by ``design``."""
    if design == "uniform":
        rows = np.random.default_rng(seed).choice(
            len(y_all), size=min(n, len(y_all)), replace=False
        )
        return rows, None, None
    if design == "oracle":
        error = np.linalg.norm(np.eye(len(LABELS))[y_all] - f_all, axis=1)
        pi = active_probabilities(error, n)
        rows = systematic(pi, np.random.default_rng(seed))
        return rows, audit_weights(list(pi[rows]), len(y_all)), None
    kind, _, by = design.partition("/")
    strata = (
        [str(x) for x in langs] if by == "lang"
        else [LABELS[k] for k in f_all.argmax(axis=1)] if by == "label" else None
    )
    rows, pi = design_sample(f_all, n, seed, kind, strata)
    picked = [strata[i] for i in rows] if strata else None
    return np.array(rows), audit_weights(pi, len(y_all)), picked


def run(proba, truth, fold_of, langs, count: int, size: int, seed: int, designs) -> dict:
    rng = np.random.default_rng(seed + 1)
    counter, message = (LABELS.index(x) for x in FLOOD_PAIR)
    cc_error: list[float] = []
    cc_flood_error: list[float] = []
    per_audit = {
        (d, n): {"error": [], "covered": [], "width": [], "flood_error": [], "flood_covered": []}
        for d in designs
        for n in AUDITS
    }
    for f_all, y_all, lang in populations(proba, truth, fold_of, count, size, seed, langs):
        share = np.bincount(y_all, minlength=len(LABELS)) / len(y_all)
        counted = np.bincount(f_all.argmax(axis=1), minlength=len(LABELS)) / len(y_all)
        cc_error.append(float(np.abs(counted - share).mean()))
        true_flood = share[counter] / max(share[counter] + share[message], 1e-12)
        cc_den = counted[counter] + counted[message]
        if cc_den > 0:
            cc_flood_error.append(abs(counted[counter] / cc_den - true_flood))
        for n, d in ((n, d) for n in AUDITS for d in designs):
            if d == designs[0]:
                draw_seed = int(rng.integers(2**31))
            rows, weights, strata = draw(d, f_all, y_all, lang, n, draw_seed)
            y = one_hot([LABELS[i] for i in y_all[rows]])
            est = ppi_shares(f_all, f_all[rows], y, None, weights, strata)
            figures = per_audit[d, n]
            figures["error"].append(float(np.abs(est.theta - share).mean()))
            for k in range(len(LABELS)):
                low, high = est.interval(k)
                figures["covered"].append(low <= share[k] <= high)
                figures["width"].append(high - low)
            flood = est.flood()
            if flood is not None and share[counter] + share[message] > 0:
                figures["flood_error"].append(abs(flood[0] - true_flood))
                figures["flood_covered"].append(flood[1] <= true_flood <= flood[2])
    result = {
        "classify_and_count": {
            "mae_shares": round(float(np.mean(cc_error)), 4),
            "mae_flood_share": round(float(np.mean(cc_flood_error)), 4),
        },
        "audits": {},
    }
    for (d, n), figures in per_audit.items():
        mae = float(np.mean(figures["error"]))
        key = str(n) if d == "uniform" else f"{d} {n}"
        result["audits"][key] = {
            "design": d,
            "audited": n,
            "mae_shares": round(mae, 4),
            "ratio_to_classify_and_count": round(mae / float(np.mean(cc_error)), 3),
            "coverage_shares": round(float(np.mean(figures["covered"])), 3),
            "mean_interval_width": round(float(np.mean(figures["width"])), 4),
            "mae_flood_share": round(float(np.mean(figures["flood_error"])), 4),
            "coverage_flood_share": round(float(np.mean(figures["flood_covered"])), 3),
        }
        if "uniform" in designs:
            uniform = np.mean(per_audit["uniform", n]["width"])
            ratio = float(np.mean(figures["width"]) / uniform)
            result["audits"][key]["width_ratio_to_uniform"] = round(ratio, 3)
    return result


def table(report: dict) -> str:
    cc = report["classify_and_count"]
    lines = [
        f"{report['populations']} simulated hashtags of {report['size']} posts, dev "
        "out-of-fold predictions (group-aware 5-fold)",
        "",
        f"{'method':<30} {'MAE shares':>10} {'x CC':>6} {'95% cover':>9} {'width':>7} "
        f"{'x unif':>6} {'MAE flood':>9} {'flood cover':>11}",
        f"{'classify-and-count':<30} {cc['mae_shares']:>10.4f} {1:>6.2f} {'-':>9} {'-':>7} "
        f"{'-':>6} {cc['mae_flood_share']:>9.4f} {'-':>11}",
    ]
    for row in report["audits"].values():
        name = f"{row['design']} audit of {row['audited']}"
        ratio = row.get("width_ratio_to_uniform")
        lines.append(
            f"{name:<30} {row['mae_shares']:>10.4f} "
            f"{row['ratio_to_classify_and_count']:>6.2f} {row['coverage_shares']:>9.3f} "
            f"{row['mean_interval_width']:>7.4f} {'-' if ratio is None else f'{ratio:.3f}':>6} "
            f"{row['mae_flood_share']:>9.4f} {row['coverage_flood_share']:>11.3f}"
        )
    lines += ["", report["note"], f"command: {report['command']}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--populations", type=int, default=200)
    parser.add_argument("--size", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--designs", default=",".join(DESIGNS), help="audit designs, comma-separated"
    )
    args = parser.parse_args()
    command = shlex.join(["python", "bench/estimates.py", *sys.argv[1:]])
    if not args.data.exists():
        log(f"skipped: {args.data} not found (shared/ is not part of a user's clone)")
        return
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line]
    started = time.perf_counter()
    proba, truth, fold_of = out_of_fold(rows, args.seed)
    langs = np.array([r.get("lang") or "und" for r in rows])
    designs = tuple(d for d in args.designs.split(",") if d)
    report = {
        "data": str(args.data),
        "posts": len(rows),
        "populations": args.populations,
        "size": args.size,
        "seed": args.seed,
        "designs": list(designs),
        **run(proba, truth, fold_of, langs, args.populations, args.size, args.seed, designs),
        "seconds": round(time.perf_counter() - started, 1),
        "note": "Dev figures (shared/data/dev.jsonl); populations are simulations drawn from "
        "one held-out fold each. Printed, never asserted.",
        "command": command,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(table(report))
    log(f"figures written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
