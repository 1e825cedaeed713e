"""TableEncoder: levels learned at fit, codes in the FeatureInfo layout, unknown and missing."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import DataError
from mlrpy.columns import feature_types
from mlrpy.learners.encoding import TableEncoder
from tests.tables.frames import mixed_frame


def _fit(frame: pd.DataFrame) -> TableEncoder:
    return TableEncoder.fit(frame, feature_types(frame), "demo")


def test_layout_is_numeric_columns_first_then_one_code_column_per_categorical():
    frame = mixed_frame(30)
    enc = _fit(frame)
    info = enc.feature_info()
    assert info.numeric == ["x", "count", "flag"] and info.categorical == ["colour", "size"]
    out = enc.transform(frame, "demo")
    assert out.dtype == np.float32 and out.shape == (30, 5)
    np.testing.assert_array_equal(out[:, 0], frame["x"].to_numpy(np.float32))
    np.testing.assert_array_equal(out[:, 2], frame["flag"].to_numpy(np.float32))
    # levels: sorted for strings, the category order for a categorical dtype
    assert enc.levels == {"colour": ["blue", "green", "red"], "size": ["S", "M", "L"]}
    colour = np.array(enc.levels["colour"])[out[:, 3].astype(int) - 1]
    np.testing.assert_array_equal(colour, frame["colour"].to_numpy())
    size = np.array(["S", "M", "L"])[out[:, 4].astype(int) - 1]
    np.testing.assert_array_equal(size, frame["size"].astype(str).to_numpy())


@settings(max_examples=50, deadline=None)
@given(
    train=st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=1, max_size=30),
    test=st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), min_size=1, max_size=30),
)
def test_codes_round_trip_and_unknown_is_zero(train, test):
    train_frame = pd.DataFrame({"f": pd.Series(train, dtype=object)})
    enc = _fit(train_frame)
    levels = enc.levels["f"]
    assert levels == sorted({v for v in train if v is not None})
    has_missing = None in train
    assert enc.feature_info().cardinalities == [1 + len(levels) + has_missing]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        codes = enc.transform(pd.DataFrame({"f": pd.Series(test, dtype=object)}), "demo")[:, 0].astype(int)
    for value, code in zip(test, codes):
        if value is None:
            assert code == (len(levels) + 1 if has_missing else 0)
        elif value in levels:
            assert levels[code - 1] == value
        else:
            assert code == 0
    unseen = {v for v in test if v is not None and v not in levels}
    if None in test and not has_missing:
        unseen.add("<missing>")
    if unseen:
        assert len(caught) == 1 and issubclass(caught[0].category, UserWarning)
        assert all(repr(v) in str(caught[0].message) for v in unseen)
        assert "column 'f'" in str(caught[0].message)
    else:
        assert not caught


def test_unseen_levels_warn_naming_column_levels_and_rows():
    enc = _fit(pd.DataFrame({"colour": ["red", "blue"]}))
    with pytest.warns(UserWarning, match=r"column 'colour' has levels not seen in training: 'pink', 'teal' \(3 rows\)"):
        codes = enc.transform(pd.DataFrame({"colour": ["pink", "red", "teal", "pink"]}), "demo")
    assert codes[:, 0].tolist() == [0, 2, 0, 0]


def test_missing_categorical_value_is_a_level_of_its_own():
    enc = _fit(pd.DataFrame({"c": pd.Categorical(["a", None, "b", "a"])}))
    assert enc.missing_level == ["c"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing value seen in training is no surprise
        codes = enc.transform(pd.DataFrame({"c": pd.Categorical([None, "b"])}), "demo")
    assert codes[:, 0].tolist() == [3, 2]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_missing_or_infinite_numeric_value_is_an_error_naming_the_column(bad):
    frame = mixed_frame(10)
    enc = _fit(frame)
    broken = frame.copy()
    broken.loc[4, "x"] = bad
    with pytest.raises(DataError, match=r"numeric columns \['x'\] contain"):
        enc.transform(broken, "demo")


def test_text_in_a_numeric_column_is_an_error_naming_the_column():
    frame = mixed_frame(10)
    enc = _fit(frame)
    with pytest.raises(DataError, match="column 'count' was integer in training but holds values that are not numbers"):
        enc.transform(frame.assign(count="many"), "demo")


def test_unused_categories_are_not_levels():
    column = pd.Categorical(["a", "a"], categories=["a", "b", "c"])
    assert _fit(pd.DataFrame({"c": column})).levels == {"c": ["a"]}


def test_levels_that_cannot_be_sorted_keep_their_order_of_appearance():
    enc = _fit(pd.DataFrame({"c": pd.Series(["z", 3, "a", 3], dtype=object)}))
    assert enc.levels == {"c": ["z", 3, "a"]}


def test_state_is_plain_data_and_round_trips():
    frame = mixed_frame(20)
    frame.loc[0, "colour"] = None
    enc = _fit(frame)
    state = enc.to_dict()
    assert json.loads(json.dumps(state)) == state  # only lists, dicts, strings and numbers
    back = TableEncoder.from_dict(state)
    assert back == enc
    np.testing.assert_array_equal(back.transform(frame, "demo"), enc.transform(frame, "demo"))
