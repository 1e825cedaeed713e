"""Helpers for the built-in callbacks' documentation (the ``man`` field).

Each built-in keeps a one-line usage example (``t_clbk("lr_step", step_size=10, gamma=0.5)``)
as the last line of its ``man`` text, written as ``One-line example: <code>``.
``python -m mlrpy.callbacks.docs`` reads it back with :func:`example_of` for the table in
``docs/callbacks.md``.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["EXAMPLE_PREFIX", "example_of", "man_with_example"]

EXAMPLE_PREFIX = "One-line example: "


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
