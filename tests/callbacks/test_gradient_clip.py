"""``gradient_clip``: the gradients the optimizer sees are clipped by norm or by value."""

from __future__ import annotations

import pytest

from mlrpy import ParameterError, t_clbk
from tests.callbacks.support import grad_probe, learner


def test_clip_by_norm(iris_xy):
    X, y = iris_xy
    probe, norms, _ = grad_probe()
    learner([probe], epochs=2, **{"opt.lr": 0.05}).fit(X, y)
    assert max(norms) > 0.05  # unclipped gradients are larger than the threshold
    probe, norms, _ = grad_probe()
    learner([t_clbk("gradient_clip", max_norm=0.05), probe], epochs=2, **{"opt.lr": 0.05}).fit(X, y)
    assert len(norms) == 6 and max(norms) <= 0.05 * (1 + 1e-5)


def test_clip_by_value(iris_xy):
    X, y = iris_xy
    probe, _, maxima = grad_probe()
    learner([t_clbk("gradient_clip", mode="value", value=0.01), probe], epochs=1).fit(X, y)
    assert max(maxima) <= 0.01


def test_gradient_clip_bad_input(iris_xy):
    X, y = iris_xy
    for values, name in (({"max_norm": 0}, "max_norm"), ({"value": -1.0}, "value"), ({"mode": "l2"}, "mode"),
                         ({"norm_type": 0}, "norm_type")):
        with pytest.raises(ParameterError, match=rf"cb\.gradient_clip\.{name}"):
            t_clbk("gradient_clip", **values)
    with pytest.raises(ParameterError, match="needs value"):
        learner([t_clbk("gradient_clip", mode="value")], epochs=1).fit(X, y)
