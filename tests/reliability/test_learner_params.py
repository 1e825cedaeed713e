"""Learner parameters: atomic ``set_params``, helpful errors, ``param_set`` and constraints."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import DataError, ParameterError, UnknownKeyError, lrn, t_clbk, t_opt

ALL_KEYS = ["classif.mlp", "regr.mlp", "classif.module", "regr.module", "classif.torch_featureless",
            "regr.torch_featureless"]


def make(key: str, **params: Any) -> Any:
    if key.endswith(".module"):
        from tests.learners.test_learners import Net

        params.setdefault("module", Net)
    return lrn(key, **params)


def snapshot(learner: Any) -> dict[str, Any]:
    """Deep parameters by value (descriptors are compared through their own values)."""
    return {k: (v.get_values() if hasattr(v, "get_values") else v) for k, v in learner.get_params(deep=True).items()}


# -- set_params is all or nothing ----------------------------------------------------------

BAD_SETS = [
    ({"epochs": 3, "opt.lr": -1.0}, ParameterError, "opt.lr"),
    ({"epochs": 3, "batch_size": 4, "no_such": 1}, UnknownKeyError, "no_such"),
    ({"epochs": 3, "opt.lr": 0.1, "opt.betas": (2, 3)}, ParameterError, "opt.betas"),
    ({"opt.lr": 0.1, "loss.reduction": "median"}, ParameterError, "loss.reduction"),
    ({"opt.lr": 0.1, "loss.label_smoothing": 0.1, "cb.history.nope": 1}, UnknownKeyError, "cb.history.nope"),
    ({"epochs": 3, "cb.not_attached.x": 1}, UnknownKeyError, "not_attached"),
    ({"optimizer": "sgd", "opt.momentum": 0.9, "opt.lr": -5.0}, ParameterError, "opt.lr"),
]


@pytest.mark.parametrize(("params", "error", "named"), BAD_SETS)
def test_a_failing_set_params_applies_nothing(params, error, named):
    learner = lrn("classif.mlp", callbacks=["history"])
    before = snapshot(learner)
    plain_before = learner.get_params(deep=False)
    with pytest.raises(error, match=re.escape(named)):
        learner.set_params(**params)
    assert snapshot(learner) == before
    after = learner.get_params(deep=False)
    assert after.keys() == plain_before.keys()
    assert all(after[k] is plain_before[k] for k in after)  # the very same objects


def test_a_successful_set_params_applies_everything_and_copies_descriptors():
    history = t_clbk("history")
    optimizer = t_opt("sgd")
    learner = lrn("classif.mlp", callbacks=[history], optimizer=optimizer)
    learner.set_params(epochs=3, **{"opt.lr": 0.5, "opt.momentum": 0.9, "loss.label_smoothing": 0.1})
    params = learner.get_params()
    assert (params["epochs"], params["opt.lr"], params["opt.momentum"], params["loss.label_smoothing"]) == (
        3, 0.5, 0.9, 0.1)
    assert optimizer.get_values()["lr"] != 0.5  # the user's descriptor is untouched


VALID_CHANGES = {"epochs": 7, "batch_size": 5, "opt.lr": 0.2, "opt.eps": 1e-6, "loss.label_smoothing": 0.2,
                 "p": 0.3, "shuffle": False}
INVALID_CHANGES = {"opt.lr": -1.0, "opt.betas": (2, 3), "opt.nope": 1, "loss.reduction": "median",
                   "nope": 1, "cb.history.nope": 0, "cb.missing.x": 0}


@settings(max_examples=40, deadline=None)
@given(
    valid=st.dictionaries(st.sampled_from(sorted(VALID_CHANGES)), st.just(None), max_size=5),
    invalid=st.sampled_from(sorted(INVALID_CHANGES)),
)
def test_one_invalid_value_among_any_valid_ones_applies_nothing(valid, invalid):
    params = {k: VALID_CHANGES[k] for k in valid}
    params[invalid] = INVALID_CHANGES[invalid]
    learner = lrn("classif.mlp", callbacks=["history"])
    before = snapshot(learner)
    with pytest.raises((ParameterError, UnknownKeyError), match=re.escape(invalid.rpartition(".")[0] or invalid)):
        learner.set_params(**params)
    assert snapshot(learner) == before
    del params[invalid]
    learner.set_params(**params)  # the valid part alone is accepted
    assert all(learner.get_params()[k] == v for k, v in params.items())


# -- helpful errors ------------------------------------------------------------------------


def test_a_subclass_with_its_own_constructor_has_its_own_parameters():
    """The constructor's parameter names are read once per class: a subclass must see its
    own, and its parent keep its own."""
    base = type(lrn("classif.mlp"))

    base().get_params()  # the parent's names are read (and kept) first

    class Plain(base):  # type: ignore[misc, valid-type]
        def __init__(self, depth: int = 1, epochs: int = 3) -> None:
            self.depth = depth
            self.epochs = epochs

    assert set(Plain().get_params(deep=False)) == {"depth", "epochs"}
    assert "depth" not in base().get_params(deep=False)


def test_a_misspelled_plain_parameter_suggests_the_right_one():
    with pytest.raises(UnknownKeyError, match=r"'epoch' is not a parameter\. Did you mean 'epochs'\?"):
        lrn("classif.mlp", epoch=5)
    with pytest.raises(UnknownKeyError, match="Did you mean 'batch_size'"):
        lrn("regr.mlp").set_params(batchsize=5)


def test_a_misspelled_dotted_parameter_suggests_the_right_one():
    with pytest.raises(UnknownKeyError, match=r"Did you mean 'opt\.lr'"):
        lrn("classif.mlp", **{"opt.lrr": 0.1})


@pytest.mark.parametrize("how", ["lrn", "set_params"])
def test_an_invalid_dotted_value_is_reported_under_its_dotted_name(how):
    with pytest.raises(ParameterError, match=r"'opt\.betas': \(2, 3\)") as caught:
        if how == "lrn":
            lrn("classif.mlp", **{"opt.betas": (2, 3)})
        else:
            lrn("classif.mlp").set_params(**{"opt.betas": (2, 3)})
    assert "less than 1" in str(caught.value)


@pytest.mark.parametrize(
    "y",
    [
        np.array([1, "a", 1, "a", 2, "b"], dtype=object),
        [1, "a", 1, "a", 2, "b"],
        [True, 0, 1, False, True, 0],
        pd.Series([1.5, "x", 1.5, "x", "y", 2.5]),
    ],
    ids=["object-array", "list", "bool-and-int-list", "series"],
)
def test_mixed_label_types_are_refused(y):
    X = np.zeros((len(y), 2))
    learner = lrn("classif.mlp", epochs=1)
    with pytest.raises(DataError, match="mixes label types"):
        learner.fit(X, y)
    assert not hasattr(learner, "classes_")


def test_mixed_label_types_in_validation_data_are_refused():
    X = np.zeros((6, 2))
    learner = lrn("classif.mlp", epochs=1)
    with pytest.raises(DataError, match="mixes label types|not in the training data"):
        learner.fit(X, [1, 2, 1, 2, 1, 2], validation_data=(X[:2], [1, "2"]))


@given(
    st.lists(st.integers(0, 6), min_size=1, max_size=40),
    st.booleans(),
    st.sampled_from([np.int64, np.int8, np.int32, np.uint8, np.uint32]),
)
def test_integer_labels_encode_as_numpy_unique_does(labels, complete, dtype):
    """The counting short paths (gaps in the labels, or labels 0..k-1 all present) give the
    classes and codes of ``np.unique``, and never share memory with the user's y."""
    from mlrpy.learners.classif import _classes_and_codes

    if complete:  # every label from 0 to the largest present
        labels = labels + list(range(max(labels) + 1))
    y = np.array(labels, dtype=dtype)
    before = y.copy()
    classes, codes = _classes_and_codes(y)
    expected_classes, expected_codes = np.unique(y, return_inverse=True)
    assert classes.dtype == y.dtype
    np.testing.assert_array_equal(classes, expected_classes)
    np.testing.assert_array_equal(codes.reshape(-1), expected_codes.reshape(-1))
    assert not np.shares_memory(codes, y)
    codes[...] = 0
    np.testing.assert_array_equal(y, before)


@pytest.mark.parametrize("y", [["a", "b", "a", "b"], [1, 2, 1, 2], [1.0, 2, 1, 2.0], [True, False, True, False],
                               np.array(["a", "b", "a", "b"], dtype=object)])
def test_labels_of_one_type_keep_their_type(y):
    X = np.zeros((4, 1))
    learner = lrn("classif.torch_featureless", epochs=0).fit(X, y)
    assert sorted(learner.classes_.tolist()) == sorted(set(y))
    assert learner.predict(X).dtype.kind == np.asarray(y).dtype.kind
    assert set(learner.predict(X).tolist()) <= set(y)


# -- param_set -----------------------------------------------------------------------------


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


@pytest.mark.parametrize("key", ALL_KEYS)
def test_param_set_describes_every_plain_parameter(key):
    learner = make(key)
    table = learner.param_set
    assert not table.map(is_nan).to_numpy().any()
    plain = table.set_index("id").loc[list(learner.get_params(deep=False))]
    for name, row in plain.to_dict("index").items():  # (iterrows would turn None into NaN)
        constraint = learner._parameter_constraints.get(name)
        assert row["type"] == (constraint.type_name if constraint else "any"), name
        assert row["lower"] == (constraint.lower if constraint else None), name
        assert row["upper"] == (constraint.upper if constraint else None), name
        assert row["value"] is getattr(learner, name)
    assert list(table["id"]) == list(dict.fromkeys(table["id"]))  # each parameter once


def test_param_set_shows_the_documented_bounds_and_defaults():
    table = lrn("classif.mlp").param_set.set_index("id")
    rows = table.loc[["epochs", "batch_size", "p", "validate", "patience", "shuffle", "device"],
                     ["type", "lower", "upper", "default"]]
    assert rows.to_dict("index") == {
        "epochs": {"type": "int", "lower": 0, "upper": None, "default": 20},
        "batch_size": {"type": "int", "lower": 1, "upper": None, "default": 32},
        "p": {"type": "float", "lower": 0, "upper": 1, "default": 0.0},
        "validate": {"type": "float", "lower": 0, "upper": 1, "default": None},
        "patience": {"type": "int", "lower": 0, "upper": None, "default": 0},
        "shuffle": {"type": "bool", "lower": None, "upper": None, "default": True},
        "device": {"type": "choice", "lower": None, "upper": None, "default": "auto"},
    }


def test_param_set_shows_the_current_values():
    table = lrn("classif.mlp", epochs=3, **{"opt.lr": 0.5}).param_set.set_index("id")
    assert table.loc["epochs", "value"] == 3 and table.loc["epochs", "default"] == 20
    assert table.loc["opt.lr", "value"] == 0.5


# -- constraints ---------------------------------------------------------------------------

ints_floats_bools = st.one_of(
    st.integers(-10, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.integers(-3, 3).map(np.int64), st.just(np.float64(0.5)), st.just(np.bool_(True)),
)


def is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


RULES = {
    "epochs": (lambda v: is_int(v) and v >= 0, "must be an integer >= 0"),
    "batch_size": (lambda v: is_int(v) and v >= 1, "must be an integer >= 1"),
    "p": (lambda v: is_real(v) and not math.isnan(v) and 0 <= v < 1, "must be a number >= 0 and < 1"),
    "validate": (lambda v: is_real(v) and not math.isnan(v) and 0 < v < 1,
                 "must be None, a fraction in (0, 1), 'predefined' or 'test'"),
}


@pytest.mark.parametrize("name", sorted(RULES))
@settings(max_examples=60, deadline=None)
@given(value=ints_floats_bools)
def test_constraints_accept_exactly_the_values_within_bounds(name, value):
    learner = lrn("classif.mlp").set_params(**{name: value})
    accepts, message = RULES[name]
    if accepts(value):
        learner.check_params()
    else:
        with pytest.raises(ParameterError, match=re.escape(f"'{name}' {message}, got {value!r}")):
            learner.check_params()


@pytest.mark.parametrize(("name", "value", "message"), [
    ("epochs", -1, "'epochs' must be an integer >= 0, got -1"),
    ("epochs", 2.0, "'epochs' must be an integer >= 0, got 2.0"),
    ("batch_size", True, "'batch_size' must be an integer >= 1, got True"),
    ("p", 1, "'p' must be a number >= 0 and < 1, got 1"),
    ("validate", "train", "'validate' must be None, a fraction in (0, 1), 'predefined' or 'test', got 'train'"),
    ("shuffle", "yes", "'shuffle' must be True or False, got 'yes'"),
    ("device", "gpu", "'device' must be one of ('auto', 'cpu', 'cuda', 'mps'), 'cuda:N' or a torch.device, got 'gpu'"),
    ("on_nonfinite", "skip", "'on_nonfinite' must be one of ('raise', 'warn', 'ignore'), got 'skip'"),
])
def test_fit_refuses_a_bad_value_before_touching_anything(name, value, message):
    learner = lrn("classif.mlp", epochs=1)
    learner.set_params(**{name: value})  # scikit-learn's rule: stored as given, checked by fit
    assert getattr(learner, name) == value
    with pytest.raises(ParameterError, match=re.escape(message)):
        learner.fit(np.zeros((4, 2)), [0, 1, 0, 1])
    assert not hasattr(learner, "model_")


@pytest.mark.parametrize(("value", "ok"), [("predefined", True), ("test", True), (None, True), (0.5, True)])
def test_validate_accepts_its_documented_choices(value, ok):
    lrn("classif.mlp", validate=value).check_params()
