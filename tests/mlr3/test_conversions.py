"""as_learner(), as_task(), as_resampling(): what the mlr3 layer accepts for each object."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlrpy import as_learner, as_resampling, as_task, lrn, rsmp, tsk
from mlrpy.errors import ParameterError, UnknownKeyError
from mlrpy.resample import resample
from mlrpy.tasks import TaskClassif, TaskRegr


def test_objects_pass_through_unchanged():
    learner, task, resampling = lrn("classif.mlp", epochs=2), tsk("iris"), rsmp("cv", folds=3)
    assert as_learner(learner) is learner
    assert as_task(task) is task
    assert as_resampling(resampling) is resampling


def test_keys_become_fresh_objects():
    learner = as_learner("regr.mlp")
    assert learner.id == "regr.mlp" and learner is not as_learner("regr.mlp")
    assert as_task("wine").nrow == 178
    assert as_resampling("holdout").param_values["ratio"] == pytest.approx(2 / 3)


def test_unknown_keys_name_the_registry():
    with pytest.raises(UnknownKeyError, match="classif.mpl.*classif.mlp"):
        as_learner("classif.mpl")
    with pytest.raises(UnknownKeyError, match="iriss"):
        as_task("iriss")
    with pytest.raises(UnknownKeyError, match="cvv"):
        as_resampling("cvv")


@pytest.mark.parametrize(
    "fn, bad, match",
    [
        (as_learner, 3, "mlrpy learner, a learner key.*scikit-learn estimator.*int"),
        (as_task, [1, 2], "Task, a task key.*DataFrame.*list"),
        (as_resampling, None, "Resampling, a resampling key.*splitter.*NoneType"),
    ],
)
def test_other_objects_are_refused(fn, bad, match):
    with pytest.raises(ParameterError, match=match):
        fn(bad)


def test_data_frame_becomes_a_task_typed_by_its_target():
    labels = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4], "y": ["a", "b", "a", "b"]})
    task = as_task(labels, target="y", id="toy")
    assert isinstance(task, TaskClassif) and task.id == "toy" and task.class_names == ["a", "b"]
    assert isinstance(as_task(labels.assign(y=[True, False, True, False]), target="y"), TaskClassif)
    assert isinstance(as_task(labels.assign(y=pd.Categorical(["a", "b", "a", "b"])), "y"), TaskClassif)
    values = labels.assign(y=[0.5, 1.5, 2.0, 3.25])
    regr = as_task(values, target="y")
    assert isinstance(regr, TaskRegr) and regr.feature_names == ["x"]
    np.testing.assert_array_equal(regr.truth(), [0.5, 1.5, 2.0, 3.25])


def test_integer_target_needs_a_task_type():
    df = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4], "y": [0, 1, 0, 1]})
    with pytest.raises(ParameterError, match="'y' holds integers.*task_type='classif'"):
        as_task(df, target="y")
    assert as_task(df, target="y", task_type="classif").class_names == [0, 1]
    assert as_task(df, target="y", task_type="regr").task_type == "regr"


def test_data_frame_argument_errors():
    df = pd.DataFrame({"x": [0.1, 0.2], "y": ["a", "b"]})
    with pytest.raises(ParameterError, match="needs target=.*x, y"):
        as_task(df)
    with pytest.raises(UnknownKeyError, match="'z' not in the data"):
        as_task(df, target="z")
    with pytest.raises(ParameterError, match="task_type must be one of"):
        as_task(df, target="y", task_type="classification")
    with pytest.raises(ParameterError, match="only apply to a DataFrame"):
        as_task("iris", target="class")


def test_resample_accepts_what_the_conversions_accept():
    df = tsk("iris").data()
    rr = resample(as_task(df, target="class", id="iris_df"), "classif.torch_featureless", "holdout")
    assert (rr.task_id, rr.learner_id, rr.resampling_id) == ("iris_df", "classif.torch_featureless", "holdout")


def test_splitters_and_estimators_take_part():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(3, shuffle=True, random_state=0)
    rr = resample("iris", LogisticRegression(max_iter=500), splitter)
    assert (rr.learner_id, rr.resampling_id, rr.iters) == ("LogisticRegression", "sklearn", 3)
    expected = [test for _, test in splitter.split(np.zeros((150, 1)), tsk("iris").truth())]
    assert [sorted(rr.resampling.test_set(i)) for i in range(3)] == [sorted(t.tolist()) for t in expected]
