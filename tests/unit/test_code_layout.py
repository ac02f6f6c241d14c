"""The layout rules of the code base, checked: one vocabulary, small modules, one-way imports."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import duckdb
import pyarrow as pa

from swarmlens.classifier.vocab import LABEL_COLOURS, LABELS, OUTPUT_SCHEMA, Label, duckdb_columns
from tests.support import ROOT

SOURCE_DIRS = ("classifier", "serve", "annotation")


def source_files(*suffixes: str) -> list[Path]:
    return sorted(
        path
        for folder in SOURCE_DIRS
        for path in (ROOT / folder).rglob("*")
        if path.suffix in suffixes and "vendor" not in path.parts and ".min." not in path.name
    )


def test_no_source_module_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in source_files(".py", ".js")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert not long, f"split these modules: {long}"


def test_labels_are_spelled_in_at_most_two_source_files() -> None:
    spelled = set()
    for path in source_files(".py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in LABELS:
                spelled.add(str(path.relative_to(ROOT)))
    for path in source_files(".js", ".html", ".css"):
        text = path.read_text(encoding="utf-8")
        if any(f'"{x}"' in text or f"'{x}'" in text for x in LABELS):
            spelled.add(str(path.relative_to(ROOT)))
    assert len(spelled) <= 2, spelled


def test_the_core_never_imports_serve_or_annotation() -> None:
    for path in (ROOT / "classifier").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import) else
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )
            for name in names:
                assert not name.startswith(("swarmlens.serve", "swarmlens.annotation")), path


def test_routers_never_import_each_other() -> None:
    for path in (ROOT / "serve" / "routers").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "swarmlens.serve.routers" not in source, path


def test_vocabulary() -> None:
    assert LABELS == ("supportive", "opposing", "neutral")
    assert [str(x) for x in Label] == list(LABELS)
    assert set(LABEL_COLOURS) == set(Label)
    assert all(x.colour.startswith("#") and len(x.colour) == 7 for x in Label)


def test_the_store_table_is_the_output_schema() -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE posts ({duckdb_columns(OUTPUT_SCHEMA, primary_key='post_id')})")
    empty = con.sql("SELECT * FROM posts").to_arrow_table()
    assert empty.schema.names == OUTPUT_SCHEMA.names
    assert empty.schema.field("scores").type == OUTPUT_SCHEMA.field("scores").type
    assert empty.schema.field("hashtags").type.value_type == pa.string()


def is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ModuleNotFoundError, ValueError):  # the parent is a module, not a package
        return False


def private_names_read_across_modules(path: Path) -> list[str]:
    """``from swarmlens.x import _name`` and ``module._name`` (``module`` a swarmlens
    module imported by ``path``): private names read from another module."""

    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.asname for a in node.names
                           if a.asname and a.name.startswith("swarmlens."))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("swarmlens"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{node.module}.{alias.name}")
                elif is_module(f"{node.module}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_module_reads_another_modules_private_names(tmp_path: Path) -> None:
    # The checker finds both forms (so this test can fail) ...
    sample = tmp_path / "sample.py"
    sample.write_text("from swarmlens.classifier.text import entities\n"
                      "from swarmlens.classifier.vocab import _x\n"
                      "entities._chunk('a')\n", encoding="utf-8")
    assert private_names_read_across_modules(sample) == [
        "swarmlens.classifier.vocab._x", "entities._chunk"]
    # ... and the package has neither.
    found = {str(p.relative_to(ROOT)): names for p in source_files(".py")
             if (names := private_names_read_across_modules(p))}
    assert not found, found
