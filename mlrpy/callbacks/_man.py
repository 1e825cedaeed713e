"""A callback's documentation (the ``man`` field): prose from the class docstring, the
parameters rendered from the schema, and a one-line usage example.

Parameters are declared once, in the ``CallbackSet``'s ``__init__`` signature; docstrings keep
prose and an example, and the "Parameters" section is generated here from the inferred
schema, so documentation and validation cannot drift apart.

Each built-in keeps a one-line usage example (``t_clbk("lr_step", step_size=10, gamma=0.5)``)
as the last line of its ``man`` text, written as ``One-line example: <code>``.
``python -m mlrpy.callbacks.docs`` reads it back with :func:`example_of` for
``docs/callbacks.md``.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from pydantic import BaseModel

from mlrpy.params import describe_parameters

__all__ = [
    "EXAMPLE_PREFIX",
    "example_of",
    "man_with_example",
    "parameter_lines",
    "prose_of",
    "render_man",
]

EXAMPLE_PREFIX = "One-line example: "
_EXAMPLE_HEADING = re.compile(r"^\s*Examples?:\s*$")
_PARAMETERS_HEADING = "Parameters:"


def man_with_example(cls: type, example: str) -> str:
    """The class docstring followed by the one-line example line."""
    if "\n" in example:
        raise ValueError(f"the example must be one line, got {example!r}")
    return f"{inspect.getdoc(cls) or ''}\n\n{EXAMPLE_PREFIX}{example}"


def example_of(tc: Any, key: str | None = None) -> str:
    """The one-line example stored in ``tc.man``; ``t_clbk("<key>")`` when there is none."""
    for line in reversed((tc.man or "").splitlines()):
        if line.startswith(EXAMPLE_PREFIX):
            return line[len(EXAMPLE_PREFIX) :].strip()
    return f't_clbk("{key or tc.id}")'


def parameter_lines(param_set: type[BaseModel]) -> list[str]:
    """One line per parameter: ``name (type, default, bounds): description``.

    Example:
        >>> from mlrpy import t_clbk
        >>> from mlrpy.callbacks._man import parameter_lines
        >>> print(parameter_lines(t_clbk("lr_step").param_set)[0])
        step_size (int, required, >= 1): epochs between two decays
    """
    lines = []
    for p in describe_parameters(param_set):
        facts = [p["type"], "required" if p["required"] else f"default {p['default']!r}"]
        if p["bounds"]:
            facts.append(p["bounds"])
        text = f"{p['name']} ({', '.join(facts)})"
        lines.append(f"{text}: {p['description']}" if p["description"] else text)
    return lines


def _ends_prose(line: str) -> bool:
    return bool(_EXAMPLE_HEADING.match(line)) or line.startswith(EXAMPLE_PREFIX)


def prose_of(text: str) -> str:
    """``text`` up to its ``Parameters:`` or ``Example:`` section or one-line example."""
    kept = []
    for line in (text or "").splitlines():
        if line == _PARAMETERS_HEADING or _ends_prose(line):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def render_man(text: str, param_set: type[BaseModel]) -> str:
    """``text`` with a generated ``Parameters:`` section before its ``Example:`` section (or
    before the one-line example, or at the end)."""
    lines = (text or "").strip().splitlines()
    params = parameter_lines(param_set)
    if not params:
        return "\n".join(lines)
    section = [_PARAMETERS_HEADING, *(f"    {p}" for p in params), ""]
    at = next((i for i, line in enumerate(lines) if _ends_prose(line)), len(lines))
    before = lines[:at]
    if before and before[-1].strip():
        before.append("")
    return "\n".join([*before, *section, *lines[at:]]).rstrip()
