"""The task base class: a DataFrame and the roles of its columns (mlr3's ``col_roles``).

:mod:`mlrpy.tasks` builds the task types on it (``TaskClassif``, ``TaskRegr``) and re-exports
:class:`Task`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlrpy.columns import check_groups, check_weight_column, feature_types
from mlrpy.dictionary import suggest
from mlrpy.errors import DataError, UnknownKeyError

__all__ = ["COL_ROLES", "Task"]


#: mlr3's column roles; a column may hold several (e.g. ``feature`` and ``stratum``)
COL_ROLES = ("feature", "target", "weight", "group", "stratum", "name")
_SINGLE_COLUMN_ROLES = ("target", "weight", "name")


class Task:
    """A supervised learning task over a pandas DataFrame.

    Every column has roles (mlr3's ``col_roles``): ``feature``, ``target``, ``weight`` (sample
    weights for training), ``group`` (rows of one group stay on one side of every resampling
    split), ``stratum`` (resamplings stratify on it) and ``name`` (row names). A column
    without any role is not used.

    Args:
        id: the task's name.
        backend: the data, features and target in one DataFrame.
        target: name of the target column; every other column starts as a feature.
        label: a human readable description.

    Use :class:`TaskClassif` or :class:`TaskRegr` (or :func:`tsk`) rather than this base.
    """

    task_type: str = ""

    def __init__(self, id: str, backend: pd.DataFrame, target: str, label: str = "") -> None:
        if not isinstance(backend, pd.DataFrame):
            raise DataError(
                f"Task '{id}': backend must be a pandas DataFrame, got {type(backend).__name__}"
            )
        if target not in backend.columns:
            raise UnknownKeyError(
                f"Task '{id}': target column '{target}' not in the data."
                f"{suggest(str(target), map(str, backend.columns))} "
                f"Columns: {', '.join(map(str, backend.columns))}"
            )
        if len(backend) == 0:
            raise DataError(f"Task '{id}': the data has no rows")
        if not backend.index.is_unique:
            raise DataError(f"Task '{id}': the DataFrame index (row ids) must be unique")
        self.id = id
        self.label = label
        self.backend = backend
        self._roles: dict[str, list[str]] = {role: [] for role in COL_ROLES}
        self._roles["feature"] = [str(c) for c in backend.columns if c != target]
        self._roles["target"] = [target]
        self._row_ids = list(backend.index)
        self.internal_valid_task: Task | None = None
        self._check_target_column(target)

    def _check_target_column(self, target: str) -> None:
        y = self.backend[target]
        if y.isna().any():
            n = int(y.isna().sum())
            raise DataError(f"Task '{self.id}': target '{target}' has {n} missing (NaN) values")
        self._check_target(y)

    def _check_target(self, y: pd.Series) -> None:
        pass

    # -- columns and their roles -------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        """The feature columns, in order."""
        return list(self._roles["feature"])

    @property
    def target_names(self) -> list[str]:
        return list(self._roles["target"])

    @property
    def target(self) -> str:
        return self._roles["target"][0]

    @property
    def col_roles(self) -> dict[str, list[str]]:
        """Role → the columns that have it (a copy).

        Assigning a dict gives each role it names exactly those columns and leaves the other
        roles as they are (mlr3's ``task$col_roles$group = "site"``); a column keeps its
        other roles. :meth:`set_col_roles` instead moves columns out of their other roles.

        Example:
            >>> from mlrpy import tsk
            >>> task = tsk("iris")
            >>> task.col_roles["target"]
            ['class']
            >>> task.col_roles = {"stratum": ["petal_width"]}
            >>> task.col_roles["stratum"], "petal_width" in task.feature_names
            (['petal_width'], True)
        """
        return {role: list(cols) for role, cols in self._roles.items()}

    @col_roles.setter
    def col_roles(self, roles: dict[str, Sequence[str]]) -> None:
        new = self.col_roles
        columns = [str(c) for c in self.backend.columns]
        for role, cols in roles.items():
            if role not in COL_ROLES:
                raise UnknownKeyError(
                    f"Task '{self.id}': unknown column role '{role}'.{suggest(role, COL_ROLES)} "
                    f"Roles: {', '.join(COL_ROLES)}"
                )
            cols = [cols] if isinstance(cols, str) else [str(c) for c in cols]
            for c in cols:
                if c not in columns:
                    raise UnknownKeyError(f"Task '{self.id}': unknown column '{c}'.{suggest(c, columns)}")
            new[role] = list(dict.fromkeys(cols))
        self._check_roles(new)
        self._roles = new

    def set_col_roles(self, cols: str | Sequence[str], roles: str | Sequence[str]) -> Task:
        """Give ``cols`` exactly the roles ``roles`` (in place, as in mlr3); returns the task.

        The columns lose every other role: ``set_col_roles("w", "weight")`` turns the feature
        ``w`` into the weight column. ``roles=[]`` leaves a column unused. At most one column
        is the target (a new target replaces the old one, which is then unused unless it has
        other roles), the weight or the row names; a weight column must hold non-negative
        numbers, not all zero. Several group columns form one group per distinct combination
        of their values; there must be at least two groups.

        Example:
            >>> import pandas as pd
            >>> from mlrpy import as_task_regr
            >>> df = pd.DataFrame({"x": [1.0, 2, 3, 4], "w": [1, 2, 1, 2], "y": [0.5, 1, 2, 3]})
            >>> task = as_task_regr(df, target="y").set_col_roles("w", ["weight"])
            >>> task.feature_names, task.col_roles["weight"]
            (['x'], ['w'])
        """
        cols = [cols] if isinstance(cols, str) else [str(c) for c in cols]
        roles = [roles] if isinstance(roles, str) else list(roles)
        columns = [str(c) for c in self.backend.columns]
        for c in cols:
            if c not in columns:
                raise UnknownKeyError(f"Task '{self.id}': unknown column '{c}'.{suggest(c, columns)}")
        for role in roles:
            if role not in COL_ROLES:
                raise UnknownKeyError(
                    f"Task '{self.id}': unknown column role '{role}'.{suggest(role, COL_ROLES)} "
                    f"Roles: {', '.join(COL_ROLES)}"
                )
        new = {role: [c for c in have if c not in cols] for role, have in self._roles.items()}
        if "target" in roles:  # a new target replaces the old one, which keeps its other roles
            new["target"] = []
        for role in dict.fromkeys(roles):
            new[role] += list(dict.fromkeys(cols))
        self._check_roles(new)
        self._roles = new
        return self

    def _check_roles(self, roles: dict[str, list[str]]) -> None:
        for role in _SINGLE_COLUMN_ROLES:
            if len(roles[role]) > 1:
                raise DataError(
                    f"Task '{self.id}': at most one column can have the role '{role}', got {roles[role]}"
                )
        if not roles["target"]:
            raise DataError(f"Task '{self.id}': the task needs a target column")
        target = roles["target"][0]
        if target in roles["feature"]:
            raise DataError(f"Task '{self.id}': column '{target}' cannot be both the target and a feature")
        if target != self.target:
            self._check_target_column(target)
        for w in roles["weight"]:
            check_weight_column(self.backend[w], f"Task '{self.id}'", w)
        if roles["group"]:
            check_groups(self.backend[roles["group"]], f"Task '{self.id}'")

    @property
    def feature_types(self) -> pd.DataFrame:
        """Each feature's type in mlr3's names (columns ``id``, ``type``); see :mod:`mlrpy.columns`.

        Example:
            >>> from mlrpy import tsk
            >>> tsk("iris").feature_types.head(2)
                         id     type
            0  sepal_length  numeric
            1   sepal_width  numeric
        """
        names = self.feature_names
        types = feature_types(self.backend[names]) if names else {}
        return pd.DataFrame({"id": names, "type": [types[n] for n in names]})

    def _role_frame(self, role: str, value_name: str) -> pd.DataFrame | None:
        cols = self._roles[role]
        if not cols:
            return None
        values = self.backend.loc[self._row_ids, cols[0]].to_numpy()
        return pd.DataFrame({"row_id": self._row_ids, value_name: values})

    @property
    def weights(self) -> pd.DataFrame | None:
        """``row_id`` and ``weight`` of the active rows, or ``None`` without a weight column."""
        return self._role_frame("weight", "weight")

    @property
    def groups(self) -> pd.DataFrame | None:
        """``row_id`` and ``group`` of the active rows, or ``None`` without a group column."""
        return self._role_frame("group", "group")

    @property
    def row_names(self) -> pd.DataFrame | None:
        """``row_id`` and ``row_name`` of the active rows, or ``None`` without a name column."""
        return self._role_frame("name", "row_name")

    def weight_values(self, rows: Sequence[Any] | None = None) -> np.ndarray | None:
        """The sample weights of ``rows`` (default: the active rows), ``None`` without weights."""
        cols = self._roles["weight"]
        if not cols:
            return None
        return self.backend.loc[self._check_rows(rows), cols[0]].to_numpy(dtype=np.float64)

    # -- rows ---------------------------------------------------------------------------------
    @property
    def row_ids(self) -> list[Any]:
        """The ids of the rows currently in the task."""
        return list(self._row_ids)

    @property
    def nrow(self) -> int:
        return len(self._row_ids)

    @property
    def ncol(self) -> int:
        """Number of active columns: features plus target."""
        return len(self._roles["feature"]) + 1

    def _check_rows(self, rows: Sequence[Any] | None) -> list[Any]:
        if rows is None:
            return self.row_ids
        rows = list(rows)
        unknown = pd.Index(rows).difference(pd.Index(self._row_ids))
        if len(unknown):
            raise UnknownKeyError(
                f"Task '{self.id}': unknown row ids {list(unknown[:5])}"
                f"{' ...' if len(unknown) > 5 else ''} (the task has {self.nrow} rows)"
            )
        return rows

    def data(self, rows: Sequence[Any] | None = None, cols: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows and columns asked for (default: all active rows, features and target).

        ``cols`` may name any column that has a role (weights, groups, ... included).
        """
        rows = self._check_rows(rows)
        if cols is None:
            cols = [*self._roles["feature"], self.target]
        else:
            cols = list(cols)
            known = [c for role in COL_ROLES for c in self._roles[role]]
            for c in cols:
                if c not in known:
                    raise UnknownKeyError(
                        f"Task '{self.id}': unknown column '{c}'.{suggest(c, known)}"
                    )
        return self.backend.loc[rows, cols]

    def truth(self, rows: Sequence[Any] | None = None) -> np.ndarray:
        """The target values of ``rows`` as a numpy array."""
        return self.data(rows, [self.target])[self.target].to_numpy()

    def filter(self, rows: Sequence[Any]) -> Task:
        """Keep only ``rows`` (in place, as in mlr3); returns the task."""
        self._row_ids = self._check_rows(rows)
        return self

    def select(self, cols: Sequence[str]) -> Task:
        """Keep only the feature columns ``cols`` (in place); returns the task."""
        cols = list(cols)
        for c in cols:
            if c not in self._roles["feature"]:
                raise UnknownKeyError(
                    f"Task '{self.id}': unknown feature '{c}'.{suggest(c, self._roles['feature'])}"
                )
        self._roles["feature"] = cols
        return self

    def clone(self) -> Task:
        """A copy sharing the (read-only) backend but with its own rows and column roles."""
        new = copy.copy(self)
        new._row_ids = list(self._row_ids)
        new._roles = self.col_roles
        return new

    def __repr__(self) -> str:
        features = self._roles["feature"]
        lines = [
            f"<{type(self).__name__}:{self.id}> ({self.nrow} x {self.ncol}): {self.label}",
            f"* Target: {self.target}",
            f"* Features ({len(features)}): {', '.join(features[:10])}"
            f"{', ...' if len(features) > 10 else ''}",
        ]
        lines += [f"* {role.capitalize()}: {', '.join(cols)}" for role, cols in self._roles.items()
                  if role not in ("feature", "target") and cols]
        return "\n".join(lines)
