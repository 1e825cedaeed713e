"""What a table's columns are: their feature type in mlr3's names, and valid sample weights.

Tasks report ``feature_types`` with these names and learners declare the names they accept,
so one function decides a column's type for both:

========================================  ===========
pandas / NumPy dtype                      type
========================================  ===========
float                                     ``numeric``
int (also nullable ``Int64``)             ``integer``
bool (also nullable ``boolean``)          ``logical``
category, unordered                       ``factor``
category, ordered                         ``ordered``
``lazy_tensor`` (a :class:`LazyTensor`)   ``lazy_tensor``
str / string                              ``factor``
object                                    see below
========================================  ===========

An object column holding only numbers (or booleans), missing values aside, is typed by those
numbers, as ``DataFrame.infer_objects()`` would type it; any other object column is a
``factor``. Other dtypes keep their own name (``POSIXct`` for datetimes, ``complex``, or the
dtype's name), which no learner accepts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlrpy.errors import DataError
from mlrpy.lazy import LazyTensorDtype

__all__ = [
    "CATEGORICAL_TYPES",
    "FEATURE_TYPES",
    "check_groups",
    "check_weight_column",
    "check_weights",
    "feature_type",
    "feature_types",
]

#: mlr3's names of the feature types mlrpy knows how to feed to a network
FEATURE_TYPES = ("numeric", "integer", "logical", "factor", "ordered", "lazy_tensor")
#: the feature types whose values are levels rather than numbers
CATEGORICAL_TYPES = ("factor", "ordered")

_OBJECT_KINDS = {
    "floating": "numeric",
    "mixed-integer-float": "numeric",
    "decimal": "numeric",
    "integer": "integer",
    "boolean": "logical",
}


def feature_type(column: pd.Series | np.ndarray) -> str:
    """mlr3's name for the type of one column (a Series or a 1-D array).

    Example:
        >>> import pandas as pd
        >>> from mlrpy.columns import feature_type
        >>> [feature_type(pd.Series(v)) for v in ([1.5], [1], [True], ["a"])]
        ['numeric', 'integer', 'logical', 'factor']
        >>> feature_type(pd.Series(pd.Categorical(["lo"], ["lo", "hi"], ordered=True)))
        'ordered'
    """
    if pd.api.types.is_object_dtype(column.dtype):
        return _OBJECT_KINDS.get(pd.api.types.infer_dtype(column, skipna=True), "factor")
    return _dtype_type(column.dtype)


def _dtype_type(dtype: Any) -> str:
    """The type of a column of a dtype other than object, from the dtype alone."""
    if isinstance(dtype, pd.CategoricalDtype):
        return "ordered" if dtype.ordered else "factor"
    if isinstance(dtype, LazyTensorDtype):  # before the string check: its kind is object
        return "lazy_tensor"
    if pd.api.types.is_bool_dtype(dtype):
        return "logical"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "numeric"
    if pd.api.types.is_string_dtype(dtype):
        return "factor"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "POSIXct"
    if pd.api.types.is_complex_dtype(dtype):
        return "complex"
    return str(dtype)


def feature_types(frame: pd.DataFrame) -> dict[str, str]:
    """Each column's :func:`feature_type`, by column name (as ``str``), in column order.

    Only object columns are looked at value by value; the others are typed by their dtype.
    """
    is_object = pd.api.types.is_object_dtype
    return {
        str(name): feature_type(frame.iloc[:, i]) if is_object(dtype) else _dtype_type(dtype)
        for i, (name, dtype) in enumerate(zip(frame.columns, frame.dtypes))
    }


def check_weights(weights: Any, n_rows: int, where: str) -> np.ndarray:
    """``weights`` as a float64 vector of ``n_rows`` finite, non-negative values, not all zero.

    Raises :class:`DataError` starting with ``where`` (e.g. ``"Learner 'classif.mlp'"``)
    otherwise, naming the offending values' positions.

    Example:
        >>> from mlrpy.columns import check_weights
        >>> check_weights([1, 2, 0], 3, "Task 'toy'")
        array([1., 2., 0.])
        >>> check_weights([1, -2, 0], 3, "Task 'toy'")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mlrpy.errors.DataError: Task 'toy': sample weights must not be negative; ... at positions [1]
    """
    if isinstance(weights, (pd.Series, pd.DataFrame)):
        weights = weights.to_numpy()
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"{where}: sample weights must be numbers: {err}") from None
    if w.ndim != 1 or len(w) != n_rows:
        raise DataError(
            f"{where}: sample weights must be a 1-D sequence with one weight per row "
            f"({n_rows}), got shape {w.shape}"
        )
    for bad, what in ((np.isnan(w), "missing (NaN)"), (np.isinf(w), "infinite"), (w < 0, "negative")):
        if bad.any():
            positions = np.flatnonzero(bad)
            shown = positions[:5].tolist()
            more = f" (and {len(positions) - 5} more)" if len(positions) > 5 else ""
            verb = "be negative" if what == "negative" else f"be {what}"
            raise DataError(
                f"{where}: sample weights must not {verb}; got {w[positions[:5]].tolist()} "
                f"at positions {shown}{more}"
            )
    if n_rows and not w.any():
        raise DataError(f"{where}: all sample weights are zero; at least one weight must be positive")
    return w


def check_weight_column(column: pd.Series, where: str, name: str) -> None:
    """A weight column holds numbers that :func:`check_weights` accepts."""
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise DataError(f"{where}: weight column '{name}' must be numeric, it has dtype {column.dtype}")
    check_weights(column, len(column), f"{where}, weight column '{name}'")


def check_groups(groups: pd.DataFrame, where: str) -> None:
    """Group columns (one group per distinct combination of values) must hold at least two
    groups, and no missing values, for a split to keep each group on one side."""
    names = ", ".join(f"'{c}'" for c in groups.columns)
    what = f"group column {names}" if groups.shape[1] == 1 else f"group columns {names}"
    missing = groups.isna().any(axis=1)
    if missing.any():
        raise DataError(f"{where}: {what} {'has' if groups.shape[1] == 1 else 'have'} "
                        f"{int(missing.sum())} rows with missing values")
    distinct = groups.drop_duplicates()
    if len(distinct) < 2:
        value = distinct.iloc[0].tolist()
        shown = repr(value[0]) if len(value) == 1 else repr(tuple(value))
        raise DataError(
            f"{where}: {what} {'has' if groups.shape[1] == 1 else 'have'} a single group "
            f"({shown}); rows of one group are never split, so grouping needs at least 2 groups"
        )
