"""Callback definitions and parameters: inferred schemas, weights, construction errors, and what
a learner's ``callbacks`` accepts."""

from __future__ import annotations

import math
import pickle
from typing import Annotated

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field

from mlrpy import (
    CallbackDefinitionError,
    CallbackSet,
    CallbackStageError,
    MlrpyError,
    ParameterError,
    TorchCallback,
    lrn,
    t_clbk,
    torch_callback,
)
from mlrpy.callbacks import as_torch_callbacks, select_name
from mlrpy.params import ParamModel


class CallbackSetMyLogger(CallbackSet):
    """Logs nothing, with a bounded and documented parameter."""

    def __init__(self, alpha: Annotated[float, Field(gt=0, lt=1, description="smoothing factor")] = 0.1):
        self.alpha = alpha

    def on_epoch_end(self):
        pass


# -- schemas inferred from signatures ------------------------------------------------------------
def test_user_callbacks_get_bounds_and_descriptions_from_annotated_signatures():
    def init(self, n: Annotated[int, Field(ge=2, description="how many")], tag: str = "x"):
        self.n = n

    for tc in (torch_callback("fn_form", initialize=init, on_end=lambda self: None),
               torch_callback("class_form")(type("CallbackSetClassForm", (CallbackSet,), {
                   "__init__": init, "on_end": lambda self: None}))):
        field = tc.param_set.model_fields["n"]
        assert field.description == "how many" and field.is_required()
        with pytest.raises(ParameterError, match=rf"cb\.{tc.id}\.n.*1"):
            tc.set_values(n=1)
        assert "    n (int, required, >= 2): how many" in tc.man.splitlines()
        assert "    n (int, required, >= 2): how many" in repr(tc).splitlines()
        assert "    tag (str, default 'x')" in repr(tc).splitlines()


def test_a_default_inside_annotated_is_refused():
    def init(self, n: Annotated[int, Field(3, ge=1)] = 3):
        pass

    with pytest.raises(ParameterError, match="'n' states its default inside Annotated"):
        torch_callback("double_default", initialize=init, on_end=lambda self: None)


def test_explicit_param_set_still_wins():
    class Params(ParamModel):
        alpha: float = Field(0.5, ge=0.5)

    tc = TorchCallback("explicit", CallbackSetMyLogger, param_set=Params)
    assert tc.get_values() == {"alpha": 0.5}
    with pytest.raises(ParameterError, match=r"cb\.explicit\.alpha"):
        tc.set_values(alpha=0.2)


# -- weight --------------------------------------------------------------------------------------
@pytest.mark.parametrize("weight", [0, -3, 2.5, math.inf, np.float32(4.0), np.int64(7), None])
def test_weight_accepts_real_numbers(weight):
    tc = torch_callback("weighted", on_end=lambda self: None, weight=weight)
    tc.weight = weight
    expected = 0.0 if weight is None else float(weight)
    assert tc.effective_weight == expected and tc.generate().weight == expected


@pytest.mark.parametrize("weight", ["high", math.nan, True, [1], 1 + 2j])
def test_weight_is_checked_when_set(weight):
    with pytest.raises(ParameterError, match=r"'weighted'.*weight must be a real number.*got") as info:
        torch_callback("weighted", on_end=lambda self: None, weight=weight)
    assert repr(weight) in str(info.value)
    tc = t_clbk("history")
    with pytest.raises(ParameterError, match=r"'history'.*weight must be a real number") as info:
        tc.weight = weight
    assert repr(weight) in str(info.value)
    assert tc.weight is None  # unchanged
    with pytest.raises(CallbackDefinitionError, match="weight must be a real number"):
        type("CallbackSetBadWeight", (CallbackSet,), {"weight": weight, "on_end": lambda self: None})


# -- construction errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "expected"),
    [(ValueError("alpha too big"), ParameterError), (TypeError("wrong"), ParameterError),
     (RuntimeError("no device"), CallbackStageError), (KeyError("missing"), CallbackStageError)],
)
def test_constructor_errors_name_the_callback_and_chain_the_original(error, expected):
    def init(self):
        raise error

    tc = torch_callback("fragile", initialize=init, on_end=lambda self: None)
    with pytest.raises(expected, match="'fragile'") as info:
        tc.generate()
    assert isinstance(info.value, MlrpyError) and info.value.__cause__ is error


# -- what callbacks= accepts --------------------------------------------------------------------
@pytest.mark.parametrize("bad", [42, 3.5, {"history": {}}, b"history", object()])
def test_other_values_are_refused_with_what_is_accepted(bad, iris_xy):
    for value in (bad, [bad]):
        with pytest.raises(ParameterError, match="registry key.*TorchCallback.*CallbackSet subclass"):
            as_torch_callbacks(value)
    X, y = iris_xy
    with pytest.raises(ParameterError, match="registry key.*TorchCallback.*CallbackSet subclass"):
        lrn("classif.mlp", epochs=1, callbacks=bad).fit(X, y)


def test_a_callback_set_subclass_is_wrapped_with_an_id_from_its_name(iris_xy):
    (tc,) = as_torch_callbacks(CallbackSetMyLogger)
    assert isinstance(tc, TorchCallback) and tc.id == "my_logger" and tc.generator is CallbackSetMyLogger
    assert tc.param_set.model_fields["alpha"].description == "smoothing factor"
    assert [t.id for t in as_torch_callbacks([CallbackSetMyLogger, "history"])] == ["my_logger", "history"]
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, callbacks=[CallbackSetMyLogger], random_state=0)
    assert learner.get_params()["cb.my_logger.alpha"] == 0.1
    learner.set_params(**{"cb.my_logger.alpha": 0.3})
    assert learner.get_params()["cb.my_logger.alpha"] == 0.3
    learner.fit(X, y)
    with pytest.raises(ParameterError, match=r"cb\.my_logger\.alpha"):
        learner.set_params(**{"cb.my_logger.alpha": 2.0})
    assert pickle.loads(pickle.dumps(learner)).get_params()["cb.my_logger.alpha"] == 0.3


def test_a_callback_set_instance_is_refused_with_the_fix():
    with pytest.raises(ParameterError, match=r"instance of CallbackSetMyLogger.*Pass the class.*fresh instance"):
        as_torch_callbacks([CallbackSetMyLogger()])


def test_a_class_that_is_no_callback_set_is_refused():
    with pytest.raises(ParameterError, match="CallbackSet subclass"):
        as_torch_callbacks([dict])


# -- select_name --------------------------------------------------------------------------------
@given(names=st.lists(st.sampled_from(["0.weight", "0.bias", "2.weight", "2.bias"]), min_size=1, unique=True))
def test_select_name_takes_names_or_one_list(names):
    params = ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert select_name(names) == select_name(*names) == select_name(tuple(names))
    assert select_name(names)(params) == [p for p in params if p in names]


@pytest.mark.parametrize("bad", [(), ([],), ([1],), ("a", ["b"])])
def test_select_name_bad_arguments(bad):
    with pytest.raises(ParameterError, match="select_name"):
        select_name(*bad)
