"""Plain-text tables for the ``mlrpy`` command that fit the terminal.

``pandas.DataFrame.to_string`` wraps a wide frame into several blocks of columns, which is hard
to read for a registry listing with long descriptions. :func:`fit_table` keeps one line per
row instead and shortens the widest columns (cutting their cells with ``...``) until the line
fits the terminal width.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from typing import Any

import pandas as pd

__all__ = ["MIN_COLUMN_WIDTH", "fit_table", "format_cell", "terminal_width"]

#: A column is never shortened below this many characters (or its content, if shorter).
MIN_COLUMN_WIDTH = 8
#: Narrower terminals are treated as this wide.
MIN_TABLE_WIDTH = 20
#: Marks a cut cell.
ELLIPSIS = "..."
_GAP = "  "


def terminal_width() -> int | None:
    """The width tables must fit: ``$COLUMNS`` if set, else the terminal's width when standard
    output is a terminal, else ``None`` (output to a file or a pipe is not cut).

    Example:
        >>> import os
        >>> os.environ["COLUMNS"] = "72"
        >>> terminal_width()
        72
        >>> del os.environ["COLUMNS"]
    """
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_TABLE_WIDTH)
    try:
        if sys.stdout.isatty():
            return max(shutil.get_terminal_size().columns, MIN_TABLE_WIDTH)
    except (AttributeError, ValueError, OSError):  # a replaced or closed stdout
        pass
    return None


def format_cell(value: Any, digits: int = 4) -> str:
    """The display text of one cell: no ``nan``/``None`` noise, floats with ``digits`` decimals.

    Example:
        >>> [format_cell(v) for v in (0.953125, 3.0, None, float("nan"), "relu", float("inf"))]
        ['0.9531', '3', '', '', 'relu', 'inf']
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        if math.isinf(value) or (value.is_integer() and abs(value) < 1e15):
            return f"{value:g}" if math.isinf(value) else str(int(value))
        return f"{value:.{digits}f}"
    if isinstance(value, (list, tuple)) and not isinstance(value, str):
        return ", ".join(map(str, value))
    return " ".join(str(value).split())  # no line breaks inside a row


def _cut(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    if width <= len(ELLIPSIS):
        return text[:width]
    return text[: width - len(ELLIPSIS)] + ELLIPSIS


def _shrink(widths: list[int], floors: list[int], excess: int) -> list[int]:
    """Take ``excess`` characters from the widest columns, none below its floor."""
    widths = list(widths)
    while excess > 0:
        candidates = [i for i, w in enumerate(widths) if w > floors[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths


def _floors(natural: list[int]) -> list[list[int]]:
    """How far columns may shrink, tried in turn: the key column (the first) whole and the
    others down to :data:`MIN_COLUMN_WIDTH`; then the others down to a few characters; then the
    key too. The key goes last because it is what a reader looks up and copies."""
    tiny = [min(n, len(ELLIPSIS) + 1) for n in natural]
    readable = [natural[0]] + [min(n, MIN_COLUMN_WIDTH) for n in natural[1:]]
    return [readable, [natural[0], *tiny[1:]], tiny]


def fit_table(
    frame: pd.DataFrame, width: int | None = None, digits: int = 4, max_rows: int | None = None
) -> str:
    """``frame`` as a text table whose lines fit ``width`` (default: :func:`terminal_width`).

    Numeric columns are right-aligned, others left-aligned. When the table is too wide, the
    widest columns are shortened first, their cells cut with ``...``: the other columns down to
    :data:`MIN_COLUMN_WIDTH`, then below it, and the first column (the key) only when nothing
    else is left to shorten. A frame with very many columns may still overflow.
    ``width=None`` with no terminal leaves the table uncut.
    With ``max_rows``, a longer frame shows its first and last rows around a ``...`` line.

    Example:
        >>> frame = pd.DataFrame({"key": ["history", "progress"], "label": ["History", "Progress"],
        ...                       "description": ["one row per epoch" * 3, "bars"]})
        >>> print(fit_table(frame, width=40))
        key       label     description
        history   History   one row per epoch...
        progress  Progress  bars
    """
    if frame.empty:
        return "(empty)"
    if width is None:
        width = terminal_width()
    rows = frame
    skipped = False
    if max_rows is not None and len(frame) > max_rows:
        head = max(max_rows // 2, 1)
        rows = pd.concat([frame.iloc[:head], frame.iloc[len(frame) - (max_rows - head) :]])
        skipped = True
    headers = [str(c) for c in frame.columns]
    cells = [[format_cell(v, digits) for v in row] for row in rows.itertuples(index=False)]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    natural = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    widths = natural
    if width is not None:
        for floors in _floors(natural):
            widths = _shrink(widths, floors, sum(widths) + len(_GAP) * (len(widths) - 1) - width)

    def line(texts: list[str]) -> str:
        parts = [
            _cut(t, w).rjust(w) if num else _cut(t, w).ljust(w) for t, w, num in zip(texts, widths, numeric)
        ]
        return _GAP.join(parts).rstrip()

    out = [line(headers)] + [line(r) for r in cells]
    if skipped:
        head = max(max_rows // 2, 1)  # type: ignore[operator]
        out.insert(head + 1, line([ELLIPSIS] * len(headers)))
    return "\n".join(out)
