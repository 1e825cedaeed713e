"""Group and stratum columns in every resampling; stratify=True on the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import DataError, ParameterError, as_task_classif, as_task_regr, lrn, resample, rsmp

STRATEGIES = [
    ("cv", {"folds": 3}),
    ("repeated_cv", {"folds": 2, "repeats": 2}),
    ("holdout", {}),
    ("subsampling", {"repeats": 3}),
    ("bootstrap", {"repeats": 3}),
    ("loo", {}),
    ("insample", {}),
]


def _task(groups: list[int], seed: int = 0):
    rng = np.random.default_rng(seed)
    n = len(groups)
    df = pd.DataFrame({"x": rng.normal(size=n), "g": groups, "y": rng.normal(size=n)})
    return as_task_regr(df, target="y").set_col_roles("g", "group"), df


@pytest.mark.parametrize("key, params", STRATEGIES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_no_group_is_split_across_train_and_test(key, params, data):
    n_groups = data.draw(st.integers(4, 8))
    sizes = data.draw(st.lists(st.integers(1, 5), min_size=n_groups, max_size=n_groups))
    groups = [g for g, size in enumerate(sizes) for _ in range(size)]
    task, df = _task(groups, seed=data.draw(st.integers(0, 100)))
    r = rsmp(key, seed=1, **params) if key not in ("loo", "insample") else rsmp(key, **params)
    r.instantiate(task)
    for i in range(r.iters):
        train, test = r.train_set(i), r.test_set(i)
        if key == "insample":
            assert train == test == task.row_ids
            continue
        assert set(df.loc[train, "g"]).isdisjoint(df.loc[test, "g"])
        # a group is whole wherever it is
        for part in (set(train), set(test)):
            for g in set(df.loc[list(part), "g"]):
                assert set(np.flatnonzero(df["g"] == g)) <= part
    if key == "cv":
        tested = sorted(row for i in range(r.iters) for row in r.test_set(i))
        assert tested == task.row_ids
    if key == "loo":
        assert r.iters == n_groups


def test_counts_refer_to_groups():
    task, _ = _task([0, 0, 1, 1, 2, 2])
    with pytest.raises(ParameterError, match="folds=4 needs at least 4 groups, but the task has 3 groups"):
        rsmp("cv", folds=4).instantiate(task)


def test_a_single_group_among_the_task_rows_is_an_error():
    task, _ = _task([0, 0, 1, 1])
    task.filter([0, 1])
    with pytest.raises(DataError, match=r"form a single group \(0 in \['g'\]\).*at least 2 groups"):
        rsmp("cv", folds=2).instantiate(task)


def test_several_group_columns_form_one_group_per_combination():
    df = pd.DataFrame({"x": np.arange(12.0), "a": [0, 1] * 6, "b": np.repeat([0, 1, 2], 4), "y": np.arange(12.0)})
    task = as_task_regr(df, target="y")
    task.col_roles = {"group": ["a", "b"]}
    r = rsmp("loo").instantiate(task)
    assert r.iters == 6
    combos = df["a"].astype(str) + df["b"].astype(str)
    for i in range(r.iters):
        assert set(combos[r.train_set(i)]).isdisjoint(combos[r.test_set(i)])


def test_custom_splits_must_keep_groups_whole():
    task, _ = _task([0, 0, 1, 1])
    rsmp("custom").instantiate(task, train_sets=[[0, 1]], test_sets=[[2, 3]])
    with pytest.raises(DataError, match=r"iteration 0 puts rows of the groups \['1'\].*both"):
        rsmp("custom").instantiate(task, train_sets=[[0, 1, 2]], test_sets=[[3]])


def _classif_frame(n: int = 60) -> pd.DataFrame:
    return pd.DataFrame({
        "x": np.arange(n, dtype=float),
        "batch": np.tile(["u", "u", "v"], n // 3),
        "site": np.repeat(list("abcdef"), n // 6),
        "y": np.tile(["p", "q", "q", "q"], n // 4),
    })


def test_stratum_column_is_stratified_in_every_fold():
    df = _classif_frame()
    task = as_task_classif(df, target="y").set_col_roles("batch", ["feature", "stratum"])
    r = rsmp("cv", folds=5, seed=3, stratify=False).instantiate(task)
    assert [int((df.loc[r.test_set(i), "batch"] == "v").sum()) for i in range(5)] == [4] * 5
    holdout = rsmp("holdout", ratio=0.5, seed=3, stratify=False).instantiate(task)
    assert int((df.loc[holdout.test_set(0), "batch"] == "v").sum()) == 10


def test_stratify_true_adds_the_target_to_the_strata():
    df = _classif_frame()
    task = as_task_classif(df, target="y").set_col_roles("batch", ["feature", "stratum"])
    r = rsmp("cv", folds=5, seed=3, stratify=True).instantiate(task)
    for i in range(5):
        test = df.loc[r.test_set(i)]
        assert int((test["batch"] == "v").sum()) == 4 and int((test["y"] == "p").sum()) == 3


def test_stratify_true_stratifies_on_the_target():
    df = _classif_frame()
    task = as_task_classif(df, target="y")
    r = rsmp("cv", folds=5, seed=3, stratify=True).instantiate(task)
    assert [int((df.loc[r.test_set(i), "y"] == "p").sum()) for i in range(5)] == [3] * 5


def test_group_and_stratum_together_are_an_error():
    df = _classif_frame()
    task = as_task_classif(df, target="y")
    task.col_roles = {"group": ["site"], "stratum": ["batch"]}
    with pytest.raises(ParameterError, match="grouping and stratification cannot be combined"):
        rsmp("cv", folds=3).instantiate(task)


def test_resample_keeps_groups_apart():
    df = _classif_frame()
    task = as_task_classif(df, target="y").set_col_roles("site", "group")
    result = resample(task, lrn("classif.torch_featureless", epochs=1, random_state=0), rsmp("cv", folds=3, seed=0))
    for prediction in result.predictions():
        tested_sites = set(df.loc[prediction.row_ids, "site"])
        assert len(tested_sites) == 2 and len(prediction.row_ids) == 20
