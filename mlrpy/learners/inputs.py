"""Checks of the data given to ``fit`` / ``predict``: shapes, dtypes, feature types, NaN,
column names.

Two paths lead to the network's float32 input. A purely numeric table (a NumPy array of
numbers, or a DataFrame whose columns are all numeric, integer or logical) goes through
scikit-learn's ``validate_data``, which records ``n_features_in_`` and ``feature_names_in_``
and converts to float32 in one step. A table with categorical columns (a DataFrame with a
``factor`` or ``ordered`` column, or a NumPy array holding strings) has its names checked by
``validate_data`` and its values encoded by a :class:`~mlrpy.learners.encoding.TableEncoder`.
``ValueError``s become :class:`~mlrpy.errors.DataError`s naming the learner.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import validate_data

from mlrpy.columns import CATEGORICAL_TYPES, check_weights, feature_types
from mlrpy.errors import DataError
from mlrpy.lazy.frames import frame_dataset
from mlrpy.learners.encoding import TableEncoder
from mlrpy.learners.runtime import feature_names
from mlrpy.tasks import TaskClassif, TaskRegr

__all__ = [
    "check_feature_types",
    "check_features",
    "check_features_target",
    "check_target",
    "check_training_data",
    "fit_encoder",
    "frame_tasks",
    "holdout_positions",
    "keep_label_types",
    "lazy_dataset",
    "sample_weights",
    "scalar_kind",
]

_ARRAY_KINDS = {"f": "numeric", "i": "integer", "u": "integer", "b": "logical"}


def _writable(X: np.ndarray) -> np.ndarray:
    # torch.from_numpy shares memory and needs a writable array; pandas' copy-on-write
    # hands out read-only views, which are copied once here
    return X if X.flags.writeable else X.copy()


def _refuse_sparse(learner: Any, X: Any) -> None:
    if sparse.issparse(X):
        raise DataError(
            f"Learner '{learner.id}': sparse input is not supported; pass a dense array "
            f"(e.g. X.toarray()) or a DataFrame"
        )


def check_feature_types(learner: Any, types: dict[str, str]) -> None:
    """Raise :class:`DataError` naming every column whose type the learner does not accept.

    Example:
        >>> from mlrpy import lrn
        >>> from mlrpy.learners.inputs import check_feature_types
        >>> check_feature_types(lrn("classif.mlp"), {"a": "numeric", "when": "POSIXct"})
        ... # doctest: +NORMALIZE_WHITESPACE
        Traceback (most recent call last):
        ...
        mlrpy.errors.DataError: Learner 'classif.mlp' does not accept the type of column
        'when' (POSIXct); it accepts numeric, integer, logical, factor, ordered
    """
    accepted = learner.feature_types
    refused = {name: kind for name, kind in types.items() if kind not in accepted}
    if refused:
        listed = ", ".join(f"'{name}' ({kind})" for name, kind in refused.items())
        raise DataError(
            f"Learner '{learner.id}' does not accept the type of column{'s' * (len(refused) > 1)} "
            f"{listed}; it accepts {', '.join(accepted)}"
        )


def lazy_dataset(learner: Any, X: pd.DataFrame, ingress: Any) -> Any:
    """A table with lazy tensor columns as a Dataset (see :mod:`mlrpy.lazy.frames`), once the
    learner accepts its columns' types: tabular learners refuse them by name."""
    check_feature_types(learner, feature_types(X))
    return frame_dataset(X, ingress, f"Learner '{learner.id}'")


def _string_columns(X: np.ndarray) -> list[int]:
    """Columns of a 2-D object or string array that hold a string."""
    if X.dtype.kind in "US":
        return list(range(X.shape[1]))
    return [j for j in range(X.shape[1]) if any(isinstance(v, str) for v in X[:, j])]


def _categorical_frame(learner: Any, X: Any) -> tuple[pd.DataFrame, dict[str, str]] | None:
    """``X`` as a DataFrame with its feature types when it has categorical columns, else
    ``None`` (after checking the types a numeric table has)."""
    if isinstance(X, np.ndarray) and X.dtype.kind in _ARRAY_KINDS:  # the common case: no scan
        check_feature_types(learner, {"X": _ARRAY_KINDS[X.dtype.kind]})
        return None
    if isinstance(X, pd.DataFrame):
        types = feature_types(X)
        check_feature_types(learner, types)
        return (X, types) if any(t in CATEGORICAL_TYPES for t in types.values()) else None
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "OUS":
        strings = _string_columns(X)
        if strings:
            frame = pd.DataFrame(X.astype(object), columns=[f"x{j}" for j in range(X.shape[1])])
            types = feature_types(frame)
            types.update({f"x{j}": "factor" for j in strings})
            check_feature_types(learner, types)
            return frame, types
    return None


def _checked_frame(learner: Any, X: Any, reset: bool) -> pd.DataFrame:
    """``X`` as a DataFrame, its width and names checked (and recorded if ``reset``)."""
    try:
        validate_data(learner, X, reset=reset, skip_check_array=True)
    except ValueError as err:
        raise DataError(f"Learner '{learner.id}': {err}") from err
    if isinstance(X, pd.DataFrame):
        return X
    X = np.asarray(X, dtype=object)
    if X.ndim != 2:
        raise DataError(f"Learner '{learner.id}': expected a 2-D table, got an array of shape {X.shape}")
    return pd.DataFrame(X)


def fit_encoder(learner: Any, X: Any) -> TableEncoder | None:
    """The encoder of a training table with categorical columns; ``None`` for a numeric one
    (which takes the direct path). Checks the feature types against the learner's."""
    _refuse_sparse(learner, X)
    found = _categorical_frame(learner, X)
    if found is None:
        return None
    frame, types = found
    names = [str(c) for c in frame.columns]
    return TableEncoder.fit(frame, dict(zip(names, types.values())), learner.id)


def check_features(learner: Any, X: Any, reset: bool, encoder: TableEncoder | None = None) -> np.ndarray:
    """``X`` as a writable float32 array in the input layout; ``reset=True`` records its
    shape and column names. ``encoder`` (from :func:`fit_encoder`) encodes categorical
    columns; without one, the table must be numeric."""
    _refuse_sparse(learner, X)
    if encoder is not None:
        return encoder.transform(_checked_frame(learner, X, reset), learner.id)
    if isinstance(X, pd.DataFrame) and not reset:
        check_feature_types(learner, feature_types(X))
    try:
        return _writable(validate_data(learner, X, reset=reset, dtype=np.float32))
    except ValueError as err:
        raise DataError(f"Learner '{learner.id}': {_name_columns(err, X)}") from err


def _name_columns(err: ValueError, X: Any) -> str:
    """sklearn's message, with the DataFrame columns that hold NaN when that is the error."""
    message = str(err)
    if isinstance(X, pd.DataFrame) and "NaN" in message:
        columns = [str(c) for c in X.columns[X.isna().any().to_numpy()]]
        if columns:
            message += f" Columns with missing values: {columns}"
    return message


def check_features_target(
    learner: Any, X: Any, y: Any, reset: bool = True, encoder: TableEncoder | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``X`` as in :func:`check_features`, ``y`` as a 1-D array without missing values."""
    _refuse_sparse(learner, X)
    n_x = X.shape[0] if hasattr(X, "shape") else len(X) if hasattr(X, "__len__") else None
    y = check_target(learner, y, n_x)
    if encoder is not None:
        if y.ndim != 1:
            raise DataError(f"Learner '{learner.id}': y must be 1-dimensional, got shape {y.shape}")
        return check_features(learner, X, reset, encoder), y
    try:
        if _valid_as_given(X, y):
            # only the width and column names are left to record (or compare with the fit's)
            validate_data(learner, X, y, reset=reset, skip_check_array=True)
            return _writable(X), y
        X, y = validate_data(learner, X, y, reset=reset, dtype=np.float32, y_numeric=False)
    except ValueError as err:
        raise DataError(f"Learner '{learner.id}': {_name_columns(err, X)}") from err
    return _writable(X), y


def _valid_as_given(X: Any, y: np.ndarray) -> bool:
    """Whether ``validate_data`` would return ``X`` and ``y`` unchanged: a 2-D float32 array
    with rows and columns and no NaN or infinity, and a 1-D integer, boolean or string ``y``
    of the same length (which cannot hold NaN).

    The common ``fit(X, y)`` with NumPy arrays then skips scikit-learn's array checks, a
    fixed cost of every fit; their one expensive part, the finite check, is done here (as
    ``isfinite().all()``, which takes about a third of the time of a sum of ``X``). Data with
    NaN or infinity takes the full checks, for their messages.
    """
    return (
        type(X) is np.ndarray
        and X.dtype == np.float32
        and X.ndim == 2
        and X.shape[0] > 0
        and X.shape[1] > 0
        and type(y) is np.ndarray
        and y.ndim == 1
        and len(y) == len(X)
        and y.dtype.kind in "biuU"
        and bool(np.isfinite(X).all())
    )


def check_target(learner: Any, y: Any, n_rows: int | None) -> np.ndarray:
    """``y`` as an array with ``n_rows`` entries (when given) and no missing values; a
    column vector is raveled with scikit-learn's warning."""
    if y is None:
        raise DataError(f"Learner '{learner.id}' requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is raveled.",
            DataConversionWarning,
            stacklevel=5,
        )
        y = y.ravel()
    if n_rows is not None and y.ndim >= 1 and len(y) != n_rows:
        raise DataError(
            f"Learner '{learner.id}': X and y have different numbers of rows: {n_rows} vs {len(y)}"
        )
    if _has_missing(y):
        raise DataError(f"Learner '{learner.id}': y contains missing values (NaN)")
    return y


def _has_missing(y: np.ndarray) -> bool:
    """Whether ``y`` holds a missing value as pandas sees it (NaN, None, NaT).

    Integer, boolean and string arrays cannot hold one, and a float array only NaN; those
    are answered without building a ``pandas.Series`` (~40 µs of every fit).
    """
    kind = y.dtype.kind
    if y.ndim and kind in "biuUS":
        return False
    if y.ndim and kind == "f":
        return bool(np.isnan(y).any())
    return bool(pd.isna(pd.Series(y.ravel()) if y.ndim else pd.Series([y])).any())


def sample_weights(learner: Any, sample_weight: Any, n_rows: int) -> np.ndarray | None:
    """Valid weights as float64, or ``None`` when there are none or all are 1 (the unweighted
    loss is then the same, and cheaper)."""
    if sample_weight is None:
        return None
    weights = check_weights(sample_weight, n_rows, f"Learner '{learner.id}'")
    return None if bool((weights == 1.0).all()) else weights


def check_training_data(
    learner: Any, X: Any, y: Any, sample_weight: Any, previous: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, TableEncoder | None]:
    """``fit``'s checks: ``X`` in the input layout, ``y``, the weights and the encoder (learned
    from ``X``, or the one of ``previous``, a model that ``warm_start`` continues)."""
    if previous is None:
        encoder = fit_encoder(learner, X)
    else:  # a continued model keeps its input layout
        encoder = None if previous.encoding is None else TableEncoder.from_dict(previous.encoding)
    X_arr, y_arr = check_features_target(
        learner, X, keep_label_types(y), reset=previous is None, encoder=encoder
    )
    if len(X_arr) == 0:
        raise DataError(f"Learner '{learner.id}': the training set is empty")
    return X_arr, y_arr, sample_weights(learner, sample_weight, len(X_arr)), encoder


def scalar_kind(value: Any) -> str:
    """``"str"``, ``"bool"``, ``"number"`` or the type's name: the kinds labels must not mix."""
    if isinstance(value, (str, np.str_)):
        return "str"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    return "number" if isinstance(value, numbers.Number) else type(value).__name__


def keep_label_types(y: Any) -> Any:
    """``y``, except that a list mixing kinds of scalars becomes an object array.

    NumPy would silently make ``[1, "a"]`` the strings ``["1", "a"]`` and ``[True, 2]`` the
    numbers ``[1, 2]``; as an object array the labels keep their types, so the classifier's
    label check can refuse the mix.
    """
    scalars = isinstance(y, (list, tuple)) and all(np.ndim(v) == 0 for v in y)
    if scalars and len({scalar_kind(v) for v in y}) > 1:
        return np.asarray(y, dtype=object)
    return y


def frame_tasks(
    learner: Any,
    X: Any,
    y: Any,
    train_positions: np.ndarray | None,
    valid_positions: np.ndarray | None,
    validation_data: Any,
) -> tuple[Any, Any]:
    """The tasks of ``fit(X, y)`` that callbacks see, for a table with categorical columns:
    they hold the columns as given (``runtime.array_tasks`` builds them from the float
    input of a numeric table). ``X`` and ``y`` are all rows, before a held-out split at
    ``train_positions`` / ``valid_positions``."""
    names = feature_names(learner)
    parts = [X] if validation_data is None else [X, validation_data[0]]
    frames = [
        part.set_axis(names, axis=1).reset_index(drop=True)
        if isinstance(part, pd.DataFrame)
        else pd.DataFrame(np.asarray(part, dtype=object), columns=names)
        for part in parts
    ]
    data = pd.concat(frames, ignore_index=True)
    labels = [np.asarray(y)]
    if validation_data is not None:
        y_valid = np.asarray(validation_data[1]).ravel()
        labels.append(y_valid.astype(np.float64) if learner.task_type == "regr" else y_valid)
        train_positions, valid_positions = np.arange(len(frames[0])), np.arange(len(frames[0]), len(data))
    target = next(t for t in ("target", "y", ".target") if t not in names)
    data[target] = np.concatenate(labels)
    task = (TaskClassif if learner.task_type == "classif" else TaskRegr)("train", data, target=target)
    if train_positions is None or valid_positions is None:
        return task, None
    return task.clone().filter(train_positions.tolist()), task.clone().filter(valid_positions.tolist())


def holdout_positions(learner: Any, y: torch.Tensor, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the training and validation parts of ``validate=<fraction>``
    (stratified by class when every class has enough rows)."""
    positions = np.arange(len(y))
    stratify = y.numpy() if learner.task_type == "classif" else None
    try:
        train, valid = train_test_split(
            positions, test_size=learner.validate, random_state=seed, stratify=stratify
        )
    except ValueError:  # too few rows per class to stratify
        train, valid = train_test_split(positions, test_size=learner.validate, random_state=seed)
    return train, valid
