"""Tables with categorical columns → the network's input tensor.

:class:`TableEncoder` learns, at ``fit``, the levels of every ``factor`` and ``ordered``
column, and turns a table into the float32 layout of
:class:`~mlrpy.learners.features.FeatureInfo`: the numeric columns (``numeric``, ``integer``,
``logical``) first, in their order, then one column of level codes per categorical column.

Codes: ``0`` is "unknown", a level not seen in training (it is encoded so, with a
``UserWarning`` naming the column and the levels); ``1..k`` are the training levels, in the
order of a ``category`` dtype's categories, otherwise sorted (in order of appearance when
they cannot be sorted); ``k + 1`` is "missing" when the training column had missing values:
a missing categorical value is a level of its own. A missing numeric value is a
:class:`~mlrpy.errors.DataError`.

Only tables with a categorical column go through the encoder; a purely numeric table keeps
the direct conversion to float32. The encoder's state is plain data (:meth:`to_dict`), kept
in ``learner.model.encoding``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlrpy.columns import CATEGORICAL_TYPES
from mlrpy.errors import DataError
from mlrpy.learners.features import FeatureInfo

__all__ = ["TableEncoder"]

_SHOWN = 10  # levels listed in a warning


@dataclass
class TableEncoder:
    """The levels of a table's categorical columns, and the conversion to the input tensor.

    Attributes:
        columns: the training columns, in the table's order.
        types: their feature types (mlr3's names).
        levels: categorical column → its training levels; level ``i`` has code ``i + 1``.
        missing_level: the categorical columns that had missing values in training; their
            missing values get the code after the last level.

    Example:
        >>> import pandas as pd
        >>> from mlrpy.learners.encoding import TableEncoder
        >>> train = pd.DataFrame({"colour": ["red", "blue", None], "size": [1.5, 2.0, 0.5]})
        >>> enc = TableEncoder.fit(train, {"colour": "factor", "size": "numeric"})
        >>> enc.levels, enc.feature_info().cardinalities
        ({'colour': ['blue', 'red']}, [4])
        >>> enc.transform(train, "demo")  # size first, then colour's codes
        array([[1.5, 2. ],
               [2. , 1. ],
               [0.5, 3. ]], dtype=float32)
    """

    columns: list[str]
    types: list[str]
    levels: dict[str, list[Any]] = field(default_factory=dict)
    missing_level: list[str] = field(default_factory=list)

    @classmethod
    def fit(cls, frame: pd.DataFrame, types: dict[str, str], learner_id: str = "") -> TableEncoder:
        """Learn the levels of the categorical columns of ``frame`` (types by column name)."""
        columns = [str(c) for c in frame.columns]
        encoder = cls(columns, [types[c] for c in columns])
        for position, name in encoder._categorical():
            column = frame.iloc[:, position]
            missing = column.isna()
            if isinstance(column.dtype, pd.CategoricalDtype):
                # observed levels only, in the dtype's order: an unused category is unknown
                levels = column.cat.remove_unused_categories().cat.categories.tolist()
            else:
                try:
                    distinct = pd.unique(column[~missing]).tolist()
                except TypeError as err:  # unhashable values (dicts, lists)
                    raise DataError(
                        f"Learner '{learner_id}': column '{name}' holds values that cannot be "
                        f"categorical levels: {err}"
                    ) from None
                try:
                    levels = sorted(distinct)
                except TypeError:  # e.g. numbers and strings: keep the order of appearance
                    levels = distinct
            encoder.levels[name] = levels
            if missing.any():
                encoder.missing_level.append(name)
        return encoder

    def _categorical(self) -> list[tuple[int, str]]:
        """(position, name) of the categorical columns."""
        return [(i, c) for i, c in enumerate(self.columns) if self.types[i] in CATEGORICAL_TYPES]

    def _numeric(self) -> list[tuple[int, str]]:
        """(position, name) of the numeric, integer and logical columns."""
        return [(i, c) for i, c in enumerate(self.columns) if self.types[i] not in CATEGORICAL_TYPES]

    def feature_info(self) -> FeatureInfo:
        """The layout :meth:`transform` produces, with each categorical column's number of
        codes (unknown, the levels and, if learned, missing)."""
        categorical = [c for _, c in self._categorical()]
        return FeatureInfo(
            numeric=[c for _, c in self._numeric()],
            categorical=categorical,
            cardinalities=[1 + len(self.levels[c]) + (c in self.missing_level) for c in categorical],
        )

    def transform(self, frame: pd.DataFrame, learner_id: str) -> np.ndarray:
        """``frame`` (the training columns, by position) as the float32 input tensor.

        Raises :class:`DataError` for a missing, infinite or non-numeric value in a numeric
        column; warns about levels not seen in training, which get code 0.
        """
        numeric, categorical = self._numeric(), self._categorical()
        out = np.empty((len(frame), len(numeric) + len(categorical)), dtype=np.float32)
        for j, (position, name) in enumerate(numeric):
            try:
                out[:, j] = frame.iloc[:, position].to_numpy(dtype=np.float32, na_value=np.nan)
            except (TypeError, ValueError) as err:
                raise DataError(
                    f"Learner '{learner_id}': column '{name}' was {self.types[position]} in "
                    f"training but holds values that are not numbers: {err}"
                ) from None
        _check_finite(out[:, : len(numeric)], [c for _, c in numeric], learner_id)
        for j, (position, name) in enumerate(categorical, start=len(numeric)):
            out[:, j] = self._codes(frame.iloc[:, position], name, learner_id)
        return out

    def _codes(self, column: pd.Series, name: str, learner_id: str) -> np.ndarray:
        levels = self.levels[name]
        try:
            codes = pd.Index(levels, dtype=object).get_indexer(column) + 1
        except TypeError as err:
            raise DataError(
                f"Learner '{learner_id}': column '{name}' holds values that cannot be "
                f"categorical levels: {err}"
            ) from None
        missing = column.isna().to_numpy()
        if name in self.missing_level:
            codes[missing] = len(levels) + 1
        unseen = codes == 0
        if unseen.any():
            _warn_unseen(column[unseen], name, learner_id)
        return codes

    def to_dict(self) -> dict[str, Any]:
        """The encoder as plain data (lists, dicts, strings and the levels' own values)."""
        return {
            "columns": list(self.columns),
            "types": list(self.types),
            "levels": {c: list(v) for c, v in self.levels.items()},
            "missing_level": list(self.missing_level),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> TableEncoder:
        """The encoder :meth:`to_dict` described."""
        return cls(
            list(state["columns"]),
            list(state["types"]),
            {c: list(v) for c, v in state["levels"].items()},
            list(state["missing_level"]),
        )


def _check_finite(values: np.ndarray, names: list[str], learner_id: str) -> None:
    if values.size == 0 or np.isfinite(values).all():
        return
    for what, bad in (("missing values (NaN)", np.isnan(values)), ("infinite values", np.isinf(values))):
        columns = [names[j] for j in np.flatnonzero(bad.any(axis=0))]
        if columns:
            raise DataError(
                f"Learner '{learner_id}': numeric columns {columns} contain {what}; impute or "
                f"drop them first (only categorical columns may have missing values)"
            )


def _warn_unseen(values: pd.Series, name: str, learner_id: str) -> None:
    missing = values.isna()
    shown = pd.unique(values[~missing]).tolist()
    if missing.any():
        shown.append("<missing>")
    listed = ", ".join(map(repr, shown[:_SHOWN]))
    if len(shown) > _SHOWN:
        listed += f" and {len(shown) - _SHOWN} more"
    warnings.warn(
        f"Learner '{learner_id}': column '{name}' has levels not seen in training: {listed} "
        f"({len(values)} row{'s' * (len(values) > 1)}); they are encoded as unknown",
        UserWarning,
        stacklevel=6,
    )
