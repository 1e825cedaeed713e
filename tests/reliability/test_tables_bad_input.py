"""Bad tables: every mistake gets a typed error (or warning) naming the column or the value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mlrpy import DataError, as_task_classif, lrn
from tests.tables.frames import mixed_frame, xor_target


def _fitted(**kw):
    df = mixed_frame(40)
    return lrn("classif.mlp", epochs=1, random_state=0, device="cpu", **kw).fit(df, xor_target(df)), df


@pytest.mark.parametrize("face", ["fit", "train"])
def test_unsupported_column_type(face):
    df = mixed_frame(20).assign(span=pd.to_timedelta(np.arange(20), unit="D"))
    y = xor_target(df)
    learner = lrn("classif.mlp", epochs=1)
    with pytest.raises(DataError, match=r"does not accept the type of column 'span' \(timedelta64\[\w+\]\); it accepts"):
        if face == "fit":
            learner.fit(df, y)
        else:
            learner.train(as_task_classif(df.assign(y=y), target="y"))


@pytest.mark.parametrize("face", ["predict", "task"])
def test_unseen_levels_warn_naming_column_and_levels(face):
    learner, df = _fitted()
    new = df.head(6).copy()
    new["colour"] = ["mauve", "red", "ochre", "mauve", "blue", "red"]
    with pytest.warns(UserWarning, match=r"Learner 'classif\.mlp': column 'colour' has levels not seen in training: 'mauve', 'ochre' \(3 rows\)"):
        if face == "predict":
            out = learner.predict(new)
        else:
            out = learner.predict(as_task_classif(new.assign(y=xor_target(df.head(6))), target="y")).response
    assert len(out) == 6  # the rows are still predicted, as unknown levels


def test_missing_value_in_a_categorical_column_unseen_in_training_warns():
    learner, df = _fitted()
    new = df.head(3).copy()
    new.loc[1, "size"] = None
    with pytest.warns(UserWarning, match="column 'size' has levels not seen in training: '<missing>'"):
        learner.predict(new)


@pytest.mark.parametrize("categorical", [False, True])
def test_missing_numeric_value_names_the_column(categorical):
    df = mixed_frame(20) if categorical else mixed_frame(20)[["x", "count"]]
    df["x"] = df["x"].astype(float)
    df.loc[3, "x"] = np.nan
    with pytest.raises(DataError, match=r"(numeric columns \['x'\] contain missing values)|(Columns with missing values: \['x'\])"):
        lrn("classif.mlp", epochs=1).fit(df, xor_target(mixed_frame(20)))


BAD_WEIGHTS = [
    (lambda n: -np.ones(n), r"must not be negative; got \[-1\.0, -1\.0"),
    (lambda n: np.r_[np.nan, np.ones(n - 1)], r"must not be missing \(NaN\); got \[nan\] at positions \[0\]"),
    (lambda n: np.r_[np.ones(n - 1), np.inf], r"must not be infinite; .* at positions \[\d+\]"),
    (lambda n: np.zeros(n), "all sample weights are zero"),
    (lambda n: np.ones(n + 1), r"one weight per row \(40\), got shape \(41,\)"),
    (lambda n: np.ones((n, 2)), r"one weight per row \(40\), got shape \(40, 2\)"),
    (lambda n: ["heavy"] * n, "sample weights must be numbers"),
]


@pytest.mark.parametrize("make, message", BAD_WEIGHTS)
def test_bad_sample_weights_leave_the_previous_model(make, message):
    learner, df = _fitted()
    model = learner.model_
    with pytest.raises(DataError, match=rf"Learner 'classif\.mlp': .*{message}"):
        learner.fit(df, xor_target(df), sample_weight=make(len(df)))
    assert learner.model_ is model


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=6, max_size=6))
@example([0.0, 0.0, 0.0, 0.0, 0.0, 6.94e36])  # weight times loss overflowed float32 once
def test_any_weights_are_accepted_or_refused_with_a_data_error(values):
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.array([0.0, 1, 2, 3, 4, 5])
    w = np.array(values)
    learner = lrn("regr.mlp", epochs=1, random_state=0, device="cpu")
    if np.isfinite(w).all() and (w >= 0).all() and (w > 0).any():
        learner.fit(X, y, sample_weight=w)
        assert np.isfinite(learner.predict(X)).all()
    else:
        with pytest.raises(DataError, match="sample weights"):
            learner.fit(X, y, sample_weight=w)


def test_bad_weight_column_in_a_task():
    df = mixed_frame(20).assign(w=-1.0, y=xor_target(mixed_frame(20)))
    with pytest.raises(DataError, match=r"Task 'data', weight column 'w': sample weights must not be negative"):
        as_task_classif(df, target="y").set_col_roles("w", "weight")


def test_group_column_with_a_single_group():
    df = mixed_frame(20).assign(site="berlin", y=xor_target(mixed_frame(20)))
    with pytest.raises(DataError, match=r"Task 'data': group column 'site' has a single group \('berlin'\)"):
        as_task_classif(df, target="y").set_col_roles("site", "group")


def test_positive_that_is_not_a_class():
    df = mixed_frame(20).assign(y=xor_target(mixed_frame(20)))
    with pytest.raises(DataError, match=r"positive class 'maybe' is not a class of target 'y'; the classes are \['no', 'yes'\]"):
        as_task_classif(df, target="y", positive="maybe")
