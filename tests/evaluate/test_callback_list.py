"""``CallbackList``: the learner's callbacks, driven by a hand-written loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlrpy import (
    Batch,
    CallbackDefinitionError,
    CallbackList,
    CallbackSet,
    CallbackStageError,
    ParameterError,
    lrn,
    t_clbk,
    torch_callback,
)
from mlrpy.callbacks import ALL_STAGES


class CallbackSetLate(CallbackSet):
    weight = 5.0

    def on_begin(self):
        self.ctx.order.append(self.id)

    def on_exit(self):
        self.ctx.exited.append(self.id)


def recorder(id: str, weight: float | None = None):
    def on_begin(self):
        self.ctx.order.append(self.id)

    def on_exit(self):
        self.ctx.exited.append(self.id)

    return torch_callback(id, on_begin=on_begin, on_exit=on_exit, weight=weight)


def test_accepts_what_callbacks_accepts_and_sorts_stably_by_weight():
    cl = CallbackList([CallbackSetLate, recorder("a"), recorder("early", weight=-1), recorder("b")],
                      order=[], exited=[])
    assert [cb.id for cb in cl.callbacks] == ["early", "a", "b", "late"]
    cl.on_begin()
    assert cl.ctx.order == ["early", "a", "b", "late"]
    assert [cb.id for cb in CallbackList("history").callbacks] == ["history"]
    # fresh instances each time
    assert CallbackList(["history"]).callbacks[0] is not CallbackList(["history"]).callbacks[0]


def test_the_learners_ordering_checks_apply():
    with pytest.raises(ParameterError, match="unique"):
        CallbackList(["history", "history"])

    def keep(self):
        pass

    stateful = torch_callback("stateful", weight=float("inf"), on_epoch_end=keep,
                              state_dict=lambda self: 1, load_state_dict=lambda self, s: None)
    with pytest.raises(CallbackDefinitionError, match="stateful"):
        CallbackList([t_clbk("checkpoint", path="unused"), stateful])


def test_exit_runs_on_the_way_out_also_after_an_error():
    cl = CallbackList([recorder("a"), recorder("b")], order=[], exited=[])
    with pytest.raises(RuntimeError, match="boom"), cl:
        cl.on_begin()
        raise RuntimeError("boom")
    assert cl.ctx.exited == ["a", "b"]


def test_every_stage_has_a_method_and_unknown_stages_are_refused():
    calls = []
    tc = torch_callback("all", **{s: (lambda name: lambda self: calls.append(name))(s) for s in ALL_STAGES})
    cl = CallbackList(tc)
    for stage in ALL_STAGES:
        getattr(cl, stage)()
    assert calls == list(ALL_STAGES)
    cl.call("on_epoch_end")
    assert calls[-1] == "on_epoch_end"
    with pytest.raises(ParameterError, match="on_epoch_end"):
        cl.call("on_epoch_ned")


def test_a_failing_stage_names_the_callback():
    def fail(self):
        raise ValueError("bad")

    cl = CallbackList(torch_callback("fails", on_epoch_end=fail))
    with pytest.raises(CallbackStageError, match="fails"):
        cl.on_epoch_end()


def test_a_field_the_loop_did_not_fill_is_named_with_the_callback():
    cl = CallbackList(["history", "terminate_on_nan", t_clbk("early_stopping", patience=1)])
    cl.ctx.epoch = 1
    with pytest.raises(ParameterError, match=r"Callback 'terminate_on_nan' reads ctx\.network at on_epoch_begin"):
        cl.on_epoch_begin()
    cl.ctx.network = torch.nn.Linear(1, 1)
    cl.on_epoch_begin()  # filled now: the check passes
    with pytest.raises(ParameterError, match=r"Callback 'terminate_on_nan' reads ctx\.loss at on_after_loss"):
        cl.on_after_loss()
    cl.ctx.batch = Batch(torch.zeros(2, 1), torch.zeros(2), torch.arange(2))
    cl.ctx.loss = torch.tensor(0.5)
    cl.on_after_loss()
    cl.on_batch_end()
    cl.ctx.last_scores_valid = None  # None is fine where training has no validation either
    cl.on_epoch_end()


def test_the_list_computes_the_epochs_training_loss_unless_the_loop_did():
    cl = CallbackList(["history"])
    for epoch, losses in ((1, [0.5, 1.0]), (2, [2.0])):
        cl.ctx.epoch = epoch
        cl.on_epoch_begin()
        for size, loss in zip((3, 1), losses):
            cl.ctx.batch = Batch(torch.zeros(size, 1), torch.zeros(size), torch.arange(size))
            cl.ctx.loss = torch.tensor(loss)
            cl.on_batch_end()
        if epoch == 2:
            cl.ctx.train_loss = 7.0  # the loop's own value wins
        cl.on_epoch_end()
    assert cl.state_dicts()["history"]["train.loss"].tolist() == [(3 * 0.5 + 1.0) / 4, 7.0]


def test_state_dicts_match_the_learners_model_callbacks(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, callbacks=["history"]).fit(X, y)
    # replay the recorded per-epoch scores through a CallbackList's history
    cl = CallbackList(["history"])
    for epoch, loss in enumerate(learner.model.callbacks["history"]["train.loss"], start=1):
        cl.ctx.epoch = epoch
        cl.on_epoch_begin()
        cl.ctx.batch = Batch(torch.zeros(4, 1), torch.zeros(4), torch.arange(4))
        cl.ctx.loss = torch.tensor(loss)
        cl.on_batch_end()
        cl.on_epoch_end()
    ours, theirs = cl.state_dicts()["history"], learner.model.callbacks["history"]
    assert ours.keys() == theirs.keys()
    np.testing.assert_allclose(ours["train.loss"], theirs["train.loss"], rtol=1e-6)
