"""Feature types in mlr3's names: what each column is, what each learner accepts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import DataError, as_task_classif, lrn, mlr_learners
from mlrpy.columns import FEATURE_TYPES, feature_type
from mlrpy.learners.tabular import TABULAR_FEATURE_TYPES
from tests.tables.frames import mixed_frame, xor_target


@pytest.mark.parametrize(
    "column, expected",
    [
        (pd.Series([1.5, 2.0]), "numeric"),
        (pd.Series([1.5, 2.0], dtype=np.float32), "numeric"),
        (pd.Series([1, 2]), "integer"),
        (pd.Series([1, 2], dtype=np.uint8), "integer"),
        (pd.Series([1, None], dtype="Int64"), "integer"),
        (pd.Series([True, False]), "logical"),
        (pd.Series([True, None], dtype="boolean"), "logical"),
        (pd.Series(pd.Categorical(["a", "b"])), "factor"),
        (pd.Series(pd.Categorical([1, 2])), "factor"),
        (pd.Series(pd.Categorical(["lo", "hi"], ["lo", "hi"], ordered=True)), "ordered"),
        (pd.Series(["a", "b"]), "factor"),
        (pd.Series(["a", "b"], dtype="string"), "factor"),
        (pd.Series(["a", 1], dtype=object), "factor"),
        (pd.Series([1.5, None], dtype=object), "numeric"),
        (pd.Series([1, 2], dtype=object), "integer"),
        (pd.Series([True, False], dtype=object), "logical"),
        (pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"])), "POSIXct"),
        (pd.Series([1 + 2j, 3j]), "complex"),
        (pd.Series(pd.to_timedelta([1, 2], unit="s")).astype("timedelta64[s]"), "timedelta64[s]"),
    ],
)
def test_pandas_dtypes_map_to_mlr3_names(column, expected):
    assert feature_type(column) == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["numeric", "integer", "logical", "factor", "ordered"]), min_size=1, max_size=6))
def test_task_feature_types_lists_every_feature_with_its_type(kinds):
    makers = {
        "numeric": lambda: [0.5, 1.5, 2.5, 3.5],
        "integer": lambda: [1, 2, 3, 4],
        "logical": lambda: [True, False, True, False],
        "factor": lambda: ["a", "b", "a", "c"],
        "ordered": lambda: pd.Categorical(["lo", "hi", "lo", "hi"], ["lo", "hi"], ordered=True),
    }
    df = pd.DataFrame({f"c{i}": makers[k]() for i, k in enumerate(kinds)})
    df["y"] = ["u", "v", "u", "v"]
    types = as_task_classif(df, target="y").feature_types
    assert list(types.columns) == ["id", "type"]
    assert types["id"].tolist() == [f"c{i}" for i in range(len(kinds))]
    assert types["type"].tolist() == kinds


@pytest.mark.parametrize("key", mlr_learners.keys())
def test_every_learner_declares_the_feature_types_it_accepts(key):
    learner_class = type(lrn(key))
    accepted = learner_class.feature_types
    assert isinstance(accepted, tuple)
    image_learners = ("classif.torchvision", "classif.resnet18", "classif.mobilenet_v3_small")
    if key in image_learners:  # pixels: numbers or lazy image columns, never categories
        assert set(accepted) == {"numeric", "integer", "lazy_tensor"}
    else:
        assert set(TABULAR_FEATURE_TYPES) <= set(accepted) <= set(FEATURE_TYPES)
    # lazy tensor columns feed only networks that take tensors of any shape
    assert ("lazy_tensor" in accepted) == getattr(learner_class, "accepts_tensors", False)


@pytest.mark.parametrize("face", ["fit", "train"])
def test_unsupported_columns_are_named_with_their_types_and_what_is_accepted(face):
    df = mixed_frame(20)
    df["when"] = pd.date_range("2024-01-01", periods=20)
    df["z"] = np.arange(20) * 1j
    y = xor_target(df)
    learner = lrn("classif.mlp", epochs=1, random_state=0)
    with pytest.raises(DataError) as err:
        if face == "fit":
            learner.fit(df, y)
        else:
            learner.train(as_task_classif(df.assign(y=y), target="y"))
    message = str(err.value)
    assert "'when' (POSIXct)" in message and "'z' (complex)" in message
    assert "numeric, integer, logical, factor, ordered" in message
    assert "'x'" not in message  # accepted columns are not listed
    assert not hasattr(learner, "model_")


def test_a_learner_that_accepts_fewer_types_refuses_the_others(monkeypatch):
    learner = lrn("regr.mlp", epochs=1, random_state=0)
    monkeypatch.setattr(type(learner), "feature_types", ("numeric", "integer"))
    df = mixed_frame(20)
    with pytest.raises(DataError, match=r"'colour' \(factor\), 'size' \(ordered\), 'flag' \(logical\)"):
        learner.fit(df, df["x"].to_numpy())
    with pytest.raises(DataError, match=r"column 'X' \(logical\); it accepts numeric, integer"):
        learner.fit(np.ones((4, 2), dtype=bool), np.arange(4.0))
    learner.fit(df[["x", "count"]], df["x"].to_numpy())  # accepted types still train
