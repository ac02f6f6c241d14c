"""The layout rules of the code base, checked: one vocabulary, small modules, one-way imports."""

from __future__ import annotations

import ast
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
