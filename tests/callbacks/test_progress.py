"""``progress``: one summary line per epoch with the requested number of decimals."""

from __future__ import annotations

import re

import pytest

from mlrpy import ParameterError, t_clbk
from tests.callbacks.support import learner


def test_one_summary_line_per_epoch(iris_xy, capsys):
    X, y = iris_xy
    lr = learner([t_clbk("progress", digits=2, bars=False), "history"], epochs=3,
                 measures_valid=["classif.acc"])
    lr.fit(X[:100], y[:100], validation_data=(X[100:], y[100:]))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert [line.split(":")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    history = lr.model.callbacks["history"]
    for line, loss in zip(lines, history["train.loss"]):
        assert f"train.loss={loss:.2f}" in line
        assert re.search(r"valid\.classif\.acc=\d\.\d\d( |$)", line)


def test_prediction_runs_with_progress(iris_xy):
    X, y = iris_xy
    lr = learner([t_clbk("progress", bars=False)], epochs=1).fit(X, y)
    assert len(lr.predict(X)) == len(X)


@pytest.mark.parametrize(("values", "name"), [({"digits": -1}, "digits"), ({"digits": 17}, "digits"),
                                              ({"bars": "sometimes"}, "bars")])
def test_bad_values_name_the_key(values, name):
    with pytest.raises(ParameterError, match=rf"cb\.progress\.{name}"):
        t_clbk("progress", **values)
