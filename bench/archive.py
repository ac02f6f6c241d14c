"""End-to-end archive scoring: posts/s, CPU and peak RSS, local threads vs Dask, kill -9 resume.

    python bench/archive.py [--n 1000000] [--workers 2] [--repeats 1]
    python bench/archive.py --real ../shared/data/dev.jsonl [--n 300000] [--malformed 0 0.01] [--no-lang]
    python bench/archive.py --kill 5 [--n 1000000]

Default: an N-post gzip JSONL archive from the demo generator (cached in the temp
directory), scored by the default model (trained on synthetic demo data).

``--real FILE`` (labelled JSON lines, e.g. ../shared/data/dev.jsonl): the archive a user
has. Each post is a real text of FILE (with its `lang`, as a Twitter archive has) plus one
of its hashtags and a token never seen before (so no two texts are equal), 2% of the posts repeat an earlier post id (overlapping
crawls), and a share of lines (``--malformed``, one run per value: 0 and 1% by default)
are broken JSON (``{not json``); the model is trained on FILE's real labels
(``swarmlens train``), untimed. ``--no-lang`` leaves `lang` out of every post, as Telegram
and VK exports carry none: every post's language is then detected.

Each run is ``swarmlens score ... --out DIR --workers W`` as a real process, then the same
with ``--scheduler local`` (a dask.distributed LocalCluster of worker processes). The
RSS of the whole process tree is sampled (a sum over processes: pages shared between
processes count once per process), and the CPU seconds of each process are printed
beside the wall time. With --kill N, it instead kills the job with SIGKILL at N random
moments, resumes it each time, and compares the final dataset with an uninterrupted run:
rows lost / duplicated / differing. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def archive_path(n: int) -> Path:
    from swarmlens.classifier.demo.generator import DEMO_SEED, write_demo_jsonl

    path = Path(tempfile.gettempdir()) / f"swarmlens-bench-archive-{n}.jsonl.gz"
    if not path.exists():
        print(f"generating {n:,} demo posts into {path} ...", flush=True)
        write_demo_jsonl(path, n_posts=n, seed=DEMO_SEED + 2)
    return path


def real_archive_path(
    source: Path, n: int, malformed: float, seed: int = 7, with_lang: bool = True
) -> Path:
    """A gzip JSONL archive of ``n`` posts built from the real texts of ``source`` (cached);
    ``with_lang=False``: no post says its language."""
    import gzip
    import hashlib
    import re
    import string

    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:10]
    path = Path(tempfile.gettempdir()) / (
        f"swarmlens-bench-real2-{digest}-{n}-{malformed:g}{'' if with_lang else '-nolang'}.jsonl.gz"
    )
    if path.exists():
        return path
    print(f"building {n:,} posts from the texts of {source} into {path} ...", flush=True)
    records = [json.loads(line) for line in source.open(encoding="utf-8") if line.strip()]
    # (text, the source's language tag): a Twitter archive carries each tweet's `lang`
    texts = [(r["text"], r.get("lang")) for r in records]
    tags = sorted({t for text, _ in texts for t in re.findall(r"#\w+", text)}) or ["#isis"]
    rng = random.Random(seed)
    seen: set[str] = set()
    partial = path.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8", compresslevel=6) as out:
        for i in range(n):
            if rng.random() < malformed:
                out.write("{not json\n")
                continue
            while (token := "".join(rng.choices(string.ascii_lowercase, k=10))) in seen:
                pass
            seen.add(token)
            post_id = f"p{rng.randrange(i)}" if i and rng.random() < 0.02 else f"p{i}"
            text, lang = rng.choice(texts)
            record = {
                "id": post_id,
                "text": f"{text} {rng.choice(tags)} {token}",
                **({"lang": lang} if with_lang else {}),
                "author": f"a{rng.randrange(max(1, n // 20))}",
                "created_at": f"2015-11-{14 + i * 7 // n:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    partial.rename(path)
    return path


def train_real_model(source: Path, models: Path) -> None:
    """Train and register a model on the real labels of ``source`` (untimed)."""
    subprocess.run(
        [
            sys.executable, "-m", "swarmlens.classifier.cli", "train", "--data", str(source),
            "--out", str(models / "real.safetensors"), "--register",
        ],
        check=True,
        capture_output=True,
    )


def command(archive: Path, out: Path, workers: int, scheduler: str | None) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "swarmlens.classifier.cli",
        "score",
        str(archive),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--json",
    ]
    return cmd + (["--scheduler", scheduler] if scheduler else [])


def tree_rss(process: psutil.Process) -> tuple[int, int]:
    """(RSS of the driver, RSS of the driver and all its descendants) in bytes."""
    try:
        driver = process.memory_info().rss
        total = driver + sum(child.memory_info().rss for child in process.children(recursive=True))
    except psutil.Error:
        return 0, 0
    return driver, total


def timed_run(archive: Path, out: Path, workers: int, scheduler: str | None) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command(archive, out, workers, scheduler),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    watched = psutil.Process(process.pid)
    peak_driver = peak_total = peak_worker = 0
    child_cpu: dict[int, float] = {}  # last CPU seconds sampled of each descendant
    while True:
        driver, total = tree_rss(watched)
        peak_driver, peak_total = max(peak_driver, driver), max(peak_total, total)
        try:
            for child in watched.children(recursive=True):
                peak_worker = max(peak_worker, child.memory_info().rss)
                times = child.cpu_times()
                child_cpu[child.pid] = times.user + times.system
        except psutil.Error:
            pass
        # Sampled every 0.2 s, but the end is taken when the process ends (Popen.wait
        # polls every few ms): a sleep here added up to 0.2 s to each run's wall time.
        try:
            process.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            pass
    seconds = time.perf_counter() - started
    summary = json.loads(process.stdout.read())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the tree: workers are waited for
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        # the driver's CPU: the tree's minus what its descendants were last seen using
        "cpu_driver": max(0.0, cpu - sum(child_cpu.values())),
        "cpu_children": sorted(child_cpu.values(), reverse=True),
        "posts": summary["read"],
        "peak_driver": peak_driver,
        "peak_worker": peak_worker,
        "peak_total": peak_total,
        "summary": summary,
    }


def compare(reference: Path, candidate: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect()
    ref = f"read_parquet('{reference}/day=*/*.parquet')"
    got = f"read_parquet('{candidate}/day=*/*.parquet')"
    cols = "post_id, label, scores, model_version, created_at, hashtags"
    lost = con.execute(
        f"SELECT count(*) FROM (SELECT post_id FROM {ref} EXCEPT SELECT post_id FROM {got})"
    ).fetchone()[0]
    dup = con.execute(
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) n FROM {got} GROUP BY post_id HAVING n > 1)"
    ).fetchone()[0]
    extra = con.execute(
        f"SELECT count(*) FROM (SELECT {cols} FROM {got} EXCEPT ALL SELECT {cols} FROM {ref})"
    ).fetchone()[0]
    return {"lost": int(lost), "duplicated": int(dup), "differing": int(extra)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill", type=int, default=0, help="kill -9 the job N times, resume")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each scheduler")
    parser.add_argument("--real", type=Path, help="labelled JSON lines: real texts and labels")
    parser.add_argument(
        "--malformed", type=float, nargs="+", default=[0.0, 0.01],
        help="with --real: shares of broken lines, one run each",
    )
    parser.add_argument(
        "--no-lang", action="store_true",
        help="with --real: posts without `lang` (Telegram, VK): every language detected",
    )
    parser.add_argument("--results", type=Path,
                        help="JSON results file (default bench/results/archive[-real[-nolang]].json)")
    args = parser.parse_args()
    if args.real and not args.real.exists():
        sys.exit(f"--real {args.real}: no such file (../shared/ is not in a user's clone)")

    # The current default model, built fresh in a registry of the bench's own (a user's
    # registry may hold a model from an older swarmlens, which would be measured instead);
    # the child processes inherit the variable.
    models = Path(tempfile.mkdtemp(prefix="swarmlens-archive-models-"))
    os.environ["SWARMLENS_MODELS_DIR"] = str(models)
    from swarmlens.classifier.model.training import ensure_default_model

    if args.real:
        train_real_model(args.real, models)
    else:
        ensure_default_model()
    # numba's cache of the kernels, warmed as scripts/install.sh warms it (untimed; the
    # kernels compile here only if it is cold for this code).
    import numba

    from swarmlens.classifier import kernels  # noqa: F401  (sets numba's cache folder)

    warm = Path(tempfile.mkdtemp(prefix="swarmlens-archive-warm-"))
    subprocess.run(command(archive_path(200), warm / "out", 1, None), check=True,
                   capture_output=True)
    shutil.rmtree(warm, ignore_errors=True)
    described = f"numba {numba.__version__} JIT, cached in {numba.config.CACHE_DIR}"
    if args.real:
        archives = [
            (
                f"real{', no lang' if args.no_lang else ''}, {share:.0%} malformed",
                real_archive_path(args.real, args.n, share, with_lang=not args.no_lang),
            )
            for share in args.malformed
        ]
        model_note = f"model trained on the real labels of {args.real}"
    else:
        archives = [("demo posts", archive_path(args.n))]
        model_note = "default model (trained on synthetic demo data)"
    archive = archives[0][1]
    work = Path(tempfile.mkdtemp(prefix="swarmlens-archive-bench-"))
    runs: list[dict] = []
    mb = 1024 * 1024
    try:
        if not args.kill:
            print(
                f"\narchive: {args.n:,} posts per run; workers={args.workers}; {model_note}"
                f"; kernels: {described}"
            )
            print(
                f"{'run':42} {'posts/s':>9} {'seconds':>8} {'CPU s':>7} {'CPU us/post':>12} "
                f"{'driver MiB':>11} {'worker MiB':>11} {'tree MiB':>9}  CPU s per process"
            )
            for repeat in range(args.repeats):
                for label, path in archives:
                    for mode, scheduler in (("threads", None), ("dask LocalCluster", "local")):
                        name = f"{label}, {mode}"
                        out = work / f"run-{repeat}-{len(name)}-{mode.replace(' ', '-')}"
                        result = timed_run(path, out, args.workers, scheduler)
                        shutil.rmtree(out, ignore_errors=True)
                        rate = result["posts"] / result["seconds"]
                        cpu = result["cpu_seconds"]
                        per_process = " ".join(
                            f"{c:.1f}" for c in [result["cpu_driver"], *result["cpu_children"]]
                            if c >= 0.05
                        )
                        runs.append({
                            "run": name, "posts_per_s": round(rate), "posts": result["posts"],
                            "seconds": round(result["seconds"], 2), "cpu_seconds": round(cpu, 2),
                            "cpu_us_per_post": round(1e6 * cpu / max(result["posts"], 1), 1),
                            "peak_driver_mib": round(result["peak_driver"] / mb),
                            "peak_worker_mib": round(result["peak_worker"] / mb),
                            "peak_tree_mib": round(result["peak_total"] / mb),
                        })
                        print(
                            f"{name:42} {rate:>9,.0f} {result['seconds']:>8.1f} {cpu:>7.1f} "
                            f"{1e6 * cpu / max(result['posts'], 1):>12.1f} "
                            f"{result['peak_driver'] / mb:>11,.0f} "
                            f"{result['peak_worker'] / mb:>11,.0f} "
                            f"{result['peak_total'] / mb:>9,.0f}  {per_process}",
                            flush=True,
                        )
            print(
                "(wall time of the whole command: process start-up, model load, reading, "
                "scoring, writing, dedup pass and summary; CPU: user + system seconds of the "
                "whole process tree, which a shared machine's neighbours disturb less; per "
                "process: the command's own process first, then its descendants; posts: lines "
                "read, malformed ones included)"
            )
        else:
            reference = work / "reference"
            first = timed_run(archive, reference, args.workers, None)
            duration = first["seconds"]
            target = work / "killed"
            rng = random.Random(args.seed)
            kills = 0
            for _ in range(args.kill):
                process = subprocess.Popen(
                    command(archive, target, args.workers, None),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                # Each attempt resumes what is left, so kill early enough to catch it working.
                time.sleep(rng.uniform(1.0, max(2.0, duration / args.kill)))
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    kills += 1
                process.wait()
            final = subprocess.run(
                command(archive, target, args.workers, None),
                capture_output=True,
                text=True,
                check=True,
            )
            diff = compare(reference, target)
            print(
                f"\n{kills} SIGKILLs (of {args.kill} attempts) on a {args.n:,}-post job, resumed each time"
            )
            print(
                f"rows lost: {diff['lost']}, rows duplicated: {diff['duplicated']}, "
                f"rows differing from the uninterrupted run: {diff['differing']}"
            )
            print(f"final summary: {json.loads(final.stdout)['scored']:,} scored")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(models, ignore_errors=True)
    extra = f" --real {args.real} --malformed {' '.join(f'{m:g}' for m in args.malformed)}" \
        if args.real else ""
    extra += " --no-lang" if args.no_lang else ""
    extra += f" --kill {args.kill}" if args.kill else ""
    extra += f" --repeats {args.repeats}" if args.repeats != 1 else ""
    command_line = f"python bench/archive.py --n {args.n} --workers {args.workers}{extra}"
    print(f"command: {command_line}")
    if runs:
        name = "archive" + ("-real" if args.real else "") + ("-nolang" if args.no_lang else "")
        results = args.results or ROOT / "bench" / "results" / f"{name}.json"
        results.write_text(json.dumps({
            "command": command_line, "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": {"cpus": os.cpu_count(), "load_average_after": os.getloadavg()},
            "model": model_note, "kernels": described, "workers": args.workers, "runs": runs,
            "note": "wall time of the whole command; CPU: user + system of the process tree; "
                    "posts: lines read, malformed ones included. Never asserted by tests.",
        }, indent=2) + "\n")
        print(f"results: {results}")


if __name__ == "__main__":
    main()
