"""End-to-end archive scoring: posts/s and peak RSS, processes vs Dask, and kill -9 resume.

    python bench/archive.py [--n 1000000] [--workers 2] [--repeats 1]
    python bench/archive.py --kill 5 [--n 1000000]

Generates an N-post gzip JSONL archive with the demo generator (cached in the temp
directory), scores it with `swarmlens score ... --out DIR --workers W` as a real
process, samples the RSS of the whole process tree, then does the same run with
`--scheduler local` (a dask.distributed LocalCluster). With --kill N, it instead
kills the job with SIGKILL at N random moments, resumes it each time, and compares
the final dataset with an uninterrupted run: rows lost / duplicated / differing.
Figures are printed, never asserted.
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
    while process.poll() is None:
        driver, total = tree_rss(watched)
        peak_driver, peak_total = max(peak_driver, driver), max(peak_total, total)
        try:
            for child in watched.children(recursive=True):
                peak_worker = max(peak_worker, child.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    summary = json.loads(process.stdout.read())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the tree: workers are waited for
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
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
    args = parser.parse_args()

    # The current default model, built fresh in a registry of the bench's own (a user's
    # registry may hold a model from an older swarmlens, which would be measured instead);
    # the child processes inherit the variable.
    models = Path(tempfile.mkdtemp(prefix="swarmlens-archive-models-"))
    os.environ["SWARMLENS_MODELS_DIR"] = str(models)
    from swarmlens.classifier.model.training import ensure_default_model

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
    archive = archive_path(args.n)
    size_mb = archive.stat().st_size / 1e6
    work = Path(tempfile.mkdtemp(prefix="swarmlens-archive-bench-"))
    mb = 1024 * 1024
    try:
        if not args.kill:
            print(
                f"\narchive: {args.n:,} posts, {size_mb:,.0f} MB gzip JSONL; workers={args.workers}"
                f"; kernels: {described}"
            )
            print(
                f"{'run':28} {'posts/s':>9} {'seconds':>8} {'CPU s':>7} {'CPU us/post':>12} "
                f"{'driver MiB':>11} {'worker MiB':>11} {'tree MiB':>9}"
            )
            for repeat in range(args.repeats):
                for name, scheduler in (("processes", None), ("dask LocalCluster", "local")):
                    out = work / f"{name.replace(' ', '-')}-{repeat}"
                    result = timed_run(archive, out, args.workers, scheduler)
                    shutil.rmtree(out, ignore_errors=True)
                    rate = result["posts"] / result["seconds"]
                    cpu = result["cpu_seconds"]
                    print(
                        f"{name:28} {rate:>9,.0f} {result['seconds']:>8.1f} {cpu:>7.1f} "
                        f"{1e6 * cpu / max(result['posts'], 1):>12.1f} "
                        f"{result['peak_driver'] / mb:>11,.0f} {result['peak_worker'] / mb:>11,.0f} "
                        f"{result['peak_total'] / mb:>9,.0f}",
                        flush=True,
                    )
            print(
                "(wall time of the whole command: process start-up, model load, reading, "
                "scoring, writing, dedup pass and summary; CPU: user + system seconds of the "
                "whole process tree, which a shared machine's neighbours disturb less)"
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
    extra = f" --kill {args.kill}" if args.kill else ""
    extra += f" --repeats {args.repeats}" if args.repeats != 1 else ""
    print(f"command: python bench/archive.py --n {args.n} --workers {args.workers}{extra}")


if __name__ == "__main__":
    main()
