"""Accuracy on the real dev data: our model against char-SVM and fastText, same folds.

    python bench/accuracy.py [--seeds 5] [--data ../shared/data/dev.jsonl]

Group-aware 5-fold cross-validation (`model.splits.fold_splits` on `group`: an
author's posts never sit on both sides) repeated over seeds; every model sees
the same folds. References: TF-IDF char_wb 2-5 grams + LinearSVC on the raw
text, and fastText (wordNgrams 2, subwords 3-5). Prints macro-F1 (mean and
std over seeds), per-class and per-language F1, and our calibration error.
Skips with a message when the data is absent. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from swarmlens.classifier.model.splits import fold_splits
from swarmlens.classifier.vocab import LABELS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dev.jsonl"


def ours(train_x, train_y, train_g, test_x):
    from swarmlens.classifier.model.estimator import StanceClassifier

    model = StanceClassifier().fit(train_x, train_y, groups=train_g)
    proba = model.predict_proba(test_x)
    return model.classes_[proba.argmax(axis=1)], proba.max(axis=1)


def char_svm(train_x, train_y, train_g, test_x):
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True), LinearSVC()
    ).fit(train_x, train_y)
    return model.predict(test_x), None


def fasttext_predict(model, text: str) -> str:
    # fasttext's Python predict() breaks on NumPy 2 (np.array(copy=False)); call the binding.
    pairs = model.f.predict(" ".join(text.split()) + "\n", 1, 0.0, "strict")
    return pairs[0][1].removeprefix("__label__")


def fasttext_run(train_x, train_y, train_g, test_x):
    import fasttext

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        for text, label in zip(train_x, train_y, strict=True):
            handle.write(f"__label__{label} {' '.join(text.split())}\n")
    try:
        model = fasttext.train_supervised(
            handle.name,
            epoch=25,
            lr=0.5,
            wordNgrams=2,
            minn=3,
            maxn=5,
            dim=50,
            thread=1,
            seed=1,
            verbose=0,
        )
    finally:
        os.unlink(handle.name)
    return np.array([fasttext_predict(model, t) for t in test_x], dtype=object), None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    if not args.data.exists():
        print(
            f"skipped: {args.data} not found (the real dev data lives in shared/, beside the project)"
        )
        return
    from swarmlens.classifier.model.evaluation import evaluate_predictions
    from swarmlens.classifier.model.training import load_labelled

    data = load_labelled([args.data])
    texts = np.array(data.texts, dtype=object)
    labels = np.array(data.labels, dtype=object)
    groups = np.array(data.groups, dtype=object)
    models = {"swarmlens (NB-SVM, calibrated)": ours, "char_wb 2-5 + LinearSVC": char_svm}
    try:
        import fasttext  # noqa: F401

        models["fastText (wordNgrams 2, minn 3, maxn 5)"] = fasttext_run
    except ImportError:
        print("fastText not installed (pip install -e '.[bench]'): its row is left out")
    results: dict[str, list[dict]] = {name: [] for name in models}
    seconds = dict.fromkeys(models, 0.0)
    for seed in range(args.seeds):
        # The same splitter as training and calibration: groups kept whole.
        folds = list(fold_splits(labels, groups, folds=5, seed=seed))
        for name, run in models.items():
            predicted = np.empty(len(labels), dtype=object)
            top = np.zeros(len(labels))
            started = time.perf_counter()
            for train, test in folds:
                pred, conf = run(
                    list(texts[train]), list(labels[train]), list(groups[train]), list(texts[test])
                )
                predicted[test] = pred
                if conf is not None:
                    top[test] = conf
            seconds[name] += time.perf_counter() - started
            has_conf = name.startswith("swarmlens")
            results[name].append(
                evaluate_predictions(labels, predicted, top if has_conf else None, data.langs)
            )

    print(f"\n{len(labels)} posts, group-aware 5-fold CV x {args.seeds} seeds ({args.data.name})")
    header = (
        f"{'model':42} {'macro-F1':>15} "
        + " ".join(f"{'F1 ' + x:>14}" for x in LABELS)
        + f" {'en':>6} {'ar':>6} {'sec':>6}"
    )
    print(header)
    for name, runs in results.items():
        f1 = np.array([r["macro_f1"] for r in runs])
        per_class = [np.mean([r["per_class"][x]["f1"] for r in runs]) for x in LABELS]
        per_lang = [
            np.mean([r["per_language"].get(x, {}).get("macro_f1", np.nan) for r in runs])
            for x in ("en", "ar")
        ]
        print(
            f"{name:42} {f1.mean():>7.4f} ± {f1.std():.4f} "
            + " ".join(f"{v:>14.3f}" for v in per_class)
            + " "
            + " ".join(f"{v:>6.3f}" for v in per_lang)
            + f" {seconds[name]:>6.1f}"
        )
    ece = np.mean([r["calibration_error"] for r in results["swarmlens (NB-SVM, calibrated)"]])
    print(f"\nswarmlens expected calibration error (top label, 10 bins): {ece:.3f}")
    print(f"command: python bench/accuracy.py --seeds {args.seeds}")


if __name__ == "__main__":
    main()
