"""Exact resume: a run interrupted after the checkpoint of epoch K and resumed with
``resume=True`` ends bit-identical to the same run without interruption (weights, optimizer,
every callback's state, history), for every registered built-in that keeps state.

The interruption is a callback that raises at the end of epoch K, after the checkpoint
callback (weight ``inf``, ahead of it in the list) wrote that epoch's checkpoint.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

import numpy as np
import pytest
import torch

from mlrpy import CallbackStageError, lrn, mlr_callbacks, t_clbk, torch_callback, tsk
from mlrpy.callbacks.checkpoint import checkpoint_files
from tests.callbacks.support import builtin, builtin_keys

EPOCHS, KILLED_AFTER = 4, 2


class Interrupted(Exception):
    pass


def _init_killer(self, at_epoch: int | None = None):
    self.at_epoch = at_epoch


def _kill(self):
    if self.ctx.epoch == self.at_epoch:
        raise Interrupted(f"killed after epoch {self.at_epoch}")


killer = torch_callback("killer", initialize=_init_killer, on_epoch_end=_kill, weight=math.inf)


@pytest.fixture
def fake_clock(monkeypatch):
    """A clock that advances one second per training batch, so time_limit's state is
    reproducible."""
    now = [0.0]
    monkeypatch.setattr(sys.modules["mlrpy.callbacks.time_limit"], "clock", lambda: now[0])

    def on_batch_end(self):
        now[0] += 1.0

    return torch_callback("tick", on_batch_end=on_batch_end)


def train(folder, callbacks, kill_at=None):
    learner = lrn(
        "classif.mlp", epochs=EPOCHS, batch_size=16, p=0.2, neurons=(8,), random_state=3, validate=0.3,
        measures_valid=["classif.acc"], resume=True,
        callbacks=[*callbacks, t_clbk("checkpoint", path=str(folder)), killer.clone().set_values(at_epoch=kill_at)],
    )
    return learner.train(tsk("iris"))


def assert_identical(a: Any, b: Any, where: str) -> None:
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            assert_identical(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        same = a.dtype == b.dtype and torch.equal(a, b)
        assert same, f"{where}: tensors differ"
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, f"{where}: dtype {a.dtype} vs {b.dtype}"
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), f"{where}: nan vs {b!r}"
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def stateful_builtins() -> list[str]:
    return [k for k in builtin_keys() if mlr_callbacks.get(k).generator.has_state()]


def run_case(keys, tmp_path, tick):
    def callbacks():
        extra = [] if "history" in keys else ["history"]
        return [builtin(k, tmp_path) for k in keys if k != "checkpoint"] + [tick, *extra]

    straight = train(tmp_path / "straight", callbacks())
    with pytest.raises(CallbackStageError, match="killed after epoch"):
        train(tmp_path / "resumed", callbacks(), kill_at=KILLED_AFTER)
    assert [e for e, _ in checkpoint_files(tmp_path / "resumed")] == list(range(1, KILLED_AFTER + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # every callback of the run is matched
        resumed = train(tmp_path / "resumed", callbacks())

    assert resumed.model.epochs == straight.model.epochs == EPOCHS
    assert_identical(resumed.model.network.state_dict(), straight.model.network.state_dict(), "weights")
    assert_identical(resumed.model.optimizer, straight.model.optimizer, "optimizer")
    states, expected = dict(resumed.model.callbacks), dict(straight.model.callbacks)
    # the checkpoint callback's own state names its folder, which differs by design
    assert states.pop("checkpoint")["last_saved"] == expected.pop("checkpoint")["last_saved"] == EPOCHS
    # the profiler measures wall time, and a resumed run really calls on_begin twice: its state
    # cannot repeat, but the run it watches must
    assert ("profiler" in states) == ("profiler" in expected)
    states.pop("profiler", None)
    expected.pop("profiler", None)
    assert_identical(states, expected, "callbacks")
    assert resumed.model.callbacks["history"]["epoch"].tolist() == list(range(1, EPOCHS + 1))


def test_the_cases_cover_the_stateful_builtins():
    assert {"history", "early_stopping", "lr_one_cycle", "ema", "time_limit"} <= set(stateful_builtins())


@pytest.mark.parametrize("key", stateful_builtins())
def test_resume_is_exact(key, tmp_path, fake_clock):
    run_case([key], tmp_path, fake_clock)


def test_resume_is_exact_with_all_stateful_builtins_together(tmp_path, fake_clock):
    run_case(stateful_builtins(), tmp_path, fake_clock)
