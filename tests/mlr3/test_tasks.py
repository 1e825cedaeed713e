"""Task construction: the checks on a classification target's labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import as_task_classif
from mlrpy.errors import DataError


def frame(y):
    return pd.DataFrame({"x": np.arange(len(y), dtype=float), "y": y})


@pytest.mark.parametrize(
    "y, kinds",
    [
        ([1, "a", 2, "b"], r"number: \[1, 2\]; str: \['a', 'b'\]"),
        (["1", 1, "2", 2], r"str: \['1', '2'\]; number: \[1, 2\]"),
        ([True, "yes", False, "no"], r"bool: \[True, False\]; str: \['yes', 'no'\]"),
        ([0.5, "x", 1.5, "y"], r"number: \[0.5, 1.5\]; str: \['x', 'y'\]"),
        (pd.Categorical([1, "a", "a", 1]), r"number: \[1\]; str: \['a'\]"),
    ],
)
def test_mixed_label_types_raise_when_the_task_is_built(y, kinds):
    with pytest.raises(DataError, match=rf"Task 'data': target 'y' mixes label types \({kinds}\).*astype"):
        as_task_classif(frame(y), target="y")


@pytest.mark.parametrize(
    "y, classes",
    [
        (["b", "a", "b", "a"], ["a", "b"]),
        ([2, 1, 2, 1], [1, 2]),
        ([1, 2.5, 1, 2.5], [1.0, 2.5]),
        ([True, False, True, False], [False, True]),
        (np.array([1, 2, 1, 2], dtype=object), [1, 2]),  # ints in an object column
        (pd.Categorical(["x", "y", "x", "y"]), ["x", "y"]),
    ],
)
def test_labels_of_one_type_are_accepted(y, classes):
    assert as_task_classif(frame(y), target="y").class_names == classes


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=6),
    st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=6),
)
def test_any_mix_of_numbers_and_strings_is_refused(numbers, strings):
    y = np.array(numbers + strings, dtype=object)
    with pytest.raises(DataError, match="mixes label types"):
        as_task_classif(frame(y), target="y")
