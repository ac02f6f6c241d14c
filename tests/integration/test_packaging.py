"""A non-editable install: one top-level import (``swarmlens``), no tests, and ``swarmlens
demo`` run from an empty directory writes nothing into site-packages or the working
directory outside its own output."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return next(out.glob("swarmlens-*.whl"))


def test_the_only_top_level_import_is_swarmlens(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"swarmlens"}
    assert "swarmlens/__init__.py" not in names  # a PEP 420 namespace
    for expected in (
        "swarmlens/classifier/cli/main.py",
        "swarmlens/serve/app.py",
        "swarmlens/annotation/workflow.py",
        "swarmlens/serve/static/index.html",
        "swarmlens/serve/static/uplot.min.js",
        "swarmlens/classifier/demo/banks/hashtags.json",
    ):
        assert expected in names, expected
    assert not any(n.startswith(("tests/", "swarmlens/tests", "models/")) for n in names)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_demo_from_an_empty_directory_writes_only_its_output(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # The dependencies come from the project's environment, without its editable finder
    # (a plain path entry does not run the .pth files there).
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    before = _tree(site)
    work = tmp_path / "empty"
    work.mkdir()
    home = tmp_path / "home"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [str(python), "-m", "swarmlens.classifier.cli", "demo", "--dir", "out", "--top", "3"],
        cwd=work, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "default model" in result.stderr and "#" in result.stdout
    located = subprocess.run(
        [str(python), "-c", "import swarmlens.classifier as c; print(c.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert located.startswith(str(site)), located
    after = {p for p in _tree(site) - before if "__pycache__" not in p}
    assert not after, f"written into site-packages: {sorted(after)[:10]}"
    assert {p.split("/")[0] for p in _tree(work)} == {"out"}
    assert (home / "data" / "swarmlens" / "models" / "manifest.json").is_file()
