"""Generate ``docs/callbacks.md``: one table of every built-in callback.

Run ``python -m mlrpy.callbacks.docs > docs/callbacks.md`` after adding or changing a
built-in; a test regenerates the table and fails when the committed file differs.

The table is built from :data:`mlrpy.callbacks.mlr_callbacks`: id, label, stages, parameters
with their defaults, whether the callback keeps state, its weight, and a one-line example.
The example is the last line of the callback's ``man`` text that starts with
``One-line example:`` (written by :func:`mlrpy.callbacks._man.man_with_example`);
callbacks without one show ``t_clbk("<id>")``.
"""

from __future__ import annotations

import sys
from typing import Any

from mlrpy.callbacks._man import example_of
from mlrpy.params import defaults_of

__all__ = ["main", "render"]

HEADER = """\
# Built-in callbacks

<!-- Generated from mlr_callbacks by `python -m mlrpy.callbacks.docs > docs/callbacks.md`;
do not edit by hand (a test fails when this file is out of date). -->

Every callback registered in `mlr_callbacks`. Get one with `t_clbk(id, **parameters)` and
pass it to a learner (`lrn("classif.mlp", callbacks=[...])`); its parameters are then also
the learner's `cb.<id>.<parameter>`. Callbacks run in the order given, stably sorted by
weight (higher runs later). *State* says whether the callback saves a `state_dict()` in
`learner.model.callbacks[id]`. The full documentation of each is its class docstring
(`t_clbk(id).man`).

"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _parameters(tc: Any) -> str:
    defaults = defaults_of(tc.param_set)
    parts = []
    for name in tc.param_set.model_fields:
        parts.append(f"`{name}={defaults[name]!r}`" if name in defaults else f"`{name}` (required)")
    return ", ".join(parts) or "-"


def render(registry: Any = None) -> str:
    """The Markdown text of ``docs/callbacks.md``."""
    if registry is None:
        from mlrpy.callbacks import mlr_callbacks

        registry = mlr_callbacks
    rows = [
        "| id | label | stages | parameters | state | weight | example |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key in registry:
        tc = registry.get(key)
        cells = [
            f"`{key}`",
            tc.label,
            ", ".join(tc.stages),
            _parameters(tc),
            "yes" if tc.generator.has_state() else "no",
            f"{tc.effective_weight:g}",
            f"`{example_of(tc, key)}`",
        ]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return HEADER + "\n".join(rows) + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
