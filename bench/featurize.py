"""Speed of the hashed n-gram featurizer (numba kernel) against scikit-learn, one core.

    NUMBA_NUM_THREADS=1 python bench/featurize.py [--n 200000] [--repeat 3]

Builds N demo posts (``generate_demo``), appends one never-seen 8-letter word to each
(real archives have a long tail), then times ``featurize`` with the default spec
(char (1,5) + word (1,2)) on one pinned core, and scikit-learn's char (1,5) + word
HashingVectorizers on the same texts. Also reports first-call times (compile or cache
load) with a cold and a warm numba cache, each in a fresh process. Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

_FIRST_CALL = """
import time
t0 = time.perf_counter()
from swarmlens.classifier.model.hashing import featurize, code_point_tables
t1 = time.perf_counter()
code_point_tables()
t2 = time.perf_counter()
featurize(["warm up #تجربة 🔥"])
t3 = time.perf_counter()
print(f"{t1 - t0:.2f} {t2 - t1:.2f} {t3 - t2:.2f}")
"""


def first_call_times() -> tuple[str, str]:
    """(cold, warm) 'import tables first-call' seconds, each in a fresh process."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        run = [sys.executable, "-c", _FIRST_CALL]
        cold = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout
        warm = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout
    return cold.strip(), warm.strip()


def posts(n: int) -> list[str]:
    """n demo texts, each with one fresh random lowercase 8-letter word appended."""
    from swarmlens.classifier.demo.generator import generate_demo

    rng = random.Random(7)
    letters = string.ascii_lowercase
    return [r["text"] + " " + "".join(rng.choices(letters, k=8)) for r in generate_demo(n)]


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-sklearn", action="store_true")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print("command:", " ".join(["NUMBA_NUM_THREADS=1", "python", *sys.argv]))

    cold, warm = first_call_times()
    print(f"first call, fresh process (import / tables / first featurize, s): "
          f"cold cache {cold}; warm cache {warm}")

    import pyarrow as pa

    from swarmlens.classifier.kernels import arrow_buffers
    from swarmlens.classifier.model.hashing import (
        HashingSpec,
        _kernel,
        code_point_tables,
        featurize,
    )

    texts = posts(args.n)
    array = pa.array(texts, type=pa.string())
    mb = array.buffers()[2].size / 1e6
    chars = sum(map(len, texts)) / len(texts)
    print(f"{len(texts)} posts, {mb:.1f} MB UTF-8, {chars:.0f} code points/post on average")
    spec = HashingSpec()
    featurize(array[:10], spec)  # compile / load from cache

    offsets, data, valid = arrow_buffers(array)
    tabs = code_point_tables()
    char_cfg = (1, 5, 0, False)
    word_cfg = (1, 2, True)
    cap = int(offsets[-1] * 4.3) + 1024
    kernel = best(lambda: _kernel(offsets, data, valid, tabs, char_cfg, word_cfg, 2**20, cap),
                  args.repeat)
    whole = best(lambda: featurize(array, spec), args.repeat)
    matrix = featurize(array, spec)
    print(f"kernel alone : {kernel:.3f} s = {len(texts) / kernel:,.0f} posts/s, "
          f"{mb / kernel:.1f} MB/s")
    print(f"featurize()  : {whole:.3f} s = {len(texts) / whole:,.0f} posts/s "
          f"(nnz {matrix.nnz:,}, {matrix.nnz / len(texts):.0f}/post)")

    if not args.skip_sklearn:
        from sklearn.feature_extraction.text import HashingVectorizer

        chars_hv = HashingVectorizer(analyzer="char", ngram_range=(1, 5), alternate_sign=False,
                                     n_features=2**20, lowercase=False)
        words_hv = HashingVectorizer(analyzer="word", ngram_range=(1, 2), alternate_sign=False,
                                     n_features=2**20)
        t = time.perf_counter()
        chars_hv.transform(texts) + words_hv.transform(texts)
        sk = time.perf_counter() - t
        print(f"sklearn      : {sk:.3f} s = {len(texts) / sk:,.0f} posts/s "
              f"({sk / kernel:.0f}x the kernel, {sk / whole:.0f}x featurize())")


if __name__ == "__main__":
    main()
