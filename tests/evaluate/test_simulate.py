"""``mlrpy.testing.simulate``: a callback's stages driven without training."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import CallbackSet, ParameterError, lrn, t_clbk
from mlrpy.testing import simulate
from tests.conftest import make_trace_callback


def expected_stop(losses: list[float], patience: int) -> tuple[int, int]:
    """(epochs run, best epoch) of early stopping on ``losses``, written out by hand."""
    best, best_epoch, stagnation = None, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if best is None or loss < best:
            best, best_epoch, stagnation = loss, epoch, 0
        else:
            stagnation += 1
            if stagnation >= patience:
                return epoch, best_epoch
    return len(losses), best_epoch


@settings(max_examples=25, deadline=None)
@given(
    losses=st.lists(st.integers(0, 5).map(float), min_size=1, max_size=8),
    patience=st.integers(1, 3),
)
def test_early_stopping_stops_at_the_right_epoch(losses, patience):
    stopper = simulate(t_clbk("early_stopping", patience=patience), epochs=len(losses),
                       scores=[{"loss": v} for v in losses])
    epochs_run, best_epoch = expected_stop(losses, patience)
    assert stopper.ctx.epoch == epochs_run
    assert stopper.state_dict()["best_epoch"] == best_epoch


def test_history_records_every_epoch_and_its_scores():
    scores = [{"loss": 0.3}, None, {"loss": 0.1}]
    history = simulate("history", epochs=3, batches=2, scores=scores).state_dict()
    assert history["epoch"].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(history["valid.loss"], [0.3, np.nan, 0.1])
    assert np.isfinite(history["train.loss"]).all()


def test_a_user_callback_sees_the_stages_in_the_learners_order(iris_xy):
    tc, simulated = make_trace_callback()
    simulate(tc, epochs=2, batches=3, scores=[{"loss": 1.0}, {"loss": 0.5}])
    trace, trained = make_trace_callback()
    X, y = iris_xy
    lrn("classif.mlp", epochs=2, batch_size=50, validate=1 / 3, random_state=0, callbacks=[trace]).fit(X, y)
    # the learner trains 100 rows in 2 batches and validates 50 in 1; simulate 3 and 1
    assert without_training_batches(simulated) == without_training_batches(trained)
    assert simulated.count("on_batch_end") == 6 and trained.count("on_batch_end") == 4
    assert simulated[2:7] == ["on_batch_begin", "on_after_forward", "on_after_loss", "on_after_backward",
                              "on_batch_end"]


def without_training_batches(log: list[str]) -> list[str]:
    batch_stages = ("on_batch_begin", "on_after_forward", "on_after_loss", "on_after_backward", "on_batch_end")
    return [s for s in log if s not in batch_stages]


class CallbackSetStopAfterFirstBatch(CallbackSet):
    def __init__(self):
        self.batches = 0

    def on_batch_end(self):
        self.batches += 1
        ctx = self.ctx
        if ctx.epoch == 1:
            ctx.stop_epoch = True  # epoch 1 trains one batch ...
        if (ctx.epoch, ctx.step) == (2, 3):
            ctx.stop_epoch = ctx.terminate = True  # ... epoch 2 three, then the run ends


def test_stop_epoch_and_terminate_are_honoured():
    cb = simulate(CallbackSetStopAfterFirstBatch, epochs=5, batches=4)
    assert cb.batches == 1 + 3 and cb.ctx.epoch == 2


def test_bad_arguments_are_refused():
    with pytest.raises(ParameterError, match="one entry"):
        simulate("history", epochs=3, scores=[{"loss": 1.0}])
    with pytest.raises(ParameterError, match="batches >= 1"):
        simulate("history", batches=0)
