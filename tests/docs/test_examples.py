"""Every vignette runs as a script, and every ```python example in README.md and in the
documentation pages runs.

Vignettes run in a subprocess with ``MLRPY_VIGNETTE_OUT`` (where a vignette may write files)
and ``MPLBACKEND=Agg``. The README examples run in order in one namespace, in one
subprocess; each block is reported as its own test. Each documentation page runs the same
way, in its own subprocess and namespace, as one test that names the block that failed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VIGNETTES = sorted((ROOT / "vignettes").glob("*.py"))
README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: Pages maintained elsewhere: design.md's recipe registers a callback for real (it shows the
#: code of a built-in), callbacks.md is generated from the registry and has no code blocks.
NOT_RUN = {"design.md", "callbacks.md"}
DOC_PAGES = sorted(
    p.relative_to(DOCS).as_posix()
    for p in DOCS.rglob("*.md")
    if p.relative_to(DOCS).as_posix() not in NOT_RUN
)
TIMEOUT = 300

#: Output a vignette must produce (beyond exiting with status 0).
EXPECTED_OUTPUT: dict[str, list[str]] = {
    "callbacks.py": ["Epoch 1:", "Epoch 5:", "Iteration 3: loss", "Training finished!"],
}


def _env(out_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MLRPY_VIGNETTE_OUT"] = str(out_dir)
    env["MPLBACKEND"] = "Agg"
    # one torch thread, as tests/conftest.py sets in process: learners leave torch's thread
    # count as the process has it, and several examples share the test machine's cores
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.name for p in VIGNETTES])
def test_vignette_runs(path: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    for fragment in EXPECTED_OUTPUT.get(path.name, []):
        assert fragment in proc.stdout, f"{path.name}: {fragment!r} missing from its output"


def test_callbacks_vignette_exists() -> None:
    assert "callbacks.py" in [p.name for p in VIGNETTES]


# -- README examples --------------------------------------------------------------------------
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```[ \t]*(?:python|py)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)


def _doctest_to_code(code: str) -> str:
    """A block written as a doctest session (``>>>``) keeps only its source lines."""
    if not any(line.lstrip().startswith(">>>") for line in code.splitlines()):
        return code
    kept = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith((">>> ", "... ")) or stripped in (">>>", "..."):
            kept.append(stripped[4:])
    return "\n".join(kept) + "\n"


def readme_blocks(text: str) -> list[tuple[int, str]]:
    """``(first line number, code)`` of every ```python fenced block, in order."""
    blocks = []
    for m in _FENCE.finditer(text):
        line = text.count("\n", 0, m.start("body")) + 1
        blocks.append((line, _doctest_to_code(textwrap.dedent(m.group("body")))))
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8")) if README.exists() else []

# Runs the blocks in order in one namespace; records, per block, "ok" or the traceback. The
# main guard keeps worker processes (strategy="ddp" spawns them, and they import the main
# script) from running the blocks again.
_RUNNER = """
import json, sys, traceback

def main():
    name, blocks = sys.argv[3], json.load(open(sys.argv[1], encoding="utf-8"))
    results = []
    ns = {"__name__": "__main__"}
    for line, code in blocks:
        print(f"--- {name} block at line {line}", flush=True)
        try:
            exec(compile(code, f"{name}:{line}", "exec"), ns)
        except BaseException:
            results.append(traceback.format_exc())
            break
        results.append("ok")
    json.dump(results, open(sys.argv[2], "w", encoding="utf-8"))

if __name__ == "__main__":
    main()
"""


def run_blocks(name: str, blocks: list[tuple[int, str]], work: Path) -> tuple[list[str], str]:
    """Run ``blocks`` in order in one fresh interpreter in ``work``; (per-block results, output)."""
    (work / "blocks.json").write_text(json.dumps(blocks), encoding="utf-8")
    (work / "runner.py").write_text(_RUNNER, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "runner.py", "blocks.json", "results.json", name],
        cwd=work,
        env=_env(work),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    output = proc.stdout[-3000:] + proc.stderr[-3000:]
    results_file = work / "results.json"
    if not results_file.exists():
        pytest.fail(f"the runner for {name} crashed (exit {proc.returncode}):\n{output}")
    return json.loads(results_file.read_text(encoding="utf-8")), output


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], str]:
    """Run all README blocks once per module; returns (per-block results, combined output)."""
    return run_blocks("README.md", BLOCKS, tmp_path_factory.mktemp("readme"))


def test_readme_has_python_examples() -> None:
    assert README.exists(), "README.md is missing"
    assert BLOCKS, "README.md has no ```python code blocks"


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"line{line}" for line, _ in BLOCKS])
def test_readme_block_runs(index: int, readme_run: tuple[list[str], str]) -> None:
    results, output = readme_run
    line = BLOCKS[index][0]
    if index >= len(results):
        failed = BLOCKS[len(results) - 1][0]
        pytest.fail(f"README.md block at line {line} did not run: the block at line {failed} failed first")
    assert results[index] == "ok", f"README.md block at line {line} failed:\n{results[index]}\n{output}"


# -- documentation pages ---------------------------------------------------------------------
def test_documentation_pages_are_found() -> None:
    assert "index.md" in DOC_PAGES
    guide = [p for p in DOC_PAGES if p.startswith("guide/")]
    assert len(guide) >= 7, guide
    for page in guide:  # a guide page teaches by example
        assert readme_blocks((DOCS / page).read_text(encoding="utf-8")), f"docs/{page} has no python block"


@pytest.mark.parametrize("page", DOC_PAGES)
def test_documentation_page_examples_run(page: str, tmp_path: Path) -> None:
    blocks = readme_blocks((DOCS / page).read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"docs/{page} has no python blocks")
    results, output = run_blocks(f"docs/{page}", blocks, tmp_path)
    for (line, _), result in zip(blocks, results):
        assert result == "ok", f"docs/{page}: the block at line {line} failed:\n{result}\n{output}"
    assert len(results) == len(blocks)
