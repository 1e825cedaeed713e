"""Checks of the data given to ``fit`` / ``predict``: shapes, dtypes, NaN, column names.

scikit-learn's ``validate_data`` does the work and records ``n_features_in_`` and
``feature_names_in_``; its ``ValueError``s become :class:`~mlrpy.errors.DataError`s naming
the learner.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import validate_data

from mlrpy.errors import DataError

__all__ = ["check_features", "check_features_target"]


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


def check_features(learner: Any, X: Any, reset: bool) -> np.ndarray:
    """``X`` as a writable float32 array; ``reset=True`` records its shape and column names."""
    _refuse_sparse(learner, X)
    try:
        return _writable(validate_data(learner, X, reset=reset, dtype=np.float32))
    except ValueError as err:
        raise DataError(f"Learner '{learner.id}': {err}") from err


def check_features_target(learner: Any, X: Any, y: Any, reset: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``X`` as in :func:`check_features`, ``y`` as a 1-D array without missing values."""
    if y is None:
        raise DataError(f"Learner '{learner.id}' requires y to be passed, but the target y is None")
    _refuse_sparse(learner, X)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is raveled.",
            DataConversionWarning,
            stacklevel=4,
        )
        y = y.ravel()
    n_x = X.shape[0] if hasattr(X, "shape") else len(X) if hasattr(X, "__len__") else None
    if n_x is not None and y.ndim >= 1 and len(y) != n_x:
        raise DataError(
            f"Learner '{learner.id}': X and y have different numbers of rows: {n_x} vs {len(y)}"
        )
    if pd.isna(pd.Series(y.ravel()) if y.ndim else pd.Series([y])).any():
        raise DataError(f"Learner '{learner.id}': y contains missing values (NaN)")
    try:
        X, y = validate_data(learner, X, y, reset=reset, dtype=np.float32, y_numeric=False)
    except ValueError as err:
        raise DataError(f"Learner '{learner.id}': {err}") from err
    return _writable(X), y
