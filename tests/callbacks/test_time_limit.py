"""``time_limit``: training stops when the next epoch would not fit into the budget, or within
one batch of the budget running out."""

from __future__ import annotations

import sys

import pytest

from mlrpy import ParameterError, t_clbk, torch_callback
from tests.callbacks.support import learner


@pytest.fixture
def fake_clock(monkeypatch):
    """Time advances by one second per training batch."""
    now = [100.0]
    monkeypatch.setattr(sys.modules["mlrpy.callbacks.time_limit"], "clock", lambda: now[0])

    def on_batch_end(self):
        now[0] += 1.0

    return torch_callback("tick", on_batch_end=on_batch_end)


@pytest.mark.parametrize(
    ("max_seconds", "epochs"),
    [
        (100, 10),  # never reached
        (10, 3),  # 9 s used, the next 3-s epoch would end at 12 s
        (7.5, 2),
        (2, 1),  # the first epoch alone takes longer
    ],
)
def test_stops_when_the_next_epoch_does_not_fit(iris_xy, fake_clock, max_seconds, epochs):
    X, y = iris_xy  # 150 rows / 50 = 3 batches = 3 s per epoch
    lr = learner([t_clbk("time_limit", max_seconds=max_seconds), fake_clock], epochs=10).fit(X, y)
    assert lr.model.epochs == epochs
    state = lr.model.callbacks["time_limit"]
    assert state["epoch_seconds"] == [3.0] * epochs
    assert state["elapsed"] == 3.0 * epochs
    assert state["stopped"] == (epochs < 10)


def test_time_limit_bounds():
    with pytest.raises(ParameterError, match=r"cb\.time_limit\.max_seconds"):
        t_clbk("time_limit", max_seconds=0)
    with pytest.raises(ParameterError, match=r"cb\.time_limit\.max_seconds"):
        t_clbk("time_limit", max_seconds="1h")


def test_resumed_run_gets_a_fresh_budget_and_counts_all_time(iris_xy, fake_clock, tmp_path):
    X, y = iris_xy

    def run():
        callbacks = [t_clbk("time_limit", max_seconds=7.5), fake_clock, t_clbk("checkpoint", path=str(tmp_path))]
        return learner(callbacks, epochs=10, resume=True).fit(X, y)

    assert run().model.epochs == 2  # 3 s per epoch: a third would end at 9 s
    resumed = run()
    assert resumed.model.epochs == 4  # two more epochs in the new budget
    state = resumed.model.callbacks["time_limit"]
    assert state["epoch_seconds"] == [3.0] * 4 and state["elapsed"] == 12.0 and state["stopped"]


def test_stops_within_one_batch_of_the_budget(iris_xy, fake_clock):
    X, y = iris_xy  # 3 batches of 1 s per epoch; the clock ticks before time_limit looks
    batches = []

    def count(self):
        batches.append((self.ctx.epoch, self.ctx.step))

    ticks_first = torch_callback("tick_first", weight=-1, on_batch_end=fake_clock.generator.on_batch_end)
    counter = torch_callback("count", on_batch_end=count)
    lr = learner([t_clbk("time_limit", max_seconds=2), ticks_first, counter], epochs=10).fit(X, y)
    assert batches == [(1, 1), (1, 2)]  # 2 s used after batch 2: the third is not trained
    state = lr.model.callbacks["time_limit"]
    assert lr.model.epochs == 1 and state["stopped"] and state["epoch_seconds"] == [2.0]
