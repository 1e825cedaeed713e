"""``CallbackSetMonitor``: the shared "watch a validation score" logic of ``early_stopping``
and ``lr_reduce_on_plateau``."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlrpy import ContextTorch, ParameterError, lrn, msr, t_clbk
from mlrpy.callbacks import CallbackSetEarlyStopping, CallbackSetLRReduceOnPlateau, CallbackSetMonitor
from mlrpy.callbacks.monitor import resolve_monitor

scores = st.floats(-1e6, 1e6) | st.just(math.nan)


def ctx(measures=(), valid=True):
    return ContextTorch(loader_valid=object() if valid else None, measures_valid=[msr(m) for m in measures])


def test_builtins_that_watch_a_score_share_the_base_and_its_parameters():
    for cls, key in ((CallbackSetEarlyStopping, "early_stopping"), (CallbackSetLRReduceOnPlateau, "lr_reduce_on_plateau")):
        assert issubclass(cls, CallbackSetMonitor)
        fields = t_clbk(key).param_set.model_fields
        assert fields["monitor"].default is None and fields["mode"].default == "auto"
        assert fields["monitor"].description == t_clbk("early_stopping").param_set.model_fields["monitor"].description


@pytest.mark.parametrize(
    ("measures", "monitor", "mode", "expected"),
    [
        ((), None, "auto", ("loss", True)),
        (("classif.acc", "classif.ce"), None, "auto", ("classif.acc", False)),
        (("classif.ce",), None, "auto", ("classif.ce", True)),
        (("classif.acc",), "loss", "auto", ("loss", True)),
        (("classif.acc",), None, "min", ("classif.acc", True)),
        ((), None, "max", ("loss", False)),
    ],
)
def test_resolve_monitor(measures, monitor, mode, expected):
    assert resolve_monitor(ctx(measures), "watcher", monitor, mode) == expected


def test_resolve_monitor_errors():
    with pytest.raises(ParameterError, match="'watcher' watches a validation score.*no validation data.*validate="):
        resolve_monitor(ctx(valid=False), "watcher", None)
    with pytest.raises(ParameterError, match=r"monitor='classif\.auc'.*'loss', 'classif\.acc'"):
        resolve_monitor(ctx(["classif.acc"]), "watcher", "classif.auc")


@given(score=scores, best=scores | st.none(), min_delta=st.floats(0, 10), minimize=st.booleans())
def test_improves(score, best, min_delta, minimize):
    watcher = CallbackSetMonitor(mode="min" if minimize else "max", min_delta=min_delta)
    improves = watcher.improves(score, best)
    if math.isnan(score):
        assert not improves
    elif best is None or math.isnan(best):
        assert improves
    else:
        gain = best - score if minimize else score - best
        slack = 1e-9 * (1 + abs(best) + min_delta)  # rounding of best -/+ min_delta
        if gain > min_delta + slack:
            assert improves
        elif gain < min_delta - slack:
            assert not improves


def test_mode_overrides_the_measure_direction(iris_xy):
    X, y = iris_xy
    es = t_clbk("early_stopping", patience=50, mode="min")
    learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, measures_valid=["classif.acc"],
                  callbacks=[es])
    learner.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    assert learner.model.callbacks["early_stopping"]["minimize"] is True
