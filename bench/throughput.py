"""Scoring speed as a user gets it: `swarmlens score` against fastText, whole processes, one core.

    cd /work/main && .venv/bin/python bench/throughput.py [--n 100000] [--repeats 3]
        [--no-lang] [--profile] [--json] [--results PATH] [--keep]

1. Input: N posts from the demo generator (flat records), each with one token never seen
   before appended to its text (real archives have a long tail of new tokens);
   ``--no-lang`` drops the ``lang`` field so language identification runs.
2. swarmlens: ``taskset -c 0 .venv/bin/swarmlens score IN.jsonl --out OUT.jsonl``, one-thread
   BLAS/OpenMP/numba, a registry prepared beforehand (SWARMLENS_MODELS_DIR in a temp dir),
   numba cache warmed by an untimed run on a small file. Timed start to exit.
3. fastText, same run, same file: a whole process that reads the JSONL, cleans the text,
   predicts with a supervised model (trained untimed on the demo corpus: wordNgrams 2,
   minn 2, maxn 5, dim 100, epoch 5) and writes JSONL (id, label, probabilities).
4. The ratio swarmlens / fastText posts/s against the target (>= 2x fastText): median
   runs (the target's figure), and, because the machine may be shared, also the fastest
   runs and the median CPU seconds (user + system) of each side.
5. A time split of the swarmlens path inside one process (same file, same pinning).
   ``--profile``: the top 10 functions (own time) of one `swarmlens score` under cProfile.

Figures are printed (``--json``: as JSON) and written to bench/results/throughput.json;
nothing is asserted. The machine may be shared: the load average is part of the output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shlex
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
SWARMLENS = str(VENV_BIN / "swarmlens") if (VENV_BIN / "swarmlens").exists() else "swarmlens"
RESULTS = ROOT / "bench" / "results" / "throughput.json"
TARGET = 2.0  # the target: swarmlens >= 2x fastText posts/s
ONE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}
FASTTEXT_PARAMS = {"wordNgrams": 2, "minn": 2, "maxn": 5, "dim": 100, "epoch": 5}
STAGES = ("read", "prepare", "features", "vectors", "predict", "table", "write")
STAGE_NAMES = {
    "read": "read + parse + validate + entities (columnar.read_batches)",
    "prepare": "normalise/prepare (text.prepare.prepare)",
    "features": "hashed n-grams + TF-IDF + linear product (fused kernel)",
    "vectors": "subword pieces + their folded weights (subwords kernel)",
    "predict": "calibrated probabilities from the scores",
    "table": "output table (score_table, model part precomputed)",
    "write": "write (OutputWriter, JSON lines by batch/jsonl: Arrow compute and orjson)",
}

# The fastText side, as a user would write it: one process, read, clean, predict, write.
FASTTEXT_SCRIPT = '''\
"""fastText scoring, whole process: read JSONL, clean text, predict, write JSONL."""
import sys

import fasttext
import orjson

source, model_path, out = sys.argv[1:4]
model = fasttext.load_model(model_path)
ids, texts = [], []
with open(source, "rb") as handle:
    for line in handle:
        record = orjson.loads(line)
        ids.append(record["id"])
        texts.append(record["text"].replace("\\r", " ").replace("\\n", " "))
labels, probs = model.predict(texts, k=-1)
with open(out, "wb") as handle:
    for post_id, names, values in zip(ids, labels, probs):
        scores = {name[9:]: round(float(v), 6) for name, v in zip(names, values)}
        handle.write(orjson.dumps({"id": post_id, "label": names[0][9:], "probabilities": scores}))
        handle.write(b"\\n")
'''


# ------------------------------------------------------------------------------- setup


def new_token_factory(seen: set[str], seed: int):
    """A function returning a random 8-12 letter word never returned before and not in ``seen``."""
    rng = random.Random(seed)
    letters = string.ascii_lowercase

    def token() -> str:
        while True:
            word = "".join(rng.choices(letters, k=rng.randint(8, 12)))
            if word not in seen:
                seen.add(word)
                return word

    return token


def write_input(path: Path, n: int, seed: int, no_lang: bool, seen: set[str]) -> None:
    from swarmlens.classifier.demo.generator import generate_demo

    token = new_token_factory(seen, seed)
    with path.open("w", encoding="utf-8") as handle:
        for record in generate_demo(n_posts=n, seed=seed):
            record["text"] = f"{record['text']} {token()}"
            if no_lang:
                record.pop("lang", None)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def train_fasttext(work: Path) -> tuple[Path, set[str]]:
    """Train the fastText model on the demo corpus (untimed); also return its vocabulary."""
    import fasttext

    from swarmlens.classifier.demo.generator import generate_demo

    train, seen = work / "fasttext-train.txt", set()
    with train.open("w", encoding="utf-8") as handle:
        for record in generate_demo():
            text = record["text"].replace("\r", " ").replace("\n", " ")
            seen.update(text.lower().split())
            handle.write(f"__label__{record['label']} {text}\n")
    model = fasttext.train_supervised(str(train), thread=1, verbose=0, **FASTTEXT_PARAMS)
    path = work / "fasttext.bin"
    model.save_model(str(path))
    return path, seen


def pinned() -> list[str]:
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


CPU_SECONDS: list[float] = []  # user + system seconds of each ``run``, in order


def run(cmd: list[str], env: dict[str, str], capture: bool = False) -> tuple[float, str]:
    """Run ``cmd`` to completion; return (wall seconds, stdout). Exits on failure.
    The child's CPU seconds (user + system) are appended to ``CPU_SECONDS``: on a shared
    machine they move less than wall time when a neighbour takes the core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {shlex.join(cmd)}\n{done.stderr[-4000:]}")
    return seconds, done.stdout if capture else ""


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def rates(n: int, seconds: list[float], cpu: list[float]) -> dict[str, Any]:
    per_second = sorted(n / s for s in seconds)
    return {
        "seconds": [round(s, 3) for s in seconds],
        "cpu_seconds": [round(s, 3) for s in cpu],
        "posts_per_s_min": round(per_second[0], 1),
        "posts_per_s_median": round(statistics.median(per_second), 1),
        "posts_per_s_max": round(per_second[-1], 1),
    }


# ----------------------------------------------------------------- in-process split


class _Precomputed:
    """Stands in for the model in ``score_table`` so only the output table is timed."""

    def __init__(self, proba: Any, classes: Any) -> None:
        self.proba, self.classes_ = proba, classes

    def predict_proba(self, texts: Any) -> Any:
        return self.proba


def split_worker(path: str, out: str) -> None:
    """The swarmlens file-scoring path (cli/scoring.py `_score_to_file`), stage by stage."""
    clock = time.perf_counter
    started = clock()
    from swarmlens.classifier.batch.scoring import READ_CHUNK_SIZE, OutputWriter, score_table
    from swarmlens.classifier.cli.scoring import _answer_pyarrows_pandas_probe
    from swarmlens.classifier.model import registry
    from swarmlens.classifier.model.fused import decision_scores
    from swarmlens.classifier.model.linear import calibrated, softmax
    from swarmlens.classifier.model.subwords import pooled
    from swarmlens.classifier.posts.columnar import read_batches
    from swarmlens.classifier.text.prepare import prepare

    imported = clock()
    _answer_pyarrows_pandas_probe()  # as `swarmlens score` does
    model, entry = registry.load(None)
    loaded = clock()
    params = model.params  # the scoring-only LinearStanceModel a registry load returns
    times = dict.fromkeys(STAGES, 0.0)
    read = 0
    writer = OutputWriter(out)
    batches = read_batches([path], READ_CHUNK_SIZE)  # the batches `swarmlens score` reads
    while True:
        t0 = clock()
        item = next(batches, None)
        t1 = clock()
        times["read"] += t1 - t0
        if item is None:
            break
        _, batch = item
        read += batch.read
        texts = batch.table.column("text")
        t0 = clock()
        prepared = prepare(texts, params["mask_urls"], params["mask_mentions"])
        t1 = clock()
        scores = decision_scores(prepared, params, model.scoring_table_) + model.intercept_
        t15 = clock()
        if model.piece_weights_ is not None:
            scores += pooled(prepared, model.piece_weights_)
        t2 = clock()
        proba = (softmax(scores) if model.calibration_ is None
                 else calibrated(scores, *model.calibration_))
        t3 = clock()
        table = score_table(_Precomputed(proba, model.classes_), batch.table, entry.id)
        t4 = clock()
        writer.write(table)
        times["prepare"] += t1 - t0
        times["features"] += t15 - t1
        times["vectors"] += t2 - t15
        times["predict"] += t3 - t2
        times["table"] += t4 - t3
        times["write"] += clock() - t4
    t0 = clock()
    writer.close()
    times["write"] += clock() - t0
    finished = clock()
    print(
        json.dumps(
            {
                "posts": read,
                "rows": writer.rows,
                "imports": imported - started,
                "model_load": loaded - imported,
                "stages": times,
                "scoring": finished - loaded,
                "in_process": finished - started,
                "table_mode": "score_table with the model part precomputed",
            }
        )
    )


# -------------------------------------------------------------------------- profile


def profile(cmd_env: dict[str, str], source: Path, out: Path, work: Path) -> dict[str, Any]:
    import pstats

    prof = work / "score.prof"
    profiler = [PYTHON, "-m", "cProfile", "-o", str(prof)]
    cmd = [*pinned(), *profiler, SWARMLENS, "score", str(source), "--out", str(out)]
    wall, _ = run(cmd, cmd_env)
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in sorted(
        entries, key=lambda item: -item[1][2]
    )[:10]:
        where = f"{Path(file).name}:{line}" if line else file
        rows.append(
            {
                "function": f"{name} ({where})",
                "ncalls": ncalls,
                "tottime": round(tottime, 3),
                "share": round(tottime / total, 4),
                "cumtime": round(cumtime, 3),
            }
        )
    return {
        "command": shlex.join(cmd),
        "wall_seconds": round(wall, 3),
        "profiled_seconds": round(total, 3),
        "top": rows,
    }


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="posts in the benchmark file")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side")
    parser.add_argument("--no-lang", action="store_true", help="drop `lang`: detection runs")
    parser.add_argument("--profile", action="store_true", help="cProfile one swarmlens run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--split-worker", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.split_worker:
        split_worker(*args.split_worker)
        return

    from swarmlens.classifier.demo.generator import DEMO_SEED

    command = (
        "cd "
        + shlex.quote(str(ROOT))
        + " && "
        + shlex.join([os.path.relpath(PYTHON, ROOT), "bench/throughput.py", *sys.argv[1:]])
    )
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="swarmlens-throughput-"))
    env = {**os.environ, **ONE_THREAD, "SWARMLENS_MODELS_DIR": str(work / "models")}
    try:
        say(f"setup in {work}: fastText model, swarmlens registry, {args.n:,}-post input ...")
        ft_model, seen = train_fasttext(work)
        run(
            [
                PYTHON,
                "-c",
                "from swarmlens.classifier.model.training import "
                "ensure_default_model; ensure_default_model()",
            ],
            env,
        )
        source, small = work / "posts.jsonl", work / "warm.jsonl"
        write_input(source, args.n, DEMO_SEED + 1, args.no_lang, seen)
        write_input(small, 500, DEMO_SEED + 2, args.no_lang, seen)
        ft_script = work / "fasttext_score.py"
        ft_script.write_text(FASTTEXT_SCRIPT)

        def sw_cmd(src: Path, out: Path) -> list[str]:
            return [*pinned(), SWARMLENS, "score", str(src), "--out", str(out)]

        def ft_cmd(src: Path, out: Path) -> list[str]:
            return [*pinned(), PYTHON, str(ft_script), str(src), str(ft_model), str(out)]

        # Untimed warm-up, both sides: numba's cache of the kernels (compiled here only if
        # scripts/install.sh did not warm it for this code), the page cache.
        warm = run(sw_cmd(small, work / "warm-sw.jsonl"), env)[0]
        kernels = run([PYTHON, "-c", "import numba; from swarmlens.classifier import kernels; "
                       "print(f'numba {numba.__version__} JIT, cached in "
                       "{numba.config.CACHE_DIR}')"], env, capture=True)[1].strip()
        kernels += f"; untimed warm-up run on 500 posts: {warm:.1f} s"
        run(ft_cmd(small, work / "warm-ft.jsonl"), env)
        sw_out, ft_out = work / "out-swarmlens.jsonl", work / "out-fasttext.jsonl"
        times: dict[str, list[float]] = {"swarmlens": [], "fasttext": []}
        cpu: dict[str, list[float]] = {"swarmlens": [], "fasttext": []}
        for repeat in range(args.repeats):  # interleaved: both sides see the same load
            say(f"repeat {repeat + 1}/{args.repeats} ...")
            for side, cmd in (("swarmlens", sw_cmd(source, sw_out)),
                              ("fasttext", ft_cmd(source, ft_out))):
                times[side].append(run(cmd, env)[0])
                cpu[side].append(CPU_SECONDS[-1])
        say("time split (in-process) ...")
        split_cmd = [
            *pinned(),
            PYTHON,
            str(Path(__file__).resolve()),
            "--split-worker",
            str(source),
            str(work / "out-split.jsonl"),
        ]
        split_wall, split_out = run(split_cmd, env, capture=True)
        split = json.loads(split_out.strip().splitlines()[-1])
        split["wall"] = split_wall
        prof = None
        if args.profile:
            say("profiling one swarmlens run ...")
            prof = profile(env, source, work / "out-profile.jsonl", work)
        result = {
            "command": command,
            "posts": args.n,
            "input": "demo generator (seed DEMO_SEED+1), one new 8-12 letter token per post"
            + (", no `lang` (detected)" if args.no_lang else ", `lang` given"),
            "machine": {
                "cpus": os.cpu_count(),
                "pinned": bool(pinned()),
                "cpu": _cpu_model(),
                "python": platform.python_version(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            },
            "swarmlens": {
                "command": shlex.join(sw_cmd(source, sw_out)),
                "kernels": kernels,
                "env": {**ONE_THREAD, "SWARMLENS_MODELS_DIR": str(work / "models")},
                "rows_out": count_lines(sw_out),
                **rates(args.n, times["swarmlens"], cpu["swarmlens"]),
            },
            "fasttext": {
                "command": shlex.join(ft_cmd(source, ft_out)),
                "params": FASTTEXT_PARAMS,
                "model_mb": round(ft_model.stat().st_size / 2**20, 1),
                "rows_out": count_lines(ft_out),
                **rates(args.n, times["fasttext"], cpu["fasttext"]),
            },
            "split": {"command": shlex.join(split_cmd), **_round(split)},
            "profile": prof,
        }
        sw, ft = result["swarmlens"], result["fasttext"]
        ratio = sw["posts_per_s_median"] / ft["posts_per_s_median"]
        result["ratio"] = {
            "median": round(ratio, 3),
            "min": round(sw["posts_per_s_min"] / ft["posts_per_s_min"], 3),
            # the least disturbed run of each side, and CPU time instead of wall time
            "best": round(sw["posts_per_s_max"] / ft["posts_per_s_max"], 3),
            "cpu_median": round(statistics.median(cpu["fasttext"])
                                / statistics.median(cpu["swarmlens"]), 3),
            "target": TARGET,
            "target_met": ratio >= TARGET,
        }
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        report(result, args.results)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def report(r: dict[str, Any], results: Path) -> None:
    m, sw, ft, ratio, split = r["machine"], r["swarmlens"], r["fasttext"], r["ratio"], r["split"]
    print(
        f"\nScoring throughput, whole processes, {r['posts']:,} posts, "
        f"{'one core (taskset -c 0)' if m['pinned'] else 'NOT pinned (no taskset)'}"
    )
    print(f"input: {r['input']}")
    print(
        f"machine: {m['cpus']} cpus, {m['cpu']}, Python {m['python']}; load average "
        f"before {m['load_average_before']}, after {m['load_average_after']}"
    )
    print(f"swarmlens kernels: {sw.get('kernels', '?')}")
    print(f"\n{'run':28} {'posts/s min':>12} {'median':>10} {'max':>10}  seconds per run"
          " (CPU seconds)")
    for name, side in (("swarmlens score", sw), ("fastText (python, k=-1)", ft)):
        print(
            f"{name:28} {side['posts_per_s_min']:>12,.0f} {side['posts_per_s_median']:>10,.0f} "
            f"{side['posts_per_s_max']:>10,.0f}  {side['seconds']} ({side['cpu_seconds']})  "
            f"({side['rows_out']:,} rows)"
        )
    print(
        f"\nswarmlens / fastText (median posts/s): {ratio['median']:.2f}x "
        f"(slowest runs: {ratio['min']:.2f}x, fastest runs: {ratio['best']:.2f}x, "
        f"median CPU time: {ratio['cpu_median']:.2f}x); target >= {ratio['target']:.0f}x: "
        f"{'MET' if ratio['target_met'] else 'MISSED'}"
    )
    print(f"fastText model: {ft['model_mb']} MB, {ft['params']}")

    total = split["wall"]
    print(
        f"\nTime split, swarmlens path in one process ({split['posts']:,} posts; "
        f"wall {total:.2f} s = {split['posts'] / total:,.0f} posts/s):"
    )
    lines = [
        ("interpreter start/exit + other (wall - in-process)", total - split["in_process"]),
        ("imports", split["imports"]),
        ("model load (registry.load)", split["model_load"]),
    ]
    lines += [(STAGE_NAMES[s], split["stages"][s]) for s in STAGES]
    for name, seconds in lines:
        per_post = 1e6 * seconds / max(split["posts"], 1)
        print(
            f"  {name:52} {seconds:>7.2f} s {100 * seconds / total:>5.1f}%  "
            f"{per_post:>6.1f} us/post"
        )
    print(f"  (table: {split['table_mode']})")
    if r["profile"]:
        p = r["profile"]
        print(
            f"\ncProfile of one swarmlens run (wall {p['wall_seconds']:.2f} s under the "
            f"profiler, {p['profiled_seconds']:.2f} s profiled), top 10 by own time:"
        )
        print(f"  {'share':>6} {'own s':>7} {'cum s':>7} {'calls':>9}  function")
        for row in p["top"]:
            print(
                f"  {100 * row['share']:>5.1f}% {row['tottime']:>7.2f} {row['cumtime']:>7.2f} "
                f"{row['ncalls']:>9}  {row['function']}"
            )
        print(f"  profile command: {p['command']}")
    print("\ntimed commands (env: " + " ".join(f"{k}={v}" for k, v in sw["env"].items()) + "):")
    print(f"  swarmlens: {sw['command']}")
    print(f"  fastText:  {ft['command']}")
    print(f"  split:     {split['command']}")
    print(f"\ncommand: {r['command']}")
    print(f"results: {results}")


if __name__ == "__main__":
    main()
