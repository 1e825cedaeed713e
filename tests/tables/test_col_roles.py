"""Column roles (mlr3's col_roles), row names, weights and the positive class of a task."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import DataError, UnknownKeyError, as_task_classif, as_task_regr, tsk
from mlrpy.tasks import COL_ROLES


def _frame(n: int = 8) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": np.arange(n, dtype=float),
            "z": np.arange(n, dtype=float) ** 2,
            "w": np.arange(n) % 3 + 1.0,
            "g": np.arange(n) // 2,
            "id": [f"row{i}" for i in range(n)],
            "y": ["a", "b"] * (n // 2),
        }
    )


def test_roles_start_with_features_and_target():
    task = as_task_classif(_frame(), target="y")
    assert task.col_roles == {
        "feature": ["x", "z", "w", "g", "id"], "target": ["y"], "weight": [], "group": [],
        "stratum": [], "name": [],
    }
    assert set(task.col_roles) == set(COL_ROLES)


def test_set_col_roles_moves_columns_out_of_their_other_roles():
    task = as_task_classif(_frame(), target="y")
    assert task.set_col_roles("w", "weight") is task
    task.set_col_roles(["g"], ["group"]).set_col_roles("id", ["name"])
    task.set_col_roles("z", ["feature", "stratum"])
    roles = task.col_roles
    assert roles["feature"] == ["x", "z"] and roles["weight"] == ["w"] and roles["group"] == ["g"]
    assert roles["stratum"] == ["z"] and roles["name"] == ["id"]
    assert task.feature_names == ["x", "z"] and task.ncol == 3
    assert task.data().columns.tolist() == ["x", "z", "y"]
    assert task.data(cols=["w", "g"]).shape == (8, 2)  # role columns can still be read
    roles["feature"].append("w")  # a copy: changing it changes nothing
    assert task.feature_names == ["x", "z"]


def test_weights_groups_and_row_names_follow_the_active_rows():
    task = as_task_classif(_frame(), target="y").set_col_roles("w", "weight")
    task.set_col_roles("g", "group").set_col_roles("id", "name").filter([1, 4, 5])
    assert task.weights.to_dict("list") == {"row_id": [1, 4, 5], "weight": [2.0, 2.0, 3.0]}
    assert task.groups["group"].tolist() == [0, 2, 2]
    assert task.row_names["row_name"].tolist() == ["row1", "row4", "row5"]
    np.testing.assert_array_equal(task.weight_values([5, 1]), [3.0, 2.0])
    plain = as_task_classif(_frame(), target="y")
    assert plain.weights is None and plain.groups is None and plain.row_names is None
    assert plain.weight_values() is None


def test_clones_have_their_own_roles():
    task = as_task_classif(_frame(), target="y")
    copy = task.clone().set_col_roles("w", "weight")
    assert "w" in task.feature_names and task.col_roles["weight"] == []
    assert copy.col_roles["weight"] == ["w"]


def test_the_target_can_be_replaced():
    task = as_task_regr(_frame(), target="x").set_col_roles("z", "target")
    assert task.target == "z" and "x" not in task.feature_names  # the old target is unused
    task.set_col_roles("x", "feature")
    assert task.feature_names[-1] == "x"
    with pytest.raises(DataError, match="a regression target must be numeric, 'id' has dtype"):
        task.set_col_roles("id", "target")
    with pytest.raises(DataError, match="needs a target column"):
        task.set_col_roles("z", "feature")


@pytest.mark.parametrize(
    "cols, roles, error, message",
    [
        ("nope", "weight", UnknownKeyError, "unknown column 'nope'"),
        ("w", "weights", UnknownKeyError, r"unknown column role 'weights'. Did you mean 'weight'\?"),
        (["w", "z"], "weight", DataError, r"at most one column can have the role 'weight', got \['w', 'z'\]"),
        ("id", "weight", DataError, "weight column 'id' must be numeric"),
        ("x", "weight", DataError, "all sample weights are zero|negative"),
        ("y", "feature", DataError, "needs a target column"),
    ],
)
def test_bad_roles_are_refused_and_leave_the_task_unchanged(cols, roles, error, message):
    frame = _frame()
    frame["x"] = 0.0
    task = as_task_classif(frame, target="y")
    before = task.col_roles
    with pytest.raises(error, match=message):
        task.set_col_roles(cols, roles)
    assert task.col_roles == before


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4))
def test_weight_columns_must_be_finite_non_negative_and_not_all_zero(values):
    frame = pd.DataFrame({"x": [1.0, 2, 3, 4], "w": values, "y": [0.0, 1, 2, 3]})
    task = as_task_regr(frame, target="y")
    w = np.array(values)
    valid = np.isfinite(w).all() and (w >= 0).all() and (w > 0).any()
    if valid:
        assert task.set_col_roles("w", "weight").col_roles["weight"] == ["w"]
    else:
        with pytest.raises(DataError, match="Task 'data', weight column 'w': .*sample weights"):
            task.set_col_roles("w", "weight")


def test_a_group_column_with_a_single_group_is_an_error():
    frame = _frame().assign(g=7)
    with pytest.raises(DataError, match=r"group column 'g' has a single group \(7\).*at least 2 groups"):
        as_task_classif(frame, target="y").set_col_roles("g", "group")


def test_positive_defaults_to_the_second_class_and_is_settable():
    task = as_task_classif(_frame(), target="y")
    assert (task.positive, task.negative) == ("b", "a")
    task.positive = "a"
    assert (task.positive, task.negative) == ("a", "b")
    assert task.clone().positive == "a"
    assert as_task_classif(_frame(), target="y", positive="a").positive == "a"
    assert task.clone().filter([0, 2]).positive == "a"  # a subset of one class keeps it


@pytest.mark.parametrize("value", ["c", 1, None])
def test_a_positive_that_is_not_a_class_is_an_error(value):
    task = as_task_classif(_frame(), target="y")
    with pytest.raises(DataError, match=rf"positive class {value!r} is not a class of target 'y'; the classes are \['a', 'b'\]"):
        task.positive = value
    assert task.positive == "b"


def test_positive_of_numeric_labels_does_not_confuse_bool_and_int():
    task = as_task_classif(pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [0, 1, 0, 1]}), target="y")
    assert task.positive == 1
    with pytest.raises(DataError, match="positive class True is not a class"):
        task.positive = True
    task.positive = np.int64(0)
    assert task.positive == 0 and type(task.positive) is int


def test_positive_needs_two_classes():
    task = tsk("iris")
    assert task.positive is None and task.negative is None
    with pytest.raises(DataError, match="a positive class needs a two-class target; 'class' has 3 classes"):
        task.positive = "setosa"


def test_repr_lists_the_roles_in_use():
    task = as_task_classif(_frame(), target="y").set_col_roles("w", "weight").set_col_roles("g", "group")
    text = repr(task)
    assert "* Weight: w" in text and "* Group: g" in text and "Stratum" not in text
