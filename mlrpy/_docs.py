"""The generated pages of the documentation site, built from the registries and the package.

``make docs`` runs mkdocs with this file as a hook (``hooks:`` in ``mkdocs.yml``): before the
build, :func:`on_files` adds the pages of :func:`generated_pages` to the site, so the lists of
learners, measures, resamplings, optimizers, losses and callbacks, and the API reference pages,
are rebuilt from the code every time and cannot go stale. :func:`docstring_extension` is a
griffe extension (``extensions:`` of the mkdocstrings handler) that reads the docstrings'
conventions as Markdown. Nothing in mlrpy imports this module; mkdocs and griffe are imported
only inside the functions that mkdocs calls.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import pandas as pd

__all__ = [
    "LIST_PAGES",
    "REFERENCE_PAGES",
    "docstring_extension",
    "generated_pages",
    "list_page",
    "markdown_docstring",
    "on_files",
    "reference_page",
]

#: API reference pages: (page under ``reference/``, module, title). The built-in callback
#: modules are found from the callback registry, so they need no entry here.
REFERENCE_PAGES: list[tuple[str, str, str]] = [
    ("mlrpy.md", "mlrpy", "mlrpy (top level)"),
    ("callbacks.md", "mlrpy.callbacks", "mlrpy.callbacks"),
    ("learners.md", "mlrpy.learners", "mlrpy.learners"),
    ("tasks.md", "mlrpy.tasks", "mlrpy.tasks"),
    ("lazy.md", "mlrpy.lazy", "mlrpy.lazy"),
    ("measures.md", "mlrpy.measures", "mlrpy.measures"),
    ("resampling.md", "mlrpy.resampling", "mlrpy.resampling"),
    ("tuning.md", "mlrpy.tuning", "mlrpy.tuning"),
    ("persistence.md", "mlrpy.persistence", "mlrpy.persistence"),
    ("errors.md", "mlrpy.errors", "mlrpy.errors"),
]

#: Registry list pages: (page under ``lists/``, registry name in mlrpy, title, introduction).
LIST_PAGES: list[tuple[str, str, str, str]] = [
    (
        "learners.md",
        "mlr_learners",
        "Learners",
        'Get one with `lrn(key, **parameters)`, e.g. `lrn("classif.mlp", epochs=10)`.',
    ),
    (
        "measures.md",
        "mlr_measures",
        "Measures",
        'Get one with `msr(key)`; score a prediction with `prediction.score(["classif.acc"])`.',
    ),
    (
        "resamplings.md",
        "mlr_resamplings",
        "Resamplings",
        'Get one with `rsmp(key, **parameters)`, e.g. `rsmp("cv", folds=5, seed=1)`.',
    ),
    (
        "optimizers.md",
        "mlr_optimizers",
        "Optimizers",
        "A learner takes a key or `t_opt(key, **parameters)` as `optimizer`; its parameters are the "
        'learner\'s `opt.<name>`, e.g. `lrn("classif.mlp", optimizer="adamw", **{"opt.lr": 1e-3})`.',
    ),
    (
        "losses.md",
        "mlr_losses",
        "Losses",
        "A learner takes a key or `t_loss(key, **parameters)` as `loss`; its parameters are the "
        'learner\'s `loss.<name>`, e.g. `lrn("regr.mlp", loss="huber", **{"loss.delta": 0.5})`.',
    ),
    (
        "callbacks.md",
        "mlr_callbacks",
        "Callbacks",
        "Get one with `t_clbk(key, **parameters)` and pass it in a learner's `callbacks`; its "
        "parameters are then the learner's `cb.<key>.<name>`. Each is described in full on "
        "[Built-in callbacks](../callbacks.md).",
    ),
    (
        "tasks.md",
        "mlr_tasks",
        "Tasks",
        "Get one with `tsk(key)`; they come from scikit-learn's bundled data sets.",
    ),
]

_GENERATED_NOTE = "<!-- Generated at build time by mlrpy/_docs.py; edit that file, not this page. -->"


# -- docstrings ------------------------------------------------------------------------------
_ROLE = re.compile(r":(?:py:)?(?:data|func|class|meth|mod|attr|exc|obj|const|term):`~?([^`]+)`")
_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:\s*$", re.M)


def markdown_docstring(text: str) -> str:
    """A docstring as mkdocstrings should read it: ``Example:`` sections become ``Examples:``
    (which griffe renders as code) and Sphinx roles become code spans.

    Line numbers are kept, so warnings still point at the right source line.

    Example:
        >>> print(markdown_docstring("See :func:`mlrpy.lrn`.\\n\\nExample:\\n    lrn(1)"))
        See `mlrpy.lrn`.
        <BLANKLINE>
        Examples:
            lrn(1)
    """
    return _EXAMPLE_HEADING.sub(r"\1Examples:", _ROLE.sub(r"`\1`", text))


def docstring_extension() -> Any:
    """The griffe extension that applies :func:`markdown_docstring` to every docstring."""
    import griffe

    class ProjectDocstrings(griffe.Extension):  # type: ignore[misc]
        def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
            if obj.docstring is not None:
                obj.docstring.value = markdown_docstring(obj.docstring.value)

    return ProjectDocstrings()


# -- what the reference documents ------------------------------------------------------------
def _public_names(module: Any) -> list[str]:
    """The names mkdocstrings renders for ``module``: its ``__all__``, else what it defines."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


def builtin_callback_modules() -> list[str]:
    """The modules that define the registered callbacks, in registry order.

    Example:
        >>> "mlrpy.callbacks.history" in builtin_callback_modules()
        True
    """
    from mlrpy.callbacks import mlr_callbacks

    modules: list[str] = []
    for key in mlr_callbacks:
        module = mlr_callbacks.get(key).generator.__module__
        if module.startswith("mlrpy.callbacks.") and module not in modules:
            modules.append(module)
    return modules


def documented_objects() -> dict[int, str]:
    """``id(object)`` → the identifier under which the reference pages document it."""
    out: dict[int, str] = {}
    modules = [m for _, m, _ in REFERENCE_PAGES if m != "mlrpy"] + builtin_callback_modules()
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in _public_names(module):
            if module_name == "mlrpy.callbacks" and _defined_in_builtin(getattr(module, name, None)):
                continue  # documented with its built-in module instead
            value = getattr(module, name, None)
            if _is_own_api(value):
                out.setdefault(id(value), f"{module_name}.{name}")
    return out


def _is_own_api(value: Any) -> bool:
    """A class or function of mlrpy (re-exports of other packages are not documented here)."""
    own = str(getattr(value, "__module__", "")).split(".")[0] == "mlrpy"
    return own and (inspect.isclass(value) or inspect.isfunction(value))


def _defined_in_builtin(value: Any) -> bool:
    return getattr(value, "__module__", None) in builtin_callback_modules()


def _summary(value: Any) -> str:
    doc = inspect.getdoc(value) if inspect.isclass(value) or callable(value) else None
    first = (doc or "").strip().split("\n\n")[0]
    return _cell(" ".join(markdown_docstring(first).split()))


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# -- pages -----------------------------------------------------------------------------------
def reference_page(page: str) -> str:
    """The Markdown of ``reference/<page>``: mkdocstrings directives for its module.

    Example:
        >>> print(reference_page("tasks.md").splitlines()[-1])
        ::: mlrpy.tasks
    """
    titles = {p: (m, t) for p, m, t in REFERENCE_PAGES}
    module_name, title = titles[page]
    importlib.import_module(module_name)  # a renamed module fails here, naming itself
    lines = [_GENERATED_NOTE, "", f"# {title}", ""]
    if module_name == "mlrpy":
        return "\n".join(lines + _top_level_lines()) + "\n"
    if module_name == "mlrpy.callbacks":
        return "\n".join(lines + _callbacks_lines()) + "\n"
    return "\n".join([*lines, f"::: {module_name}"]) + "\n"


def _directive(module: str, members: list[str] | None = None, heading_level: int = 2) -> list[str]:
    lines = [f"::: {module}", "    options:", f"      heading_level: {heading_level}"]
    if members is not None:
        lines.append("      members:" if members else "      members: false")
        lines += [f"        - {name}" for name in members]
    return [*lines, ""]


def _top_level_lines() -> list[str]:
    import mlrpy

    documented = documented_objects()
    list_of_registry = {registry: f"../lists/{page}" for page, registry, _, _ in LIST_PAGES}
    rows = ["| name | what it is |", "| --- | --- |"]
    elsewhere: list[str] = []
    for name in sorted(mlrpy.__all__, key=str.lower):
        value = getattr(mlrpy, name)
        if name in list_of_registry:
            size = len(list(value))
            rows.append(f"| `{name}` | a registry of {size} entries: [the list]({list_of_registry[name]}) |")
            continue
        if not _is_own_api(value):
            origin = getattr(value, "__module__", None) if inspect.isclass(value) else None
            what = f"re-exported from `{origin}`" if origin else f"a `{type(value).__name__}`"
            rows.append(f"| `{name}` | {what} |")
            continue
        target = documented.get(id(value))
        if target is None:
            elsewhere.append(name)
            target = f"mlrpy.{name}"
        rows.append(f"| [`{name}`][{target}] | {_summary(value)} |")
    lines = [
        *_directive("mlrpy", members=[], heading_level=2),
        "Everything a user needs is importable from `mlrpy` itself. Each name links to its "
        "documentation; names that belong to no module below are documented at the end of this page.",
        "",
        *rows,
        "",
    ]
    if elsewhere:
        lines += ["## More top-level names", ""]
        for name in elsewhere:
            lines += [f"::: mlrpy.{name}", "    options:", "      heading_level: 3", ""]
    return lines


def _callbacks_lines() -> list[str]:
    import mlrpy.callbacks as callbacks

    own = [n for n in _public_names(callbacks) if not _defined_in_builtin(getattr(callbacks, n, None))]
    lines = [*_directive("mlrpy.callbacks", members=own), "## Built-in callbacks", ""]
    lines.append("One module per built-in callback; [Built-in callbacks](../callbacks.md) has the overview.")
    lines.append("")
    for module in builtin_callback_modules():
        lines += _directive(module, heading_level=3)
    return lines


def _frame_cell(column: str, value: Any, documented: dict[int, str], classes: dict[str, Any]) -> str:
    if isinstance(value, float) and pd.isna(value):
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value))
    if column == "key":
        return f"`{value}`"
    if column == "class" and str(value) in classes and id(classes[str(value)]) in documented:
        return f"[`{value}`][{documented[id(classes[str(value)])]}]"
    return _cell(value)


def list_page(page: str) -> str:
    """The Markdown of ``lists/<page>``: a table of every entry of a registry.

    Example:
        >>> "| `classif.mlp` |" in list_page("learners.md")
        True
    """
    import mlrpy

    pages = {p: (r, t, i) for p, r, t, i in LIST_PAGES}
    registry_name, title, intro = pages[page]
    registry = getattr(mlrpy, registry_name)
    frame = registry.as_frame()
    documented = documented_objects()
    classes = _registry_classes(registry)
    columns = list(frame.columns)
    rows = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for record in frame.itertuples(index=False):
        rows.append(
            "| " + " | ".join(_frame_cell(c, v, documented, classes) for c, v in zip(columns, record)) + " |"
        )
    count = f"{len(frame)} entries in `mlrpy.{registry_name}`, listed by `mlrpy.{registry_name}.as_frame()`."
    return "\n".join([_GENERATED_NOTE, "", f"# {title}", "", intro, "", count, "", *rows]) + "\n"


def _registry_classes(registry: Any) -> dict[str, Any]:
    """Class name → class, for registries whose entries are (or build) classes."""
    out: dict[str, Any] = {}
    for key in registry:
        try:
            entry = registry.get(key)
        except Exception:  # an entry that cannot be built without arguments has no class to link
            continue
        cls = entry if inspect.isclass(entry) else type(entry)
        out.setdefault(cls.__name__, cls)
    return out


def generated_pages() -> dict[str, str]:
    """Every generated page: path under ``docs/`` → Markdown.

    Example:
        >>> sorted(p for p in generated_pages() if p.startswith("lists/"))[:2]
        ['lists/callbacks.md', 'lists/learners.md']
    """
    pages = {f"reference/{page}": reference_page(page) for page, _, _ in REFERENCE_PAGES}
    pages.update({f"lists/{page}": list_page(page) for page, _, _, _ in LIST_PAGES})
    return pages


# -- mkdocs hook -----------------------------------------------------------------------------
def on_files(files: Any, config: Any) -> Any:
    """mkdocs hook: add the generated pages to the site's files."""
    from mkdocs.structure.files import File

    for path, text in generated_pages().items():
        files.append(File.generated(config, path, content=text))
    return files
