"""``lr_finder`` and ``learner.lr_find()``: the rate grows geometrically between the bounds,
the run stops after ``num_iter`` batches or when the loss diverges, the suggestion is sensible,
and the learner itself is left exactly as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import ParameterError, lrn, t_clbk, tsk
from mlrpy.learners.lr_find import LRFindResult, suggest_lr
from tests.callbacks.support import lr_probe


def test_rate_grows_geometrically_from_start_to_end_across_epochs(iris_xy):
    X, y = iris_xy
    probe, seen = lr_probe()
    finder = t_clbk("lr_finder", start_lr=1e-5, end_lr=1e-1, num_iter=9)
    # 3 batches per epoch: the 9 batches span 3 epochs, then the callback ends the run
    learner = lrn("classif.mlp", epochs=10, batch_size=50, random_state=0, device="cpu",
                  callbacks=[finder, probe]).fit(X, y)
    np.testing.assert_allclose(seen, np.logspace(-5, -1, 9), rtol=1e-12)
    records = learner.model.callbacks["lr_finder"]
    np.testing.assert_allclose(records["lr"], seen, rtol=0)
    assert learner.model.epochs == 3
    assert len(records["loss"]) == len(records["smoothed_loss"]) == 9


def test_smoothing_is_the_bias_corrected_moving_average(iris_xy):
    X, y = iris_xy
    beta = 0.7
    learner = lrn("classif.mlp", epochs=5, batch_size=50, random_state=0,
                  callbacks=[t_clbk("lr_finder", start_lr=1e-4, end_lr=1e-3, num_iter=6, smoothing=beta)])
    records = learner.fit(X, y).model.callbacks["lr_finder"]
    avg, expected = 0.0, []
    for i, loss in enumerate(records["loss"], start=1):
        avg = beta * avg + (1 - beta) * loss
        expected.append(avg / (1 - beta**i))
    np.testing.assert_allclose(records["smoothed_loss"], expected, rtol=1e-12)
    unsmoothed = t_clbk("lr_finder", start_lr=1e-4, end_lr=1e-3, num_iter=6, smoothing=0.0)
    records = lrn("classif.mlp", epochs=5, batch_size=50, random_state=0,
                  callbacks=[unsmoothed]).fit(X, y).model.callbacks["lr_finder"]
    np.testing.assert_allclose(records["smoothed_loss"], records["loss"], rtol=1e-12)


def test_divergence_stops_early(iris_xy):
    X, _ = iris_xy
    learner = lrn("regr.mlp", batch_size=16, optimizer="sgd", random_state=0)
    result = learner.lr_find(X, X[:, 0] * 100, start_lr=1e-4, end_lr=1e4, num_iter=100)
    smoothed = result.frame["smoothed_loss"].to_numpy()
    assert len(result.frame) < 100
    # stopped at the first record over 4x the best so far (or a non-finite one)
    last = smoothed[-1]
    assert not np.isfinite(last) or last > 4 * np.nanmin(smoothed[:-1])
    assert all(s <= 4 * np.min(smoothed[: i + 1]) for i, s in enumerate(smoothed[:-1]))


def test_without_threshold_only_num_iter_stops(iris_xy):
    X, _ = iris_xy
    result = lrn("regr.mlp", batch_size=16, optimizer="sgd", random_state=0).lr_find(
        X, X[:, 0], start_lr=1e-4, end_lr=1e-2, num_iter=25, diverge_threshold=None
    )
    assert len(result.frame) == 25


def test_suggestion_on_iris_with_sgd_is_sensible():
    result = lrn("classif.mlp", batch_size=16, optimizer="sgd", random_state=0).lr_find(tsk("iris"))
    assert isinstance(result, LRFindResult)
    assert result.frame.columns.tolist() == ["lr", "loss", "smoothed_loss"]
    assert result.frame["lr"].iloc[0] == pytest.approx(1e-7)
    assert 1e-4 <= result.suggested_lr <= 1
    assert result.suggested_lr in result.frame["lr"].to_numpy()
    assert "suggested lr" in repr(result)


def _snapshot(learner):
    params = {k: repr(v) for k, v in learner.get_params().items()}
    fitted = {k: v for k, v in vars(learner).items() if k.endswith("_") and not k.startswith("__")}
    return params, fitted


@pytest.mark.parametrize("fitted", [False, True])
def test_learner_is_untouched_in_both_faces(iris_xy, fitted):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, validate=0.2, patience=1,
                  callbacks=["history", t_clbk("lr_step", step_size=1)], **{"opt.lr": 0.01})
    if fitted:
        learner.fit(X, y)
        weights = {k: v.clone() for k, v in learner.model.network.state_dict().items()}
        model = learner.model
    params, attrs = _snapshot(learner)
    by_arrays = learner.lr_find(X, y, num_iter=20)
    by_task = learner.lr_find(tsk("iris"), num_iter=20)
    assert len(by_arrays.frame) == len(by_task.frame) == 20
    assert _snapshot(learner)[0] == params
    if not fitted:
        assert not hasattr(learner, "model_")
        return
    assert learner.model is model and set(vars(learner)) >= set(attrs)
    for k, v in learner.model.network.state_dict().items():
        assert torch.equal(v, weights[k]), k
    assert learner.model.epochs == 2


def test_arguments_are_checked(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp")
    with pytest.raises(ParameterError, match="needs the targets y"):
        learner.lr_find(X)
    with pytest.raises(ParameterError, match="takes no y"):
        learner.lr_find(tsk("iris"), y)
    with pytest.raises(ParameterError, match=r"end_lr \(1e-05\) must be greater than start_lr"):
        learner.lr_find(X, y, start_lr=1e-3, end_lr=1e-5)
    with pytest.raises(ParameterError, match=r"cb\.lr_finder\.num_iter"):
        t_clbk("lr_finder", num_iter=1)
    with pytest.raises(ParameterError, match=r"cb\.lr_finder\.smoothing"):
        t_clbk("lr_finder", smoothing=1.0)
    with pytest.raises(ParameterError, match=r"cb\.lr_finder\.diverge_threshold"):
        t_clbk("lr_finder", diverge_threshold=0.5)


def test_state_reloads_to_identical_records(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=3, batch_size=50, random_state=0,
                  callbacks=[t_clbk("lr_finder", num_iter=20, smoothing=0.9)]).fit(X, y)
    state = learner.model.callbacks["lr_finder"]
    again = t_clbk("lr_finder", smoothing=0.9).generate()
    again.load_state_dict(state)
    for column, values in again.state_dict().items():
        np.testing.assert_array_equal(values, state[column])


def test_plot_returns_the_axes(iris_xy):
    pytest.importorskip("matplotlib")
    X, y = iris_xy
    result = lrn("classif.mlp", batch_size=50, random_state=0).lr_find(X, y, num_iter=12, plot=True)
    ax = result.axes
    assert ax is not None and ax.get_xscale() == "log"
    assert len(ax.get_lines()) == 3  # loss, smoothed loss, the suggestion
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), result.frame["lr"])
    assert result.plot().get_xlabel() == "learning rate"


@settings(max_examples=50, deadline=None)
@given(
    losses=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=60),
    start=st.floats(-8, -2),
)
def test_suggestion_is_one_of_the_kept_rates(losses, start):
    lrs = np.logspace(start, 0, len(losses))
    suggestion = suggest_lr(lrs, losses)
    if suggestion is None:
        kept = np.asarray(losses, dtype=float)[min(10, len(losses) // 10): len(losses) - 1]
        assert np.isfinite(kept).sum() < 3
    else:
        assert suggestion in lrs[min(10, len(lrs) // 10): len(lrs) - 1]


def test_records_are_a_table(iris_xy):
    X, y = iris_xy
    learner = lrn("classif.mlp", epochs=1, batch_size=50, random_state=0, callbacks=["lr_finder"])
    frame = pd.DataFrame(learner.fit(X, y).model.callbacks["lr_finder"])
    assert frame.columns.tolist() == ["lr", "loss", "smoothed_loss"] and len(frame) == 3
