"""The training loop's contract (see docs/design.md): stage order, terminate, errors, state."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import torch

import mlrpy
from mlrpy import CallbackSet, CallbackStageError, lrn, torch_callback, tsk
from mlrpy.callbacks import running_mean
from mlrpy.learners import loop
from mlrpy.learners.loop import DivergenceGuard
from tests.conftest import make_trace_callback

BATCH_STAGES = ["on_batch_begin", "on_after_forward", "on_after_loss", "on_after_backward", "on_batch_end"]


def expected_trace(epochs: int, n_batches: int, n_valid_batches: int | None, eval_freq: int = 1) -> list[str]:
    """The stage sequence written out from the loop diagram in docs/design.md."""
    out = ["on_begin"]
    for epoch in range(1, epochs + 1):
        out.append("on_epoch_begin")
        out += BATCH_STAGES * n_batches
        out.append("on_before_valid")
        if n_valid_batches is not None and (epoch % eval_freq == 0 or epoch == epochs):
            out.append("on_valid_begin")
            out += ["on_batch_valid_begin", "on_batch_valid_end"] * n_valid_batches
            out.append("on_valid_end")
        out.append("on_epoch_end")
    return [*out, "on_end", "on_exit"]


def test_stage_order_without_validation(iris_xy):
    X, y = iris_xy
    tc, log = make_trace_callback()
    lrn("classif.mlp", epochs=2, batch_size=50, callbacks=[tc], random_state=0).fit(X, y)
    assert log == expected_trace(2, 3, None)


def test_stage_order_with_validation_and_eval_freq(iris_xy):
    X, y = iris_xy
    tc, log = make_trace_callback()
    learner = lrn("classif.mlp", epochs=5, batch_size=50, eval_freq=2, callbacks=[tc], random_state=0)
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert log == expected_trace(5, 2, 1, eval_freq=2)


def test_predict_stages_fire_on_predict(iris_xy):
    X, y = iris_xy
    tc, log = make_trace_callback()
    learner = lrn("classif.mlp", epochs=1, batch_size=50, callbacks=[tc], random_state=0).fit(X, y)
    log.clear()
    learner.predict(X)
    assert log == ["on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end", "on_predict_end"]
    assert not any(s in log for s in mlrpy.STAGES)


def test_stage_constants_are_public_and_ordered():
    assert mlrpy.STAGES[0] == "on_begin" and mlrpy.STAGES[-1] == "on_exit"
    assert len(mlrpy.STAGES) == 15 and len(mlrpy.PREDICT_STAGES) == 4
    assert mlrpy.STAGES.index("on_after_forward") < mlrpy.STAGES.index("on_after_loss")


def _terminating(stage: str, when):
    def fn(self):
        if when(self.ctx):
            self.ctx.terminate = True

    return torch_callback("stopper", **{stage: fn})


def test_terminate_in_on_begin_trains_zero_epochs(iris_xy):
    X, y = iris_xy
    tc, log = make_trace_callback()
    stop = _terminating("on_begin", lambda ctx: True)
    learner = lrn("classif.mlp", epochs=5, batch_size=50, callbacks=[stop, tc], random_state=0).fit(X, y)
    assert learner.model.epochs == 0
    assert log == ["on_begin", "on_end", "on_exit"]


def test_terminate_mid_epoch_finishes_that_epoch(iris_xy):
    X, y = iris_xy
    tc, log = make_trace_callback()
    stop = _terminating("on_batch_end", lambda ctx: ctx.epoch == 2 and ctx.step == 1)
    learner = lrn("classif.mlp", epochs=5, batch_size=50, callbacks=[stop, tc], random_state=0)
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert learner.model.epochs == 2
    # the epoch in which terminate was set still ran all its batches, validation and on_epoch_end
    assert log == expected_trace(2, 2, 1)[:-2] + ["on_end", "on_exit"]


def test_ctx_counters_and_batch_fields(iris_xy):
    X, y = iris_xy
    seen = []

    def record(self):
        c = self.ctx
        seen.append((c.epoch, c.step, c.global_step, len(c.batch.index), tuple(c.batch.x.shape)))

    tc = torch_callback("rec", on_batch_end=record)
    lrn("classif.mlp", epochs=2, batch_size=64, callbacks=[tc], random_state=0, shuffle=False).fit(X, y)
    assert [s[:3] for s in seen] == [(1, 1, 1), (1, 2, 2), (1, 3, 3), (2, 1, 4), (2, 2, 5), (2, 3, 6)]
    assert [s[3] for s in seen[:3]] == [64, 64, 22]
    assert seen[0][4] == (64, 4)


def test_last_loss_is_previous_batch_in_after_backward(iris_xy):
    X, y = iris_xy
    seen = []

    def after_backward(self):
        seen.append(("ab", self.ctx.last_loss, float(self.ctx.loss.detach())))

    def batch_end(self):
        seen.append(("be", self.ctx.last_loss, float(self.ctx.loss.detach())))
        grads = [p.grad for p in self.ctx.network.parameters()]
        assert all(g is not None for g in grads)

    tc = torch_callback("probe", on_after_backward=after_backward, on_batch_end=batch_end)
    lrn("classif.mlp", epochs=1, batch_size=50, callbacks=[tc], random_state=0).fit(X, y)
    assert seen[0][1] is None  # no previous batch yet
    for i in range(0, len(seen), 2):
        ab, be = seen[i], seen[i + 1]
        assert be[1] == pytest.approx(be[2])  # updated after backward
        if i >= 2:
            assert ab[1] == pytest.approx(seen[i - 1][2])  # still the previous batch's loss


def test_on_after_loss_can_replace_the_loss(iris_xy):
    X, y = iris_xy

    def zero_loss(self):
        self.ctx.loss = self.ctx.loss * 0.0

    tc = torch_callback("zero", on_after_loss=zero_loss)
    learner = lrn("classif.mlp", epochs=2, callbacks=[tc], random_state=3, device="cpu").fit(X, y)
    untrained = lrn("classif.mlp", epochs=0, random_state=3, device="cpu").fit(X, y)
    for a, b in zip(learner.model.network.parameters(), untrained.model.network.parameters()):
        torch.testing.assert_close(a, b)


def test_exception_in_stage_names_callback_and_stage_and_on_exit_runs(iris_xy):
    X, y = iris_xy
    exited = []

    def boom(self):
        if self.ctx.epoch == 2:
            raise ValueError("kaputt")

    tc = torch_callback("bomb", on_epoch_end=boom, on_exit=lambda self: exited.append(self.ctx.epoch))
    learner = lrn("classif.mlp", epochs=3, callbacks=[tc], random_state=0)
    with pytest.raises(CallbackStageError, match=r"'bomb'.*'on_epoch_end'.*kaputt") as info:
        learner.fit(X, y)
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.callback_id == "bomb" and info.value.stage == "on_epoch_end"
    assert exited == [2]


def test_error_in_one_on_exit_does_not_stop_the_others(iris_xy):
    X, y = iris_xy
    ran = []

    def bad_exit(self):
        raise RuntimeError("exit failed")

    a = torch_callback("a", on_exit=bad_exit)
    b = torch_callback("b", on_exit=lambda self: ran.append("b"))
    with pytest.raises(CallbackStageError, match="'a'.*on_exit"):
        lrn("classif.mlp", epochs=1, callbacks=[a, b], random_state=0).fit(X, y)
    assert ran == ["b"]


def test_ctx_is_none_outside_a_run(iris_xy):
    X, y = iris_xy
    instances = []

    class CallbackSetKeep(CallbackSet):
        def on_begin(self):
            instances.append(self)

    tc = mlrpy.TorchCallback("keep", CallbackSetKeep)
    lrn("classif.mlp", epochs=1, callbacks=[tc], random_state=0).fit(X, y)
    lrn("classif.mlp", epochs=1, callbacks=[tc], random_state=0).fit(X, y)
    assert len(instances) == 2 and instances[0] is not instances[1]  # fresh instance per run
    assert all(cb.ctx is None for cb in instances)


def test_keyboard_interrupt_propagates_and_keeps_model(iris_xy):
    X, y = iris_xy
    exited = []

    def interrupt(self):
        if self.ctx.epoch == 3 and self.ctx.step == 2:
            raise KeyboardInterrupt

    tc = torch_callback("ctrl_c", on_batch_end=interrupt, on_exit=lambda self: exited.append(True))
    learner = lrn("classif.mlp", epochs=10, batch_size=50, callbacks=[tc], random_state=0)
    with pytest.raises(KeyboardInterrupt):
        learner.fit(X, y)
    assert exited == [True]
    assert learner.model.interrupted is True
    assert learner.model.epochs == 2
    assert learner.predict(X).shape == (150,)


def test_state_collection_only_non_none(iris_xy):
    X, y = iris_xy
    stateful = torch_callback(
        "stateful",
        initialize=lambda self: setattr(self, "n", 0),
        on_batch_end=lambda self: setattr(self, "n", self.n + 1),
        state_dict=lambda self: self.n,
        load_state_dict=lambda self, s: setattr(self, "n", s),
    )
    stateless = torch_callback("stateless", on_epoch_end=lambda self: None)
    learner = lrn("classif.mlp", epochs=2, batch_size=50, callbacks=[stateful, stateless, "history"])
    learner.fit(X, y)
    assert learner.model.callbacks["stateful"] == 6
    assert "stateless" not in learner.model.callbacks
    hist = learner.model.callbacks["history"]
    assert isinstance(hist, dict) and list(hist["epoch"]) == [1, 2]


def test_history_columns_with_validation(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=3, callbacks=["history"], validate=0.3, eval_freq=2,
                  measures_valid=["classif.acc"], random_state=0)
    learner.fit(X, y)
    hist = pd.DataFrame(learner.model.callbacks["history"])
    assert list(hist.columns[:2]) == ["epoch", "train.loss"]
    assert hist["valid.loss"].isna().tolist() == [True, False, False]
    assert hist["valid.classif.acc"].between(0, 1).iloc[1:].all()
    assert learner.internal_valid_scores["classif.acc"] == hist["valid.classif.acc"].iloc[-1]


def test_weight_ordering_is_stable_and_inf_runs_last(iris_xy):
    X, y = iris_xy
    order = []

    def mk(id, weight):
        return torch_callback(id, on_begin=lambda self: order.append(self.id), weight=weight)

    cbs = [mk("late", float("inf")), mk("a", 0), mk("heavy", 5), mk("b", 0), mk("light", -1)]
    lrn("classif.mlp", epochs=0, callbacks=cbs).fit(X, y)
    assert order == ["light", "a", "b", "heavy", "late"]


def test_stateful_callback_after_checkpoint_is_an_error(iris_xy):
    X, y = iris_xy

    class CallbackSetFakeCheckpoint(CallbackSet):
        saves_other_states = True
        weight = float("inf")

        def on_epoch_end(self):
            pass

    class CallbackSetLateState(CallbackSet):
        weight = float("inf")

        def on_epoch_end(self):
            pass

        def state_dict(self):
            return 1

        def load_state_dict(self, state):
            pass

    ckpt = mlrpy.TorchCallback("fake_checkpoint", CallbackSetFakeCheckpoint)
    late = mlrpy.TorchCallback("late_state", CallbackSetLateState)
    with pytest.raises(mlrpy.CallbackDefinitionError, match="late_state.*stale"):
        lrn("classif.mlp", epochs=1, callbacks=[ckpt, late]).fit(X, y)


def test_random_state_reproducible_and_none_recorded(iris_xy):
    X, y = iris_xy
    a = lrn("classif.mlp", epochs=2, random_state=7).fit(X, y).predict_proba(X)
    b = lrn("classif.mlp", epochs=2, random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    learner = lrn("classif.mlp", epochs=1).fit(X, y)
    seed = learner.model.seed
    c = lrn("classif.mlp", epochs=1, random_state=seed).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(learner.predict_proba(X), c)


def test_training_does_not_touch_global_torch_rng(iris_xy):
    X, y = iris_xy
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    lrn("classif.mlp", epochs=1, random_state=1).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_last_loss_not_synced_without_reader(iris_xy, monkeypatch):
    """The loop never converts a batch's loss to a float (no host sync per batch); the
    history, which every run records, reads the epoch's mean loss once per epoch."""
    X, y = iris_xy
    calls = []
    real_item = torch.Tensor.item

    def counting_item(self):
        calls.append(1)
        return real_item(self)

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    # the divergence check as on an accelerator: on the CPU it reads each loss by design,
    # since there the read waits for nothing
    monkeypatch.setattr(loop, "DivergenceGuard", functools.partial(DivergenceGuard, per_batch=False))
    # and the history's epoch loss as on an accelerator: on the CPU it adds up floats
    monkeypatch.setattr(running_mean, "free_to_read", lambda loss: False)
    # SGD: Adam reads its (CPU) step counter with .item(), which would muddy the count
    lrn("classif.mlp", epochs=2, batch_size=16, optimizer="sgd", random_state=0).fit(X, y)
    assert len(calls) == 2  # 10 batches per epoch, one conversion per epoch
    calls.clear()
    reader = torch_callback("reader", on_batch_end=lambda self: self.ctx.last_loss)
    lrn("classif.mlp", epochs=2, batch_size=16, optimizer="sgd", callbacks=[reader]).fit(X, y)
    assert len(calls) == 20 + 2  # one per batch, only because a callback reads it


def test_ctx_tasks_reflect_train_and_validation_rows():
    seen = {}

    def grab(self):
        seen["train"] = self.ctx.task_train.row_ids
        seen["valid"] = self.ctx.task_valid.row_ids

    task = tsk("iris")
    valid = tsk("iris").filter(list(range(0, 150, 3)))
    task.internal_valid_task = valid
    train_rows = [i for i in range(150) if i % 3]
    lrn("classif.mlp", epochs=1, validate="predefined", callbacks=[torch_callback("grab", on_begin=grab)]).train(
        task, row_ids=train_rows
    )
    assert seen == {"train": train_rows, "valid": valid.row_ids}


def test_prediction_callbacks_get_saved_state_first(iris_xy):
    X, y = iris_xy
    seen = []
    tc = torch_callback(
        "scaler_memory",
        initialize=lambda self: setattr(self, "count", 0),
        on_batch_end=lambda self: setattr(self, "count", self.count + 1),
        on_predict_begin=lambda self: seen.append(self.count),
        state_dict=lambda self: self.count,
        load_state_dict=lambda self, state: setattr(self, "count", state),
    )
    learner = lrn("classif.mlp", epochs=2, batch_size=50, callbacks=[tc], random_state=0).fit(X, y)
    learner.predict(X)
    learner.predict_proba(X)
    assert seen == [6, 6]  # a fresh instance each time, with the trained state loaded


def test_fit_emits_no_warning(iris_xy):
    """A plain fit is silent: no torch warning from reading the loss (float() of a tensor
    that requires grad warns), none from the data checks."""
    import warnings

    X, y = iris_xy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lrn("classif.mlp", epochs=2, batch_size=16, random_state=0).fit(X, y)


def test_ctx_tasks_of_fit_are_built_only_when_read(iris_xy, monkeypatch):
    """fit(X, y) builds ctx.task_train / task_valid from the arrays on first read, once."""
    from mlrpy.learners import runtime

    X, y = iris_xy
    built = []
    real = runtime.array_tasks

    def counting(*args, **kwargs):
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("mlrpy.learners.fit.array_tasks", counting)
    lrn("classif.mlp", epochs=2, random_state=0, validate=0.2).fit(X, y)
    assert built == []
    seen = []

    def read(self):
        seen.append((self.ctx.task_train.nrow, self.ctx.task_valid.nrow, self.ctx.task_train.nrow))

    reader = torch_callback("reader", on_epoch_end=read)
    lrn("classif.mlp", epochs=2, random_state=0, validate=0.2, callbacks=[reader]).fit(X, y)
    assert built == [1]
    assert seen == [(120, 30, 120)] * 2
