"""``history``: one row per epoch, kept as plain columns (name → 1-D numpy array)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mlrpy import t_clbk, torch_callback
from tests.callbacks.support import learner


def test_one_row_per_epoch_with_nan_outside_evaluation_epochs(iris_xy):
    X, y = iris_xy
    lr = learner(["history"], epochs=4, eval_freq=2, measures_train=["classif.acc"],
                 measures_valid=["classif.acc"])
    lr.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    state = lr.model.callbacks["history"]
    assert list(state) == ["epoch", "train.loss", "train.classif.acc", "valid.loss", "valid.classif.acc"]
    assert all(isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == 4 for v in state.values())
    assert state["epoch"].tolist() == [1, 2, 3, 4]
    assert np.isnan(state["valid.loss"][[0, 2]]).all() and np.isfinite(state["valid.loss"][[1, 3]]).all()
    assert lr.internal_valid_scores["classif.acc"] == state["valid.classif.acc"][-1]
    frame = pd.DataFrame(state)
    assert frame.shape == (4, 5) and frame["epoch"].dtype == np.int64


def test_train_loss_is_the_sample_weighted_epoch_mean(iris_xy):
    X, y = iris_xy
    losses: list[tuple[float, int]] = []

    def on_batch_end(self):
        losses.append((self.ctx.last_loss, len(self.ctx.batch.index)))

    probe = torch_callback("losses", on_batch_end=on_batch_end)
    lr = learner(["history", probe], epochs=1, batch_size=64).fit(X, y)  # batches of 64, 64, 22
    expected = sum(loss * n for loss, n in losses) / sum(n for _, n in losses)
    np.testing.assert_allclose(lr.model.callbacks["history"]["train.loss"], [expected], rtol=1e-6)


def test_other_callbacks_add_columns(iris_xy):
    X, y = iris_xy
    lr = learner([t_clbk("lr_step", step_size=1, gamma=0.5), "history"], epochs=2, **{"opt.lr": 0.2}).fit(X, y)
    np.testing.assert_allclose(lr.model.callbacks["history"]["lr"], [0.2, 0.1])


def test_warm_start_appends_rows(iris_xy):
    X, y = iris_xy
    lr = learner(["history"], epochs=2, warm_start=True)
    lr.fit(X, y)
    first = lr.model.callbacks["history"]["train.loss"].copy()
    lr.fit(X, y)
    state = lr.model.callbacks["history"]
    assert state["epoch"].tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(state["train.loss"][:2], first)


def test_loads_its_own_state_and_the_older_data_frame_form():
    rows = {"epoch": np.array([1, 2]), "train.loss": np.array([0.5, 0.4]), "valid.loss": np.array([np.nan, 0.3])}
    for state in (rows, pd.DataFrame(rows)):
        cb = t_clbk("history").generate()
        cb.load_state_dict(state)
        back = cb.state_dict()
        assert list(back) == list(rows)
        for name, values in rows.items():
            np.testing.assert_array_equal(back[name], values)
            assert back[name].dtype == values.dtype


@given(
    st.lists(
        st.tuples(st.floats(0, 1e3, allow_nan=False), st.integers(1, 64)), min_size=1, max_size=30
    )
)
def test_epoch_loss_is_the_size_weighted_mean_on_either_path(batches):
    """The CPU path (floats added up per batch) and the accelerator path (tensors kept and
    summed once) give the same size-weighted mean of the batch losses."""
    from mlrpy.callbacks import running_mean
    from mlrpy.callbacks.running_mean import EpochLoss

    expected = sum(loss * n for loss, n in batches) / sum(n for _, n in batches)
    cpu, kept = EpochLoss(), EpochLoss()
    real = running_mean.free_to_read
    for loss, n in batches:
        tensor = torch.tensor(loss, dtype=torch.float32)
        cpu.add(tensor, n)
        running_mean.free_to_read = lambda loss: False
        try:
            kept.add(tensor, n)
        finally:
            running_mean.free_to_read = real
    assert cpu.value() == pytest.approx(expected, rel=1e-6)
    assert kept.value() == pytest.approx(expected, rel=1e-6)
    assert EpochLoss().value() is None


_values = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["", "a"]),
    st.none(),
    st.floats(width=32).map(np.float32),
)


@given(st.lists(st.dictionaries(st.sampled_from(["epoch", "loss", "lr", "x"]), _values), max_size=5))
def test_columns_are_what_pandas_makes_of_the_rows(rows):
    """The state is built without pandas for plain numbers; it must be the table pandas makes."""
    from mlrpy.callbacks.history import columns_of

    frame = pd.DataFrame(rows)
    expected = {str(name): frame[name].to_numpy() for name in frame.columns}
    got = columns_of(rows)
    assert list(got) == list(expected)
    for name, column in expected.items():
        assert got[name].dtype == column.dtype, name
        assert pd.Series(got[name]).equals(pd.Series(column)), name  # NaN equal to NaN
