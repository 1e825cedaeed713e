"""Resampling: splits partition the rows as promised, are reproducible and fail clearly."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy.errors import MlrpyError, ParameterError, UnknownKeyError
from mlrpy.resampling import (
    NotInstantiatedError,
    Resampling,
    ResamplingCV,
    mlr_resamplings,
    rsmp,
    rsmps,
)
from mlrpy.tasks import Task, as_task_classif, as_task_regr, tsk


@pytest.fixture(scope="module")
def iris() -> Task:
    return tsk("iris")


@pytest.fixture(scope="module")
def diabetes() -> Task:
    return tsk("diabetes")


@pytest.fixture(scope="module")
def cancer() -> Task:
    return tsk("breast_cancer")


def _all_splits(r: Resampling) -> list[tuple[list, list]]:
    return [(r.train_set(i), r.test_set(i)) for i in range(r.iters)]


def _class_shares(task: Task, rows: list) -> pd.Series:
    return pd.Series(task.truth(rows)).value_counts(normalize=True).sort_index()


# -- cross-validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("task_key", ["iris", "diabetes"])
def test_cv_tests_every_row_exactly_once_and_never_trains_on_it(task_key):
    task = tsk(task_key)
    r = rsmp("cv", folds=4, seed=1).instantiate(task)
    assert r.iters == 4
    counts = Counter(row for _, test in _all_splits(r) for row in test)
    assert set(counts) == set(task.row_ids)
    assert set(counts.values()) == {1}
    for train, test in _all_splits(r):
        assert set(train).isdisjoint(test)
        assert sorted(train + test) == sorted(task.row_ids)
        assert len(train) == len(set(train))


def test_cv_stratification_keeps_class_proportions(iris, cancer):
    r = rsmp("cv", folds=5, seed=2).instantiate(iris)
    for _, test in _all_splits(r):
        assert Counter(iris.truth(test)) == {"setosa": 10, "versicolor": 10, "virginica": 10}
    overall = _class_shares(cancer, cancer.row_ids)
    r = rsmp("cv", folds=3, seed=2).instantiate(cancer)
    for train, test in _all_splits(r):
        for rows in (train, test):
            assert np.allclose(_class_shares(cancer, rows), overall, atol=0.01)


def test_stratify_false_does_not_stratify(iris):
    shares = []
    for seed in range(5):
        r = rsmp("cv", folds=5, seed=seed, stratify=False).instantiate(iris)
        shares += [tuple(Counter(iris.truth(t)).values()) for _, t in _all_splits(r)]
    assert any(s != (10, 10, 10) for s in shares)


def test_splits_are_lists_of_the_tasks_row_ids():
    df = pd.DataFrame(
        {"x": np.arange(12.0), "y": ["a", "b"] * 6}, index=[f"r{i}" for i in range(12)]
    )
    task = as_task_classif(df, target="y")
    for key, params in [("cv", {"folds": 3}), ("holdout", {}), ("bootstrap", {"repeats": 2}),
                        ("subsampling", {"repeats": 2}), ("loo", {}), ("insample", {}),
                        ("repeated_cv", {"folds": 2, "repeats": 2})]:
        r = rsmp(key, **params).instantiate(task)
        for train, test in _all_splits(r):
            assert set(train) <= set(task.row_ids) and set(test) <= set(task.row_ids)
            assert all(isinstance(x, str) for x in train + test)


def test_filtered_task_only_uses_its_active_rows():
    task = tsk("iris").filter(list(range(100, 150)) + list(range(0, 50)))
    r = rsmp("cv", folds=5, seed=3).instantiate(task)
    used = {row for _, test in _all_splits(r) for row in test}
    assert used == set(task.row_ids)
    assert r.task_row_ids == task.row_ids
    assert r.task_id == "iris"


# -- seeds -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "params"),
    [("cv", {"folds": 3}), ("holdout", {}), ("bootstrap", {"repeats": 3}),
     ("subsampling", {"repeats": 3}), ("repeated_cv", {"folds": 3, "repeats": 2})],
)
def test_same_seed_same_splits_other_seed_other_splits(iris, key, params):
    a = _all_splits(rsmp(key, seed=11, **params).instantiate(iris))
    b = _all_splits(rsmp(key, seed=11, **params).instantiate(iris))
    c = _all_splits(rsmp(key, seed=12, **params).instantiate(iris))
    assert a == b
    assert a != c


def test_seed_none_draws_a_recorded_reproducible_seed(iris):
    r = rsmp("cv", folds=3).instantiate(iris)
    assert isinstance(r.seed_used, int)
    again = rsmp("cv", folds=3, seed=r.seed_used).instantiate(iris)
    assert _all_splits(r) == _all_splits(again)
    assert r.param_values["seed"] is None  # the parameter itself stays unset


def test_seed_none_follows_numpys_global_seed(iris):
    np.random.seed(123)
    a = rsmp("holdout").instantiate(iris)
    np.random.seed(123)
    b = rsmp("holdout").instantiate(iris)
    assert a.seed_used == b.seed_used
    assert _all_splits(a) == _all_splits(b)


def test_deterministic_strategies_have_no_seed(iris):
    assert rsmp("insample").instantiate(iris).seed_used is None
    with pytest.raises(ParameterError, match="'seed'"):
        rsmp("loo", seed=1)


# -- holdout, subsampling, bootstrap -----------------------------------------------------------
@pytest.mark.parametrize("ratio", [0.5, 2 / 3, 0.8, 0.9])
@pytest.mark.parametrize("task_key", ["iris", "diabetes"])
def test_holdout_ratio_is_respected(task_key, ratio):
    task = tsk(task_key)
    r = rsmp("holdout", ratio=ratio, seed=5).instantiate(task)
    train, test = r.train_set(0), r.test_set(0)
    assert r.iters == 1
    assert len(train) == round(ratio * task.nrow)
    assert sorted(train + test) == sorted(task.row_ids)


def test_holdout_default_ratio_is_two_thirds(iris):
    r = rsmp("holdout", seed=1).instantiate(iris)
    assert len(r.train_set(0)) == 100
    assert r.param_values["ratio"] == pytest.approx(2 / 3)


def test_holdout_stratified_on_imbalanced_task(cancer):
    r = rsmp("holdout", seed=9).instantiate(cancer)
    overall = _class_shares(cancer, cancer.row_ids)
    assert np.allclose(_class_shares(cancer, r.test_set(0)), overall, atol=0.01)


def test_subsampling_repeats_independent_holdouts(diabetes):
    r = rsmp("subsampling", repeats=4, ratio=0.5, seed=1).instantiate(diabetes)
    assert r.iters == 4
    splits = _all_splits(r)
    for train, test in splits:
        assert len(train) == 221 and set(train).isdisjoint(test)
    assert len({tuple(sorted(t)) for t, _ in splits}) == 4


def test_bootstrap_test_set_is_out_of_bag(iris):
    r = rsmp("bootstrap", repeats=5, seed=4).instantiate(iris)
    assert r.iters == 5 and r.duplicated_ids
    for train, test in _all_splits(r):
        assert len(train) == iris.nrow
        assert len(set(train)) < len(train)  # drawn with replacement
        assert set(test) == set(iris.row_ids) - set(train)
        assert test == sorted(test)


def test_bootstrap_ratio_sets_training_size(diabetes):
    r = rsmp("bootstrap", repeats=2, ratio=0.5, seed=4).instantiate(diabetes)
    assert len(r.train_set(0)) == 221
    assert set(r.test_set(0)) == set(diabetes.row_ids) - set(r.train_set(0))


# -- repeated cv, loo, insample --------------------------------------------------------------
def test_repeated_cv_each_repeat_is_a_partition(iris):
    r = rsmp("repeated_cv", folds=3, repeats=2, seed=1).instantiate(iris)
    assert r.iters == 6
    for rep in range(2):
        tests = [r.test_set(rep * 3 + f) for f in range(3)]
        assert sorted(row for t in tests for row in t) == iris.row_ids
    assert r.test_set(0) != r.test_set(3)
    assert r.folds(range(6)) == [0, 1, 2, 0, 1, 2]
    assert r.repeats(range(6)) == [0, 0, 0, 1, 1, 1]


def test_repeated_cv_defaults():
    r = rsmp("repeated_cv")
    assert r.param_values["folds"] == 10 and r.param_values["repeats"] == 10
    assert r.iters == 100


def test_loo_tests_each_row_alone(iris):
    r = rsmp("loo").instantiate(iris)
    assert r.iters == iris.nrow
    assert [r.test_set(i) for i in range(r.iters)] == [[x] for x in iris.row_ids]
    assert set(r.train_set(7)) == set(iris.row_ids) - {7}


def test_insample_trains_and_tests_on_everything(diabetes):
    r = rsmp("insample").instantiate(diabetes)
    assert r.iters == 1
    assert r.train_set(0) == r.test_set(0) == diabetes.row_ids


def test_stratify_is_ignored_for_regression(diabetes):
    a = _all_splits(rsmp("cv", folds=3, seed=1, stratify=True).instantiate(diabetes))
    b = _all_splits(rsmp("cv", folds=3, seed=1, stratify=False).instantiate(diabetes))
    assert a == b


# -- custom -----------------------------------------------------------------------------------
def test_custom_resampling_uses_the_given_sets(iris):
    train_sets = [list(range(0, 100)), list(range(50, 150))]
    test_sets = [list(range(100, 150)), list(range(0, 50))]
    r = rsmp("custom").instantiate(iris, train_sets=train_sets, test_sets=test_sets)
    assert r.iters == 2
    assert _all_splits(r) == list(zip(train_sets, test_sets))


def test_custom_resampling_errors(iris):
    r = rsmp("custom")
    with pytest.raises(ParameterError, match="train_sets"):
        r.instantiate(iris)
    with pytest.raises(ParameterError, match="1 train sets but 2 test sets"):
        r.instantiate(iris, train_sets=[[0]], test_sets=[[1], [2]])
    with pytest.raises(UnknownKeyError, match="999"):
        r.instantiate(iris, train_sets=[[0, 999]], test_sets=[[1]])
    with pytest.raises(ParameterError, match="test set 0 is empty"):
        r.instantiate(iris, train_sets=[[0]], test_sets=[[]])
    with pytest.raises(NotInstantiatedError):
        r.iters


# -- parameter validation ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "params", "name", "value"),
    [
        ("cv", {"folds": 1}, "folds", "1"),
        ("cv", {"folds": 2.5}, "folds", "2.5"),
        ("cv", {"folds": "3"}, "folds", "'3'"),
        ("holdout", {"ratio": 1.5}, "ratio", "1.5"),
        ("holdout", {"ratio": 0}, "ratio", "0"),
        ("subsampling", {"ratio": 1.0}, "ratio", "1.0"),
        ("bootstrap", {"repeats": 0}, "repeats", "0"),
        ("repeated_cv", {"repeats": -2}, "repeats", "-2"),
        ("cv", {"seed": -1}, "seed", "-1"),
        ("cv", {"stratify": "yes"}, "stratify", "'yes'"),
    ],
)
def test_invalid_params_name_resampling_parameter_and_value(key, params, name, value):
    with pytest.raises(ParameterError) as err:
        rsmp(key, **params)
    msg = str(err.value)
    assert f"'{key}'" in msg and f"'{name}'" in msg and f": {value} (" in msg
    assert isinstance(err.value, ValueError)


def test_unknown_param_suggests_the_right_name():
    with pytest.raises(ParameterError, match=r"unknown parameter 'fold'\. Did you mean 'folds'"):
        rsmp("cv", fold=3)


def test_numpy_scalars_are_accepted():
    r = rsmp("cv", folds=np.int64(4), seed=np.int32(1), stratify=np.bool_(False))
    assert r.param_values == {"folds": 4, "stratify": False, "seed": 1}
    assert type(r.param_values["folds"]) is int


def test_params_are_revalidated_at_instantiate(iris):
    r = rsmp("cv")
    r.param_values["folds"] = 1
    with pytest.raises(ParameterError, match="folds"):
        r.instantiate(iris)


def test_more_folds_than_rows_errors_at_instantiate():
    task = as_task_regr(pd.DataFrame({"x": range(5), "y": np.arange(5.0)}), target="y")
    r = rsmp("cv", folds=6)
    with pytest.raises(ParameterError, match=r"folds=6.*5 rows"):
        r.instantiate(task)
    assert not r.is_instantiated


def test_unsplittable_stratification_is_a_parameter_error_with_hint():
    task = as_task_classif(pd.DataFrame({"x": range(6), "y": list("aaabbb")}), target="y")
    with pytest.raises(ParameterError, match="stratify=False"):
        rsmp("cv", folds=4).instantiate(task)
    assert rsmp("cv", folds=4, stratify=False).instantiate(task).iters == 4


def test_holdout_ratio_leaving_an_empty_set_errors():
    task = as_task_regr(pd.DataFrame({"x": range(4), "y": np.arange(4.0)}), target="y")
    with pytest.raises(ParameterError, match=r"ratio=0\.9"):
        rsmp("holdout", ratio=0.9).instantiate(task)


# -- access errors and object behaviour ------------------------------------------------------
def test_train_set_before_instantiate_errors():
    r = rsmp("cv", folds=3)
    with pytest.raises(NotInstantiatedError, match="instantiate"):
        r.train_set(0)
    with pytest.raises(RuntimeError):
        r.test_set(0)
    assert issubclass(NotInstantiatedError, MlrpyError)


def test_out_of_range_iteration_names_valid_range(iris):
    r = rsmp("cv", folds=5, seed=1).instantiate(iris)
    for bad in (5, -1):
        with pytest.raises(IndexError, match=r"0\.\.4"):
            r.train_set(bad)
    with pytest.raises(TypeError):
        r.test_set("0")  # type: ignore[arg-type]


def test_returned_sets_are_copies(iris):
    r = rsmp("holdout", seed=1).instantiate(iris)
    r.train_set(0).clear()
    assert len(r.train_set(0)) == 100


def test_clone_is_independent_and_keeps_the_instance(iris):
    r = rsmp("cv", folds=3, seed=1).instantiate(iris)
    c = r.clone()
    assert c.is_instantiated and _all_splits(c) == _all_splits(r)
    c.set_values(folds=4)
    assert not c.is_instantiated  # changing a parameter discards the instance
    assert r.param_values["folds"] == 3 and r.is_instantiated


def test_registry_sugar_and_description():
    frame = mlr_resamplings.as_frame()
    assert list(frame.columns) == ["key", "label", "params"]
    assert set(frame["key"]) == {
        "bootstrap", "custom", "cv", "holdout", "insample", "loo", "repeated_cv", "sklearn",
        "subsampling",
    }
    assert frame.set_index("key").loc["cv", "params"] == ["folds", "stratify", "seed"]
    assert isinstance(rsmp("cv"), ResamplingCV)
    assert rsmp("cv").param_values["folds"] == 10
    assert [r.param_values["seed"] for r in rsmps(["cv", "holdout"], seed=3)] == [3, 3]
    assert rsmp("cv_2").id == "cv_2"
    with pytest.raises(UnknownKeyError, match="'holdout'"):
        rsmp("holdot")


def test_repr_shows_params_and_state(iris):
    r = rsmp("cv", folds=3)
    assert "folds=3" in repr(r) and "Instantiated: False" in repr(r)
    assert "Instantiated: True" in repr(r.instantiate(iris))
    assert "known after instantiate" in repr(rsmp("loo"))


# -- property: any cv on any small task partitions its rows -------------------------------------
@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 60), folds=st.integers(2, 10), seed=st.integers(0, 2**32 - 1))
def test_cv_partition_property(n, folds, seed):
    task = as_task_regr(
        pd.DataFrame({"x": np.arange(n, dtype=float), "y": np.arange(n, dtype=float)},
                     index=np.arange(n) * 3 + 1),
        target="y",
    )
    r = rsmp("cv", folds=folds, seed=seed)
    if folds > n:
        with pytest.raises(ParameterError):
            r.instantiate(task)
        return
    r.instantiate(task)
    tests = [r.test_set(i) for i in range(folds)]
    assert sorted(x for t in tests for x in t) == task.row_ids
    sizes = [len(t) for t in tests]
    assert max(sizes) - min(sizes) <= 1
