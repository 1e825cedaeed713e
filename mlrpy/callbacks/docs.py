"""Generate ``docs/callbacks.md``: an overview table and one section per built-in callback.

Run ``python -m mlrpy.callbacks.docs > docs/callbacks.md`` after adding or changing a
built-in; a test regenerates the page and fails when the committed file differs.

Everything comes from :data:`mlrpy.callbacks.mlr_callbacks`: the prose of each callback's
docstring, its parameters rendered from the parameter schema (name, type, default, bounds,
description; declared once, in the ``CallbackSet``'s ``__init__`` signature), its stages,
whether it keeps state, its weight, and a one-line example. The example is the last line of
the callback's ``man`` text that starts with ``One-line example:`` (written by
:func:`mlrpy.callbacks._man.man_with_example`); callbacks without one show ``t_clbk("<id>")``.
"""

from __future__ import annotations

import sys
from typing import Any

from mlrpy.callbacks._man import example_of, prose_of
from mlrpy.params import describe_parameters

__all__ = ["main", "render"]

HEADER = """\
# Built-in callbacks

<!-- Generated from mlr_callbacks by `python -m mlrpy.callbacks.docs > docs/callbacks.md`;
do not edit by hand (a test fails when this file is out of date). -->

Every callback registered in `mlr_callbacks`. Get one with `t_clbk(id, **parameters)` and
pass it to a learner (`lrn("classif.mlp", callbacks=[...])`); its parameters are then also
the learner's `cb.<id>.<parameter>`. Callbacks run in the order given, stably sorted by
weight (higher runs later). *State* says whether the callback saves a `state_dict()` in
`learner.model.callbacks[id]`. The same documentation is `t_clbk(id).man`.

"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _parameter_items(tc: Any) -> list[str]:
    items = []
    for p in describe_parameters(tc.param_set):
        facts = [f"`{p['type']}`", "required" if p["required"] else f"default `{p['default']!r}`"]
        if p["bounds"]:
            facts.append(p["bounds"])
        text = f"- `{p['name']}` ({', '.join(facts)})"
        items.append(f"{text}: {p['description']}" if p["description"] else text)
    return items


def _context_fields(cls: Any) -> list[str]:
    reads, writes = getattr(cls, "reads", ()), getattr(cls, "writes", ())
    if not reads and not writes:
        return []
    shown = [f"{label}: {', '.join(f'`ctx.{f}`' for f in fields) or '-'}"
             for label, fields in (("Reads", reads), ("Writes", writes))]
    return [". ".join(shown) + ".", ""]


def _section(key: str, tc: Any) -> list[str]:
    lines = [f'<a id="{key}"></a>', "", f"## `{key}`: {tc.label}", "", prose_of(tc.man), ""]
    params = _parameter_items(tc)
    lines += ["**Parameters**", "", *params, ""] if params else ["No parameters.", ""]
    lines += [
        f"Stages: {', '.join(tc.stages) or '-'}. State: {'yes' if tc.generator.has_state() else 'no'}. "
        f"Weight: {tc.effective_weight:g}."
        + (" Data-parallel runs: rank 0 only." if getattr(tc.generator, "rank_zero_only", False) else ""),
        "",
        *_context_fields(tc.generator),
        f"Example: `{example_of(tc, key)}`",
        "",
    ]
    return lines


def render(registry: Any = None) -> str:
    """The Markdown text of ``docs/callbacks.md``."""
    if registry is None:
        from mlrpy.callbacks import mlr_callbacks

        registry = mlr_callbacks
    rows = [
        "| id | label | parameters | state | weight |",
        "| --- | --- | --- | --- | --- |",
    ]
    sections: list[str] = []
    for key in registry:
        tc = registry.get(key)
        names = ", ".join(f"`{n}`" for n in tc.param_set.model_fields) or "-"
        state = "yes" if tc.generator.has_state() else "no"
        cells = [f"[`{key}`](#{key})", tc.label, names, state, f"{tc.effective_weight:g}"]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        sections += _section(key, tc)
    return HEADER + "\n".join(rows) + "\n\n" + "\n".join(sections).rstrip() + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
