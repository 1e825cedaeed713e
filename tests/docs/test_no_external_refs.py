"""The repository explains itself: no pointers to documents, issue numbers or machines outside it.

Text that says "see DESIGN section 3" or "(issue 6)" means nothing to someone reading the code
without that outside context, and remarks on which machines happened to be available while a
change was made age badly. docs/design.md is where the design is written down.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()

TEXT_SUFFIXES = (".py", ".md", ".toml", ".txt")
TEXT_NAMES = ("Makefile", ".ci/run")

#: (what it is, pattern). "DESIGN" is matched in capitals only, so docs/design.md is fine.
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("a reference to DESIGN.md", re.compile(r"DESIGN\.md")),
    ("a DESIGN section reference", re.compile(r"\bDESIGN\s*(?:section|§|\d)")),
    ("an issue number", re.compile(r"\bissues?\s+#?\d+", re.I)),
    (
        "a remark on which machines were available",
        re.compile(
            r"\blent\s+to\s+this\s+(?:task|session)\b"
            r"|\b(?:GPU|device|accelerator)s?\s+(?:is|was|were)\s+(?:not\s+)?lent\b"
            r"|\b(?:GPU|device)\s+session\b"
            r"|\bcan_start_another\b"
            r"|\bdevice\s+tool\b",
            re.I,
        ),
    ),
]


def external_refs(text: str) -> list[tuple[int, str, str]]:
    """``(line number, kind, matched text)`` for every outside reference in ``text``."""
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in PATTERNS:
            for match in pattern.finditer(line):
                hits.append((number, kind, match.group(0)))
    return hits


def tracked_text_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"not a git checkout ({err}); nothing to scan")
    paths = [p for p in out.decode().split("\0") if p]
    return [p for p in paths if p.endswith(TEXT_SUFFIXES) or p in TEXT_NAMES]


@pytest.mark.parametrize(
    "text",
    [
        "See README.md and DESIGN.md.",
        "The training loop (DESIGN section 3).",
        "as in DESIGN § 4",
        "Stable sort by weight (DESIGN 2.3).",
        "Benchmarks for mlrpy (issue 6).",
        "fixed in Issue #12",
        "not run: no GPU is lent to this task",
        "No GPU was lent, so the rows are empty.",
        "the device tool's status reports can_start_another: false",
    ],
)
def test_scanner_flags_outside_references(text):
    assert external_refs(text), f"not flagged: {text!r}"


@pytest.mark.parametrize(
    "text",
    [
        "See docs/design.md for the loop.",
        "the design section of the user guide",
        "tissue 3 of the sample",
        "known issues with CUDA graphs",
        "device='auto' picks CUDA when a GPU is available",
        "lentils 4 ways",
    ],
)
def test_scanner_keeps_ordinary_text(text):
    assert external_refs(text) == []


def test_repository_has_no_outside_references():
    hits = []
    for path in tracked_text_files():
        if path == THIS_FILE:
            continue  # the patterns above are written out here on purpose
        file = ROOT / path
        if not file.is_file():
            continue
        text = file.read_text(encoding="utf-8", errors="replace")
        hits += [f"{path}:{line}: {kind}: {found!r}" for line, kind, found in external_refs(text)]
    assert not hits, "Outside references (say the thing here, or point at docs/design.md):\n" + "\n".join(
        hits
    )
