"""Accuracy on the real dev data: our StanceClassifier against three baselines, same folds.

    python bench/accuracy.py [--seeds 3] [--data PATH] [--json]

Data: /work/shared/data/dev.jsonl (fields id, text, label, lang, created_at, source, group,
label_basis; see shared/data/README.md). Skips with a message when the file is absent.

Protocols (every model sees exactly the same splits):
  (a) group-aware 5-fold CV from `model.splits.fold_splits(labels, groups, folds=5, seed=s)`,
      seeds 0..N-1: an author's / thread's posts never sit on both sides. Figures are computed
      on each seed's pooled out-of-fold predictions, then mean (± std) over seeds.
  (b) leave-one-source-out over `source` (sources with < 20 posts merged into 'other'):
      train on the other sources, test on the held-out one. Macro-F1 per held-out source over
      the labels present in it, and pooled macro-F1 over all held-out predictions.

Models: ours (`StanceClassifier()` with its defaults, calibrated probabilities);
(1) TF-IDF char_wb 2-5 + LinearSVC, (2) case-sensitive TF-IDF char 1-5 + word 1-2 + LinearSVC,
both on raw text; (3) fastText supervised (wordNgrams 2, minn 2, maxn 5, epoch 25, lr 0.5,
dim 100) on raw text, left out with a message when `fasttext` is not installed
(pip install -e '.[bench]').

Calibration error: expected calibration error, 10 equal-width bins on the top-label
confidence. Ours: its calibrated probabilities; fastText: its own probabilities; the SVMs
have no probabilities, so their decision scores go through a softmax.

Writes bench/results/accuracy.json; `--json` prints the same figures as JSON instead of the
table. Dev figures only (the private test set is not available here); printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC

from swarmlens.classifier.model.evaluation import expected_calibration_error
from swarmlens.classifier.model.splits import fold_splits, plan_folds
from swarmlens.classifier.vocab import LABELS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dev.jsonl"
RESULTS = ROOT / "bench" / "results" / "accuracy.json"
ORDER = np.array(LABELS, dtype=object)
LANGS = ("en", "ar")
MIN_SOURCE = 20
BINS = 10
NOTE = (
    "These are dev figures (cross-validated on shared/data/dev.jsonl); the private test set "
    "is not available here. Figures are printed, never asserted."
)

# A model: fit on (texts, labels, groups), then score test texts ->
# (predicted labels, probabilities (n, len(LABELS)) in LABELS order, seconds spent fitting).
FitPredict = Callable[
    [list[str], list[str], list[str], list[str]], tuple[np.ndarray, np.ndarray, float]
]


def _in_label_order(proba: np.ndarray, classes: Sequence[object]) -> np.ndarray:
    out = np.zeros((proba.shape[0], len(ORDER)))
    for col, label in enumerate(classes):
        out[:, list(ORDER).index(label)] = proba[:, col]
    return out


def _softmax(scores: np.ndarray) -> np.ndarray:
    z = np.exp(scores - scores.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- models
def ours(train_x, train_y, train_g, test_x):
    from swarmlens.classifier.model.estimator import StanceClassifier

    started = time.perf_counter()
    model = StanceClassifier().fit(train_x, train_y, groups=train_g)
    seconds = time.perf_counter() - started
    proba = model.predict_proba(test_x)
    predicted = np.asarray(model.classes_, dtype=object)[proba.argmax(axis=1)]
    return predicted, _in_label_order(proba, list(model.classes_)), seconds


def _svm(pipeline) -> FitPredict:
    def run(train_x, train_y, train_g, test_x):
        started = time.perf_counter()
        model = pipeline().fit(train_x, train_y)
        seconds = time.perf_counter() - started
        scores = model.decision_function(test_x)
        classes = list(model.classes_)
        predicted = np.asarray(classes, dtype=object)[scores.argmax(axis=1)]
        return predicted, _in_label_order(_softmax(scores), classes), seconds

    return run


def _char_wb_pipeline():
    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        LinearSVC(random_state=0),
    )


def _char_word_cased_pipeline():
    return make_pipeline(
        make_union(
            TfidfVectorizer(
                analyzer="char", ngram_range=(1, 5), lowercase=False, sublinear_tf=True
            ),
            TfidfVectorizer(
                analyzer="word", ngram_range=(1, 2), lowercase=False, sublinear_tf=True
            ),
        ),
        LinearSVC(random_state=0),
    )


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def fasttext_run(train_x, train_y, train_g, test_x):
    import fasttext

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        with path.open("w", encoding="utf-8") as handle:
            for text, label in zip(train_x, train_y, strict=True):
                handle.write(f"__label__{label} {_one_line(text)}\n")
        model = fasttext.train_supervised(
            str(path), epoch=25, lr=0.5, wordNgrams=2, minn=2, maxn=5, dim=100,
            thread=1, seed=0, verbose=0,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    proba = np.zeros((len(test_x), len(ORDER)))
    for row, text in enumerate(test_x):
        # fastText's Python predict() breaks on NumPy 2 (np.array(copy=False)): call the
        # binding directly; k=-1 returns every label with its probability.
        for prob, label in model.f.predict(_one_line(text) + "\n", -1, 0.0, "strict"):
            proba[row, list(ORDER).index(label.removeprefix("__label__"))] = prob
    return ORDER[proba.argmax(axis=1)], proba, seconds


OURS = "swarmlens StanceClassifier (defaults)"
MODELS: dict[str, tuple[FitPredict, str]] = {
    OURS: (ours, "calibrated probabilities"),
    "TF-IDF char_wb 2-5 + LinearSVC": (
        _svm(_char_wb_pipeline),
        "softmax of SVM decision scores (no probabilities)",
    ),
    "TF-IDF char 1-5 + word 1-2 (cased) + LinearSVC": (
        _svm(_char_word_cased_pipeline),
        "softmax of SVM decision scores (no probabilities)",
    ),
}
FASTTEXT = "fastText (wordNgrams 2, minn 2, maxn 5, dim 100)"


# ---------------------------------------------------------------- metrics
def macro_f1(truth: np.ndarray, predicted: np.ndarray, labels: Sequence[str] = LABELS) -> float:
    return float(f1_score(truth, predicted, labels=list(labels), average="macro", zero_division=0))


def present(truth: np.ndarray) -> list[str]:
    return [label for label in LABELS if label in set(truth)]


def ece(proba: np.ndarray, predicted: np.ndarray, truth: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error on top-label confidence: the same definition as
    ``swarmlens evaluate`` reports."""
    correct = (predicted == truth).astype(float)
    return expected_calibration_error(proba.max(axis=1), correct, bins)


def figures(truth, predicted, proba, langs) -> dict:
    per_class = f1_score(truth, predicted, labels=list(LABELS), average=None, zero_division=0)
    per_lang = {}
    for lang in LANGS:
        mask = langs == lang
        per_lang[lang] = macro_f1(truth[mask], predicted[mask], present(truth[mask]))
    return {
        "macro_f1": macro_f1(truth, predicted),
        "per_class_f1": {label: float(v) for label, v in zip(LABELS, per_class, strict=True)},
        "lang_macro_f1": per_lang,
        "ece": ece(proba, predicted, truth),
    }


# ---------------------------------------------------------------- protocols
def run_splits(run: FitPredict, splits, texts, labels, groups):
    """Out-of-fold predictions over ``splits``; returns (predicted, proba, fit seconds list)."""
    predicted = np.empty(len(labels), dtype=object)
    proba = np.zeros((len(labels), len(ORDER)))
    seconds = []
    for train, test in splits:
        pred, prob, fit_s = run(
            [texts[i] for i in train],
            [labels[i] for i in train],
            [groups[i] for i in train],
            [texts[i] for i in test],
        )
        predicted[test], proba[test] = pred, prob
        seconds.append(fit_s)
    return predicted, proba, seconds


def evaluate(name, run, data, cv_splits, loso_splits, log) -> dict:
    texts, labels, groups, langs, sources = data
    truth = np.asarray(labels, dtype=object)
    per_seed, fit_seconds = [], []
    for seed, splits in enumerate(cv_splits):
        log(f"  {name}: (a) seed {seed}")
        predicted, proba, secs = run_splits(run, splits, texts, labels, groups)
        per_seed.append(figures(truth, predicted, proba, langs))
        fit_seconds += secs
    macro = np.array([f["macro_f1"] for f in per_seed])
    cv = {
        "macro_f1_mean": float(macro.mean()),
        "macro_f1_std": float(macro.std()),
        "macro_f1_per_seed": [float(v) for v in macro],
        "per_class_f1": {
            x: float(np.mean([f["per_class_f1"][x] for f in per_seed])) for x in LABELS
        },
        "lang_macro_f1": {
            x: float(np.mean([f["lang_macro_f1"][x] for f in per_seed])) for x in LANGS
        },
        "ece": float(np.mean([f["ece"] for f in per_seed])),
    }
    log(f"  {name}: (b) leave-one-source-out")
    held_out = [s for s, _ in loso_splits]
    predicted, proba, secs = run_splits(run, [sp for _, sp in loso_splits], texts, labels, groups)
    fit_seconds += secs
    per_source = {}
    for source in held_out:
        mask = sources == source
        per_source[source] = {
            "n": int(mask.sum()),
            "labels": present(truth[mask]),
            "macro_f1": macro_f1(truth[mask], predicted[mask], present(truth[mask])),
            "accuracy": float((truth[mask] == predicted[mask]).mean()),
        }
    loso = {
        "pooled_macro_f1": macro_f1(truth, predicted),
        "pooled_ece": ece(proba, predicted, truth),
        "per_source": per_source,
    }
    return {
        "cv": cv,
        "loso": loso,
        "fit_seconds_mean": float(np.mean(fit_seconds)),
        "fits": len(fit_seconds),
    }


def load(path: Path):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    groups = [r["group"] for r in rows]
    langs = np.array([r.get("lang") or "und" for r in rows], dtype=object)
    counts = Counter(r["source"] for r in rows)
    sources = np.array(
        [r["source"] if counts[r["source"]] >= MIN_SOURCE else "other" for r in rows],
        dtype=object,
    )
    return texts, labels, groups, langs, sources


# ---------------------------------------------------------------- report
def _short(source: str) -> str:
    return source.split("_")[0][:12]


def table(report: dict) -> str:
    out = [
        f"{report['n_posts']} posts from {report['data']}; labels {report['label_counts']}",
        "",
        f"(a) group-aware {report['folds']}-fold CV ({report['fold_scheme']} folds via "
        f"model.splits.fold_splits), seeds 0..{report['seeds'] - 1}: mean over seeds",
        f"{'model':48} {'macro-F1':>15} "
        + " ".join(f"{'F1 ' + x:>13}" for x in LABELS)
        + f" {'en':>6} {'ar':>6} {'ECE':>6} {'s/fit':>6}",
    ]
    for name, res in report["models"].items():
        cv = res["cv"]
        out.append(
            f"{name:48} {cv['macro_f1_mean']:>7.3f} ± {cv['macro_f1_std']:.3f} "
            + " ".join(f"{cv['per_class_f1'][x]:>13.3f}" for x in LABELS)
            + " "
            + " ".join(f"{cv['lang_macro_f1'][x]:>6.3f}" for x in LANGS)
            + f" {cv['ece']:>6.3f} {res['fit_seconds_mean']:>6.2f}"
        )
    out += [
        "  en/ar: macro-F1 over the labels present among that language's posts (lang field).",
        "  ECE: top-label confidence, 10 equal-width bins; the confidence used per model:",
        *(f"    {name}: {res['confidence']}" for name, res in report["models"].items()),
        "  s/fit: mean wall-clock training seconds per fit, (a) and (b) fits together.",
        "",
    ]
    sources = report["sources"]
    out.append(
        "(b) leave-one-source-out (sources < 20 posts merged into 'other'): macro-F1 on the "
        "held-out source over the labels present in it; pooled = macro-F1 over all held-out "
        "predictions"
    )
    for source, info in sources.items():
        out.append(f"  {_short(source):12} = {source}: n={info['n']}, labels {info['labels']}")
    out.append(f"{'model':48} {'pooled':>7} " + " ".join(f"{_short(s):>12}" for s in sources))
    for name, res in report["models"].items():
        loso = res["loso"]
        out.append(
            f"{name:48} {loso['pooled_macro_f1']:>7.3f} "
            + " ".join(f"{loso['per_source'][s]['macro_f1']:>12.3f}" for s in sources)
        )
    out += ["", *(f"note: {m}" for m in report["left_out"]), NOTE]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=3, help="CV seeds 0..N-1 (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    command = shlex.join(["python", "bench/accuracy.py", *sys.argv[1:]])

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if not args.data.exists():
        message = (
            f"skipped: {args.data} not found (the real dev data lives in shared/data/, beside "
            "the project); nothing measured"
        )
        print(json.dumps({"skipped": message}) if args.json else message)
        return
    data = load(args.data)
    _, labels, groups, _, sources = data
    models = dict(MODELS)
    left_out = []
    try:
        import fasttext  # noqa: F401

        models[FASTTEXT] = (fasttext_run, "fastText's own probabilities")
    except ImportError:
        left_out.append(
            "fastText is not installed (pip install -e '.[bench]'): its row is left out"
        )
        log(left_out[-1])

    plan = plan_folds(labels, groups, folds=5, seed=0)
    cv_splits = [
        [(tr, te) for tr, te in fold_splits(labels, groups, folds=5, seed=seed)]
        for seed in range(args.seeds)
    ]
    held_out = sorted(set(sources))
    loso_splits = [
        (s, (np.flatnonzero(sources != s), np.flatnonzero(sources == s))) for s in held_out
    ]
    report: dict = {
        "note": NOTE,
        "command": command,
        "data": str(args.data),
        "n_posts": len(labels),
        "label_counts": dict(Counter(labels)),
        "seeds": args.seeds,
        "folds": plan.folds,
        "fold_scheme": plan.scheme,
        "ece_bins": BINS,
        "sources": {
            s: {"n": int((sources == s).sum()), "labels": present(np.array(labels)[sources == s])}
            for s in held_out
        },
        "left_out": left_out,
        "models": {},
    }
    for name, (run, confidence) in models.items():
        log(f"{name} ...")
        started = time.perf_counter()
        result = evaluate(name, run, data, cv_splits, loso_splits, log)
        result["confidence"] = confidence
        result["wall_seconds"] = float(time.perf_counter() - started)
        report["models"][name] = result
        log(f"  done in {result['wall_seconds']:.0f}s")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(table(report))
        print(f"command: {command}")
    log(f"figures written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
