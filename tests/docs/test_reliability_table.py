"""docs/reliability.md cites exactly the tests in tests/reliability, and its counts add up.

A test added without a row, a row naming a test that was renamed or removed, or a count left
stale fails here, so the page a user reads to trust mlrpy stays true.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reliability.md"
SUITE = ROOT / "tests" / "reliability"
CITED = re.compile(r"`(tests/reliability/test_\w+\.py)::(\w+)`")
COUNT = re.compile(r"^- (.+): (\d+) tests?\b", re.MULTILINE)


def _suite_tests() -> set[str]:
    """``path::name`` of every module-level test function in tests/reliability."""
    found = set()
    for file in sorted(SUITE.glob("test_*.py")):
        for node in ast.parse(file.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                found.add(f"{file.relative_to(ROOT).as_posix()}::{node.name}")
    return found


def _cited() -> list[str]:
    return [f"{path}::{name}" for path, name in CITED.findall(PAGE.read_text())]


def _sections() -> dict[str, list[str]]:
    """The cited tests under each ``## `` heading of the page."""
    sections: dict[str, list[str]] = {}
    heading = None
    for line in PAGE.read_text().splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            sections[heading] = []
        elif heading is not None:
            sections[heading] += [f"{p}::{n}" for p, n in CITED.findall(line)]
    return sections


def test_the_suite_is_found():
    assert len(_suite_tests()) > 100


def test_every_cited_test_exists():
    missing = sorted(set(_cited()) - _suite_tests())
    assert not missing, f"docs/reliability.md cites tests that do not exist: {missing}"


def test_every_reliability_test_has_a_row():
    absent = sorted(_suite_tests() - set(_cited()))
    assert not absent, f"tests missing from docs/reliability.md: {absent}"


def test_every_test_has_exactly_one_row():
    cited = _cited()
    assert len(cited) == len(set(cited)), sorted({c for c in cited if cited.count(c) > 1})


def test_the_counts_match_the_tables():
    counted = {name: int(n) for name, n in COUNT.findall(PAGE.read_text())}
    tables = {heading: len(rows) for heading, rows in _sections().items() if rows}
    assert len(counted) == len(tables)
    for (name, n), (heading, rows) in zip(counted.items(), tables.items(), strict=True):
        assert heading.startswith(name), (name, heading)
        assert n == rows, f"{heading}: the count says {n}, the table has {rows} rows"
