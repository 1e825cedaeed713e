"""``ctx.stop_epoch``: a batch stage ends the current epoch's batches; with ``ctx.terminate``
the run stops after the current batch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import lrn, torch_callback


def run(stop_at: tuple[int, int], stage: str, terminate: bool, epochs: int = 3):
    """Fit on 3 batches per epoch with validation; ``stop_at`` = (epoch, step) to stop at."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)).astype("float32"), rng.integers(0, 2, 60)
    seen: list[tuple[str, int, int]] = []

    def stopper(self):
        ctx = self.ctx
        if (ctx.epoch, ctx.step) == stop_at:
            ctx.stop_epoch = True
            ctx.terminate = terminate

    def record(name):
        def stage(self):
            seen.append((name, self.ctx.epoch, self.ctx.step))
            if name == "on_epoch_begin":
                assert self.ctx.stop_epoch is False  # reset before every epoch

        return stage

    recorder = torch_callback(
        "record", **{s: record(s) for s in ("on_epoch_begin", "on_batch_end", "on_valid_end", "on_epoch_end")}
    )
    learner = lrn("classif.mlp", epochs=epochs, batch_size=20, random_state=0,
                  callbacks=[torch_callback("stopper", **{stage: stopper}), recorder])
    learner.fit(X, y, validation_data=(X[:20], y[:20]))
    return learner, seen


@pytest.mark.parametrize("stage", ["on_batch_begin", "on_after_loss", "on_batch_end"])
def test_stop_epoch_ends_the_batches_but_validation_and_epoch_end_run(stage):
    learner, seen = run((1, 2), stage, terminate=False)
    epoch_1 = [s for s in seen if s[1] == 1]
    assert epoch_1 == [
        ("on_epoch_begin", 1, 0), ("on_batch_end", 1, 1), ("on_batch_end", 1, 2),
        ("on_valid_end", 1, 2), ("on_epoch_end", 1, 2),
    ]
    # the flag was reset: later epochs train all their batches
    assert [s for s in seen if s[0] == "on_batch_end" and s[1] == 2] == [("on_batch_end", 2, k) for k in (1, 2, 3)]
    assert learner.model.epochs == 3


@settings(max_examples=8, deadline=None)
@given(epoch=st.integers(1, 3), step=st.integers(1, 3))
def test_stop_epoch_with_terminate_stops_after_that_batch(epoch, step):
    learner, seen = run((epoch, step), "on_after_backward", terminate=True)
    batches = [(e, k) for name, e, k in seen if name == "on_batch_end"]
    assert batches[-1] == (epoch, step) and len(batches) == 3 * (epoch - 1) + step
    assert seen[-2:] == [("on_valid_end", epoch, step), ("on_epoch_end", epoch, step)]
    assert learner.model.epochs == epoch
