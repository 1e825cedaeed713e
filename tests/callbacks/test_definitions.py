"""Defining callbacks (both forms and their checks), the registry and printing."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlrpy
from mlrpy import (
    CallbackDefinitionError,
    CallbackSet,
    ParameterError,
    TorchCallback,
    UnknownKeyError,
    callback_set,
    mlr_callbacks,
    t_clbk,
    t_clbks,
    torch_callback,
)


def init_fn(self, alpha: float = 0.1):
    self.alpha = alpha
    self.moving_loss = None


def batch_end_fn(self):
    loss = self.ctx.last_loss
    self.moving_loss = loss if self.moving_loss is None else self.alpha * loss + (1 - self.alpha) * self.moving_loss


def state_fn(self):
    return self.moving_loss


def load_fn(self, state):
    self.moving_loss = state


custom_logger = torch_callback(
    "custom_logger", initialize=init_fn, on_batch_end=batch_end_fn, state_dict=state_fn, load_state_dict=load_fn
)


@torch_callback("decorated_logger")
class CallbackSetDecoratedLogger(CallbackSet):
    def __init__(self, alpha: float = 0.1):
        self.alpha = alpha

    def on_batch_end(self):
        pass


def test_both_forms_give_torch_callbacks_with_inferred_schema():
    for tc in (custom_logger, CallbackSetDecoratedLogger):
        assert isinstance(tc, TorchCallback)
        assert issubclass(tc.generator, CallbackSet)
        assert tc.param_set.model_fields["alpha"].annotation is float
        assert tc.get_values() == {"alpha": 0.1}
        assert tc.stages == ["on_batch_end"]
    assert custom_logger.generator.__name__ == "CallbackSetCustomLogger"


def test_schema_inference_required_and_untyped():
    def init(self, required: int, untyped="x", ratio: float = 0.5):
        pass

    tc = torch_callback("inferred", initialize=init, on_end=lambda self: None)
    fields = tc.param_set.model_fields
    assert fields["required"].is_required()
    assert not fields["untyped"].is_required()
    with pytest.raises(ParameterError, match="cb.inferred.required"):
        tc.generate()
    tc.set_values(required=3)
    assert tc.generate().__class__.__name__ == "CallbackSetInferred"


def test_explicit_pydantic_param_set():
    from pydantic import Field

    class Params(mlrpy.params.ParamModel):
        alpha: float = Field(0.1, gt=0, lt=1)

    tc = torch_callback("bounded", initialize=init_fn, on_batch_end=batch_end_fn, param_set=Params)
    with pytest.raises(ParameterError, match=r"'cb\.bounded\.alpha'.*1\.5"):
        tc.set_values(alpha=1.5)
    with pytest.raises(ParameterError, match=r"cb\.bounded\.alpha.*'abc'"):
        tc.set_values(alpha="abc")
    assert tc.get_values() == {"alpha": 0.1}  # a rejected value changes nothing


def test_misspelled_stage_suggests():
    with pytest.raises(CallbackDefinitionError, match="on_btach_end.*Did you mean 'on_batch_end'"):
        torch_callback("typo", on_btach_end=lambda self: None)
    with pytest.raises(CallbackDefinitionError, match="on_epoch_ned.*on_epoch_end"):

        class CallbackSetTypo(CallbackSet):
            def on_epoch_ned(self):
                pass


def test_state_dict_without_load_is_an_error():
    with pytest.raises(CallbackDefinitionError, match="'state_dict' but not 'load_state_dict'"):
        torch_callback("half", on_end=lambda self: None, state_dict=lambda self: 1)
    with pytest.raises(CallbackDefinitionError, match="load_state_dict"):

        class CallbackSetHalf(CallbackSet):
            def load_state_dict(self, state):
                pass


def test_stage_with_arguments_is_an_error():
    with pytest.raises(CallbackDefinitionError, match="'args_cb'.*on_batch_end.*only 'self'"):
        torch_callback("args_cb", on_batch_end=lambda self, x: None)


@pytest.mark.parametrize("name", ["ctx", "weight"])
def test_reserved_parameter_names(name):
    ns: dict = {}
    exec(f"def init(self, {name}=1): pass", ns)
    with pytest.raises(CallbackDefinitionError, match=f"'{name}' is reserved"):
        torch_callback("reserved", initialize=ns["init"], on_end=lambda self: None)


@pytest.mark.parametrize("bad_id", ["has.dot", "double__under", "1starts_digit", "with space", ""])
def test_invalid_ids(bad_id):
    with pytest.raises(ParameterError, match="not valid"):
        torch_callback(bad_id, on_end=lambda self: None)


def test_invalid_parameter_name():
    ns: dict = {}
    exec("def init(self, a__b=1): pass", ns)
    with pytest.raises(CallbackDefinitionError, match="a__b"):
        torch_callback("dunder_param", initialize=ns["init"], on_end=lambda self: None)


def test_callback_set_helper_builds_a_class():
    cls = callback_set("CallbackSetHello", initialize=init_fn, on_batch_end=batch_end_fn)
    assert issubclass(cls, CallbackSet) and cls.__name__ == "CallbackSetHello"
    obj = cls(alpha=0.3)
    assert obj.alpha == 0.3 and cls.stages() == ["on_batch_end"]


def test_weight_argument_and_class_attribute():
    tc = torch_callback("weighted", on_end=lambda self: None, weight=7)
    assert tc.generate().weight == 7

    class CallbackSetHeavy(CallbackSet):
        weight = 3.0

        def on_end(self):
            pass

    assert TorchCallback("heavy", CallbackSetHeavy).effective_weight == 3.0


def test_printing_like_mlr3torch():
    text = repr(t_clbk("progress", digits=2))
    assert text.splitlines()[0] == "<TorchCallback:progress> Progress"
    assert "* Generator: CallbackSetProgress" in text
    assert "* Parameters: digits=2, bars=True" in text
    assert "* Packages: mlrpy,torch,tqdm" in text


# -- registry -------------------------------------------------------------------------------


def test_t_clbk_returns_fresh_copies_with_values():
    a, b = t_clbk("progress", digits=5), t_clbk("progress")
    assert a is not b and a.get_values()["digits"] == 5 and b.get_values()["digits"] == 3
    assert mlr_callbacks.get("progress").get_values()["digits"] == 3


def test_suffix_gives_second_instance():
    tc = t_clbk("history_2")
    assert tc.id == "history_2" and tc.generator is t_clbk("history").generator
    assert tc.key_prefix == "cb.history_2."


def test_unknown_key_lists_closest():
    with pytest.raises(KeyError, match="Did you mean 'history'"):
        t_clbk("histroy")
    with pytest.raises(UnknownKeyError, match="mlr_learners"):
        mlrpy.lrn("classif.mpl")
    with pytest.raises(UnknownKeyError, match="Did you mean 'iris'"):
        mlrpy.tsk("irsi")


def test_add_and_as_frame():
    tc = torch_callback("registered_cb", initialize=init_fn, on_batch_end=batch_end_fn)
    mlr_callbacks.add(tc)
    try:
        frame = mlr_callbacks.as_frame()
        assert isinstance(frame, pd.DataFrame)
        assert {"key", "label", "stages", "parameters", "packages"} <= set(frame.columns)
        row = frame.set_index("key").loc["registered_cb"]
        assert row["stages"] == "on_batch_end" and "alpha=0.1" in row["parameters"]
        assert t_clbk("registered_cb", alpha=0.2).get_values() == {"alpha": 0.2}
        assert [c.id for c in t_clbks(["history", "registered_cb"])] == ["history", "registered_cb"]
    finally:
        mlr_callbacks.remove("registered_cb")


def test_dictionary_for_every_registry():
    for reg in (mlrpy.mlr_learners, mlrpy.mlr_tasks, mlrpy.mlr_callbacks, mlrpy.mlr_optimizers, mlrpy.mlr_losses):
        assert isinstance(reg, mlrpy.Dictionary) and len(reg.as_frame()) == len(reg.keys())


# -- pickling ---------------------------------------------------------------------------------


def test_functional_and_decorated_callbacks_pickle():
    for tc in (custom_logger.clone().set_values(alpha=0.3), CallbackSetDecoratedLogger):
        back = pickle.loads(pickle.dumps(tc))
        assert back.id == tc.id and back.get_values() == tc.get_values()
        assert back.generate().stages() == tc.stages


@settings(max_examples=30, deadline=None)
@given(alpha=st.floats(allow_nan=False, allow_infinity=False))
def test_values_round_trip_through_validation(alpha):
    tc = custom_logger.clone().set_values(alpha=alpha)
    assert tc.generate().alpha == alpha
