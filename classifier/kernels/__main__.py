"""``python -m swarmlens.classifier.kernels build [--force]``: build the AOT kernels.

``scripts/install.sh`` runs it. Exit status 0 when the build exists afterwards, or when
it cannot be made (the JIT then runs the kernels: slower start, same results); the
reason is printed either way.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m swarmlens.classifier.kernels",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--force", action="store_true", help="rebuild even when current")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from swarmlens.classifier.kernels.aot import BuildError, build_here

    started = time.perf_counter()
    try:
        folder, exports, built = build_here(force=args.force)
    except (BuildError, OSError) as error:  # no compiler, an unwritable cache...
        if args.json:
            print(json.dumps({"error": str(error)}))
        print(f"AOT kernels not built ({error}); numba's JIT will run them.", file=sys.stderr)
        return 0
    if args.json:
        print(json.dumps({"folder": str(folder), "exports": exports, "built": built}))
        return 0
    verb = "built" if built else "already built"
    print(f"AOT kernels {verb}: {exports} exports in {folder} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
