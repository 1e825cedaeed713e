"""The documentation site builds with ``mkdocs build --strict`` and holds what it promises.

The strict build fails on any warning: a broken link or anchor, a page missing from the
navigation, a module mkdocstrings cannot load, a cross-reference that points nowhere. The
generated pages (API reference, registry lists) come from ``mlrpy/_docs.py``; the tests on
them that need no mkdocs run everywhere, the build itself needs the ``docs`` extra, which the
``dev`` extra (and so ``make test``) installs.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import mlrpy
from mlrpy import _docs

ROOT = Path(__file__).resolve().parents[2]
MKDOCS_YML = ROOT / "mkdocs.yml"
DOCS_EXTRA = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
MISSING = [name for name in DOCS_EXTRA if importlib.util.find_spec(name.split(".")[0]) is None]


def nav_pages() -> list[str]:
    """The pages the navigation of mkdocs.yml lists (``Title: path.md`` entries)."""
    return re.findall(r":\s*([\w./-]+\.md)\s*$", MKDOCS_YML.read_text(encoding="utf-8"), flags=re.M)


# -- generated pages (no mkdocs needed) ------------------------------------------------------
@pytest.mark.parametrize("module", [m for _, m, _ in _docs.REFERENCE_PAGES])
def test_reference_modules_exist(module):
    importlib.import_module(module)  # a renamed module: update REFERENCE_PAGES in mlrpy/_docs.py


def test_every_generated_page_is_in_the_navigation_and_every_nav_page_exists():
    generated = set(_docs.generated_pages())
    listed = nav_pages()
    assert generated <= set(listed), (
        f"generated but not in mkdocs.yml's nav: {sorted(generated - set(listed))}"
    )
    written = [p for p in listed if p not in generated]
    missing = [p for p in written if not (ROOT / "docs" / p).is_file()]
    assert not missing, f"in mkdocs.yml's nav but not in docs/: {missing}"
    assert "design.md" in listed


@pytest.mark.parametrize(("page", "registry"), [(p, r) for p, r, _, _ in _docs.LIST_PAGES])
def test_list_pages_show_every_registry_entry(page, registry):
    text = _docs.list_page(page)
    entries = getattr(mlrpy, registry)
    assert list(entries), registry
    for key in entries:
        assert f"| `{key}` |" in text, f"{key} missing from lists/{page}"
    assert f"{len(list(entries))} entries" in text


def test_list_pages_follow_the_registry(monkeypatch):
    from mlrpy.measures import msr

    monkeypatch.setitem(
        mlrpy.mlr_measures._items, "classif.acc_copy", mlrpy.mlr_measures._items["classif.acc"]
    )
    assert "| `classif.acc_copy` |" in _docs.list_page("measures.md")
    assert msr("classif.acc").id == "classif.acc"


def test_callbacks_reference_documents_each_builtin_module_once():
    text = _docs.reference_page("callbacks.md")
    modules = _docs.builtin_callback_modules()
    for key in mlrpy.mlr_callbacks:
        module = mlrpy.t_clbk(key).generator.__module__
        assert text.count(f"::: {module}\n") == 1, module
    # the package's own page does not repeat the built-in classes
    package_members = text.split("## Built-in callbacks")[0]
    assert "CallbackSetHistory" not in package_members
    assert len(modules) == len(set(modules))


def test_top_level_reference_lists_every_public_name():
    text = _docs.reference_page("mlrpy.md")
    for name in mlrpy.__all__:
        assert f"`{name}`" in text, name


@pytest.mark.parametrize(
    ("docstring", "expected"),
    [
        ("Example:\n    >>> 1\n    1", "Examples:\n    >>> 1\n    1"),
        ("    Example:\n        >>> x", "    Examples:\n        >>> x"),
        ("See :func:`mlrpy.lrn` and :class:`~mlrpy.tasks.Task`.", "See `mlrpy.lrn` and `mlrpy.tasks.Task`."),
        ("An Example: not a heading", "An Example: not a heading"),
        ("Examples:\n    >>> 1", "Examples:\n    >>> 1"),
    ],
)
def test_markdown_docstring(docstring, expected):
    assert _docs.markdown_docstring(docstring) == expected
    assert _docs.markdown_docstring(docstring).count("\n") == docstring.count("\n")  # lines kept


# -- the strict build ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if MISSING:
        pytest.skip(
            f"the docs extra is not installed (missing {', '.join(MISSING)}): "
            "pip install -e '.[docs]' (make test installs it with the dev extra)"
        )
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    problems = "\n".join(
        line for line in (proc.stdout + proc.stderr).splitlines() if "WARNING" in line or "Error" in line
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{problems or proc.stderr[-5000:]}"
    return out


def test_site_has_every_page_of_the_navigation(site):
    for page in nav_pages():
        assert (site / page).with_suffix(".html").is_file(), page
    assert (site / "index.html").is_file()


@pytest.mark.parametrize(("page", "module", "title"), _docs.REFERENCE_PAGES)
def test_api_reference_is_rendered_from_the_docstrings(site, page, module, title):
    html = (site / "reference" / page).with_suffix(".html").read_text(encoding="utf-8")
    assert f'id="{module}"' in html, f"{module} not rendered on reference/{page}"
    documented = list(getattr(importlib.import_module(module), "__all__", []))
    if module == "mlrpy":
        documented = []  # the top-level page is a table of links, checked below
    for name in documented:
        value = getattr(importlib.import_module(module), name)
        if module == "mlrpy.callbacks" and _docs._defined_in_builtin(value):
            continue  # rendered with its built-in module
        if (inspect.isclass(value) or inspect.isfunction(value)) and not _docs._is_own_api(value):
            continue  # a re-export from another package (sklearn's NotFittedError)
        assert f'id="{module}.{name}"' in html, f"{module}.{name} not rendered"


def test_builtin_callback_modules_are_rendered(site):
    html = (site / "reference" / "callbacks.html").read_text(encoding="utf-8")
    for module in _docs.builtin_callback_modules():
        assert f'id="{module}"' in html, module


def test_docstring_examples_render_as_code(site):
    html = (site / "reference" / "tasks.html").read_text(encoding="utf-8")
    section = html.split('id="mlrpy.tasks.tsk"')[1]
    assert "Examples" in section[:3000]
    assert 'class="language-pycon' in section or "highlight" in section[:3000]


def test_top_level_names_link_to_their_documentation(site):
    html = (site / "reference" / "mlrpy.html").read_text(encoding="utf-8")
    for name in ("lrn", "t_clbk", "tsk", "load", "tune"):
        assert re.search(rf'<a [^>]*href="[^"]*#mlrpy\.[\w.]*{name}"[^>]*>\s*<code>{name}</code>', html), name


def test_lists_link_learner_classes_to_the_reference(site):
    html = (site / "lists" / "learners.html").read_text(encoding="utf-8")
    assert re.search(r'href="\.\./reference/learners\.html#mlrpy\.learners\.LearnerTorchClassifMLP"', html)
