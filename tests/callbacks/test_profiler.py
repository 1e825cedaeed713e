"""``profiler``: per-callback, per-stage wall time and call counts."""

from __future__ import annotations

import time

import pytest
import torch

from mlrpy import CallbackList, CallbackStageError, lrn, t_clbk, torch_callback, tsk
from mlrpy.testing import simulate


def _slow(self):
    time.sleep(0.02)


def _quick(self):
    pass


slow = torch_callback("slow", on_batch_end=_slow)
quick = torch_callback("quick", on_batch_end=_quick, on_epoch_end=_quick)


def test_counts_calls_and_finds_the_slow_callback(capsys):
    learner = lrn("classif.mlp", epochs=3, batch_size=50, random_state=0, validate=0.2,
                  callbacks=[quick, slow, "history", "profiler"])
    timings = learner.train(tsk("iris")).model.callbacks["profiler"]
    batches = 3 * 3  # 120 training rows in batches of 50, 3 epochs
    assert list(timings["slow"]) == ["on_batch_end"] and timings["slow"]["on_batch_end"]["calls"] == batches
    assert timings["quick"]["on_batch_end"]["calls"] == batches and timings["quick"]["on_epoch_end"]["calls"] == 3
    assert timings["history"]["on_epoch_end"]["calls"] == 3 and timings["history"]["on_epoch_begin"]["calls"] == 3
    assert "profiler" not in timings
    slowest = max((t["seconds"], cid) for cid, stages in timings.items() for t in stages.values())
    assert slowest[1] == "slow"
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["callback", "stage", "calls", "total", "s", "mean", "ms", "share"]
    assert printed[1].split()[:3] == ["slow", "on_batch_end", str(batches)]


def test_nothing_is_changed_on_the_callbacks_and_errors_still_name_the_callback():
    def fail(self):
        raise RuntimeError("boom")

    failing = torch_callback("failing", on_epoch_end=fail)
    learner = lrn("classif.mlp", epochs=2, callbacks=[failing, t_clbk("profiler", report=False)])
    with pytest.raises(CallbackStageError, match="'failing'.*on_epoch_end") as info:
        learner.train(tsk("iris"))
    assert isinstance(info.value.__cause__, RuntimeError)


def test_a_resumed_run_adds_to_the_saved_totals(tmp_path):
    def train(epochs, resume=None):
        callbacks = ["history", t_clbk("profiler", report=False), t_clbk("checkpoint", path=str(tmp_path))]
        learner = lrn("classif.mlp", epochs=epochs, random_state=0, callbacks=callbacks, resume=resume)
        return learner.train(tsk("iris")).model.callbacks["profiler"]

    train(2)
    assert train(5, resume=True)["history"]["on_epoch_end"]["calls"] == 5


def test_hand_written_loop_with_callback_list():
    net = torch.nn.Linear(2, 1)
    cl = CallbackList([quick, t_clbk("profiler", report=False)], network=net, total_epochs=2,
                      optimizer=torch.optim.SGD(net.parameters(), lr=0.1))
    with cl:
        for epoch in (1, 2):
            cl.ctx.epoch = epoch
            for _ in range(4):
                cl.on_batch_end()
            cl.on_epoch_end()
    timings = cl.state_dicts()["profiler"]["quick"]
    assert {stage: t["calls"] for stage, t in timings.items()} == {"on_batch_end": 8, "on_epoch_end": 2}
    assert all(t["seconds"] >= 0 for t in timings.values())


def test_alone_it_measures_nothing(capsys):
    assert simulate(t_clbk("profiler")).state_dict() == {}
    assert capsys.readouterr().out.splitlines() == ["callback  stage  calls  total s  mean ms  share"]
