"""``ctx.task_train`` / ``ctx.task_valid`` describe the data the loop actually uses, whether
the learner was called as ``fit(X, y)`` or ``train(task)``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlrpy import as_task_classif, as_task_regr, lrn, torch_callback


def context_spy() -> tuple[Any, dict[str, Any]]:
    """A callback recording, at ``on_begin``, the tasks and the tensors the loaders serve."""
    seen: dict[str, Any] = {}

    def on_begin(self: Any) -> None:
        ctx = self.ctx
        seen["task_train"], seen["task_valid"] = ctx.task_train, ctx.task_valid
        seen["x_train"], seen["y_train"] = ctx.loader_train.x.clone(), ctx.loader_train.y.clone()
        if ctx.loader_valid is not None:
            seen["x_valid"], seen["y_valid"] = ctx.loader_valid.x.clone(), ctx.loader_valid.y.clone()

    return torch_callback("context_spy", on_begin=on_begin), seen


def decoded(learner: Any, y: torch.Tensor) -> np.ndarray:
    return learner._decode_target(y.cpu())


def assert_task_matches(learner: Any, task: Any, x: torch.Tensor, y: torch.Tensor) -> None:
    """``task`` holds exactly the rows of ``(x, y)``, in the same order, under the model's
    feature names."""
    assert task is not None
    assert task.task_type == learner.task_type
    assert task.nrow == len(x)
    assert task.feature_names == learner.model.feature_names
    np.testing.assert_array_equal(task.data(cols=task.feature_names).to_numpy(np.float32), x.cpu().numpy())
    truth = task.truth()
    if learner.task_type == "classif":
        np.testing.assert_array_equal(truth, decoded(learner, y))
        assert task.class_names == sorted(set(truth.tolist()))
        assert set(task.class_names) <= set(learner.classes_.tolist())
    else:
        np.testing.assert_allclose(truth.astype(np.float32), decoded(learner, y).astype(np.float32))


def table(task_type: str, n: int = 60, n_features: int = 3, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, n_features)), columns=[f"f_{i}" for i in range(n_features)])
    if task_type == "classif":
        y = np.array(["ant", "bee", "cat"])[np.arange(n) % 3]
    else:
        y = X.to_numpy() @ np.arange(1, n_features + 1) + 0.5
    return X, y


def as_task(X: pd.DataFrame, y: np.ndarray, task_type: str) -> Any:
    frame = X.assign(target=y)
    make = as_task_classif if task_type == "classif" else as_task_regr
    return make(frame, target="target")


def learner_for(task_type: str, spy: Any, **params: Any) -> Any:
    return lrn(f"{task_type}.mlp", epochs=1, batch_size=16, random_state=0, callbacks=[spy], **params)


TASK_TYPES = ["classif", "regr"]


@pytest.mark.parametrize("task_type", TASK_TYPES)
@pytest.mark.parametrize("as_frame", [True, False])
def test_fit_without_validation(task_type, as_frame):
    spy, seen = context_spy()
    X, y = table(task_type)
    learner = learner_for(task_type, spy).fit(X if as_frame else X.to_numpy(), y)
    assert_task_matches(learner, seen["task_train"], seen["x_train"], seen["y_train"])
    assert seen["task_valid"] is None
    expected = list(X.columns) if as_frame else ["x0", "x1", "x2"]
    assert seen["task_train"].feature_names == expected


@pytest.mark.parametrize("task_type", TASK_TYPES)
@pytest.mark.parametrize("as_frame", [True, False])
def test_fit_with_validation_data(task_type, as_frame):
    spy, seen = context_spy()
    X, y = table(task_type)
    X_valid, y_valid = table(task_type, n=21, seed=1)
    if not as_frame:
        X, X_valid = X.to_numpy(), X_valid.to_numpy()
    learner = learner_for(task_type, spy).fit(X, y, validation_data=(X_valid, y_valid))
    assert_task_matches(learner, seen["task_train"], seen["x_train"], seen["y_train"])
    assert_task_matches(learner, seen["task_valid"], seen["x_valid"], seen["y_valid"])
    assert seen["task_valid"].nrow == 21
    np.testing.assert_array_equal(seen["task_valid"].truth().astype(y_valid.dtype), y_valid)


@pytest.mark.parametrize("task_type", TASK_TYPES)
@pytest.mark.parametrize("face", ["fit", "train"])
def test_holdout_fraction_in_both_faces(task_type, face):
    spy, seen = context_spy()
    X, y = table(task_type)
    learner = learner_for(task_type, spy, validate=0.3)
    if face == "fit":
        learner.fit(X, y)
    else:
        learner.train(as_task(X, y, task_type))
    assert_task_matches(learner, seen["task_train"], seen["x_train"], seen["y_train"])
    assert_task_matches(learner, seen["task_valid"], seen["x_valid"], seen["y_valid"])
    assert seen["task_train"].nrow == 42 and seen["task_valid"].nrow == 18
    assert not set(seen["task_train"].row_ids) & set(seen["task_valid"].row_ids)


def test_holdout_rows_are_the_same_in_both_faces():
    """Same data, same seed: the same rows are held out, whichever face trained."""
    X, y = table("classif")
    spy_fit, seen_fit = context_spy()
    spy_train, seen_train = context_spy()
    learner_for("classif", spy_fit, validate=0.3).fit(X, y)
    learner_for("classif", spy_train, validate=0.3).train(as_task(X, y, "classif"))
    assert seen_fit["task_valid"].row_ids == seen_train["task_valid"].row_ids
    assert torch.equal(seen_fit["x_valid"], seen_train["x_valid"])


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_train_task_with_row_ids_and_predefined_validation(task_type):
    spy, seen = context_spy()
    X, y = table(task_type)
    task = as_task(X, y, task_type)
    rows = list(np.random.default_rng(3).permutation(task.row_ids)[:40])
    task.internal_valid_task = task.clone().filter(rows[:7])
    learner = learner_for(task_type, spy, validate="predefined").train(task, row_ids=rows[7:])
    assert_task_matches(learner, seen["task_train"], seen["x_train"], seen["y_train"])
    assert_task_matches(learner, seen["task_valid"], seen["x_valid"], seen["y_valid"])
    assert seen["task_train"].row_ids == rows[7:]
    assert seen["task_valid"].row_ids == rows[:7]


def test_fit_labels_keep_their_type_in_the_task():
    spy, seen = context_spy()
    X, _ = table("classif")
    y = np.array([10, 20, 30])[np.arange(60) % 3]
    learner = learner_for("classif", spy, validate=0.25).fit(X.to_numpy(), y)
    assert seen["task_train"].class_names == [10, 20, 30]
    assert set(seen["task_valid"].truth().tolist()) <= {10, 20, 30}
    assert_task_matches(learner, seen["task_valid"], seen["x_valid"], seen["y_valid"])


def test_a_dataframe_named_target_column_does_not_collide():
    spy, seen = context_spy()
    X, y = table("regr")
    X = X.rename(columns={"f_0": "target"})
    learner_for("regr", spy).fit(X, y)
    task = seen["task_train"]
    assert task.feature_names == ["target", "f_1", "f_2"]
    assert task.target not in task.feature_names
    np.testing.assert_allclose(task.truth(), y)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    task_type=st.sampled_from(TASK_TYPES),
    n=st.integers(12, 50),
    n_features=st.integers(1, 4),
    validate=st.one_of(st.none(), st.floats(0.15, 0.6)),
    as_frame=st.booleans(),
    face=st.sampled_from(["fit", "train", "fit_valid"]),
)
def test_tasks_always_match_the_loaders(task_type, n, n_features, validate, as_frame, face):
    spy, seen = context_spy()
    X, y = table(task_type, n=n, n_features=n_features)
    learner = lrn(f"{task_type}.mlp", epochs=0, random_state=0, callbacks=[spy], validate=validate)
    if face == "train":
        learner.train(as_task(X, y, task_type))
    elif face == "fit_valid":
        X_valid, y_valid = table(task_type, n=7, n_features=n_features, seed=2)
        learner.fit(X if as_frame else X.to_numpy(), y,
                    validation_data=(X_valid if as_frame else X_valid.to_numpy(), y_valid))
    else:
        learner.fit(X if as_frame else X.to_numpy(), y)
    names = list(X.columns) if as_frame or face == "train" else [f"x{i}" for i in range(n_features)]
    assert learner.model.feature_names == names
    assert_task_matches(learner, seen["task_train"], seen["x_train"], seen["y_train"])
    has_valid = face == "fit_valid" or validate is not None
    if has_valid:
        assert_task_matches(learner, seen["task_valid"], seen["x_valid"], seen["y_valid"])
        assert seen["task_train"].nrow + seen["task_valid"].nrow == (n + 7 if face == "fit_valid" else n)
    else:
        assert seen["task_valid"] is None
        assert seen["task_train"].nrow == n
