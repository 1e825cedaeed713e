"""``unfreeze`` and the selectors: frozen weights stay put, unfrozen ones train."""

from __future__ import annotations

import pickle

import pytest
import torch

from mlrpy import CallbackStageError, ParameterError, lrn, t_clbk, torch_callback
from mlrpy.callbacks import select_all, select_grep, select_invert, select_name, select_none

NAMES = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def snapshot_probe(stage: str = "on_epoch_end"):
    """Records a copy of every parameter at ``stage`` (after the callbacks with weight 0)."""
    snaps: list[dict[str, torch.Tensor]] = []

    def record(self):
        snaps.append({n: p.detach().clone() for n, p in self.ctx.network.named_parameters()})

    return torch_callback("snap", weight=5, on_begin=record, **{stage: record}), snaps


def test_selectors():
    assert select_all()(NAMES) == NAMES
    assert select_none()(NAMES) == []
    assert select_name("4.bias", "0.weight")(NAMES) == ["0.weight", "4.bias"]
    assert select_grep(r"^[02]\.")(NAMES) == NAMES[:4]
    assert select_invert(select_grep("bias"))(NAMES) == ["0.weight", "2.weight", "4.weight"]
    assert repr(select_invert(select_name("4.bias"))) == "select_invert(select_name('4.bias'))"
    for sel in (select_all(), select_name("0.bias"), select_grep("x"), select_invert(select_none())):
        again = pickle.loads(pickle.dumps(sel))
        assert again == sel and again(NAMES) == sel(NAMES)


def test_frozen_weights_stay_until_unfrozen(iris_xy):
    X, y = iris_xy
    probe, snaps = snapshot_probe()
    cb = t_clbk("unfreeze", starting_weights=select_name("4.weight", "4.bias"), unfreeze=[(3, select_all())])
    learner = lrn("classif.mlp", epochs=4, batch_size=50, random_state=0, callbacks=[cb, probe])
    learner.fit(X, y)
    start, ends = snaps[0], snaps[1:]
    for epoch in (1, 2):  # frozen
        for name in NAMES[:4]:
            assert torch.equal(ends[epoch - 1][name], start[name]), (epoch, name)
        assert not torch.equal(ends[epoch - 1]["4.weight"], start["4.weight"])
    for name in NAMES[:4]:  # unfrozen from epoch 3 on
        assert not torch.equal(ends[2][name], ends[1][name]), name
        assert not torch.equal(ends[3][name], ends[2][name]), name
    # the trained network is left with its original flags
    assert all(p.requires_grad for p in learner.model.network.parameters())


def test_unit_batch_and_dict_steps(iris_xy):
    X, y = iris_xy
    probe, snaps = snapshot_probe("on_batch_end")
    cb = t_clbk("unfreeze", starting_weights=select_invert(select_grep("^0\\.")),
                unfreeze=[{"batch": 4, "weights": select_grep("^0\\.")}], unit="batch")
    lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, callbacks=[cb, probe]).fit(X, y)
    start, after = snaps[0], snaps[1:]
    for b in range(3):  # batches 1-3: the first layer is frozen
        assert torch.equal(after[b]["0.weight"], start["0.weight"])
        assert not torch.equal(after[b]["2.weight"], start["2.weight"])
    assert not torch.equal(after[3]["0.weight"], after[2]["0.weight"])  # batch 4 trains it


def test_select_none_then_unfreeze_in_epoch_one(iris_xy):
    X, y = iris_xy
    probe, snaps = snapshot_probe()
    cb = t_clbk("unfreeze", starting_weights=select_none(), unfreeze=[(1, select_grep("bias"))])
    lrn("classif.mlp", epochs=1, batch_size=50, random_state=0, callbacks=[cb, probe]).fit(X, y)
    assert torch.equal(snaps[1]["0.weight"], snaps[0]["0.weight"])
    assert not torch.equal(snaps[1]["0.bias"], snaps[0]["0.bias"])


def test_warm_start_reapplies_passed_unfreezes(iris_xy):
    X, y = iris_xy
    probe, snaps = snapshot_probe()
    cb = t_clbk("unfreeze", starting_weights=select_name("4.weight"), unfreeze=[(2, select_all())])
    learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, callbacks=[cb, probe],
                  warm_start=True)
    learner.fit(X, y)
    snaps.clear()
    learner.fit(X, y)  # epochs 3-4: everything was unfrozen at epoch 2
    assert not torch.equal(snaps[1]["0.weight"], snaps[0]["0.weight"])


# -- bad input ----------------------------------------------------------------------------------
def test_selection_of_nothing_is_an_error(iris_xy):
    X, y = iris_xy
    cb = t_clbk("unfreeze", unfreeze=[(2, select_grep("^decoder"))])
    with pytest.raises(CallbackStageError) as info:
        lrn("classif.mlp", epochs=2, batch_size=50, callbacks=[cb]).fit(X, y)
    cause = info.value.__cause__
    assert isinstance(cause, ParameterError)
    assert "select_grep('^decoder')" in str(cause) and "selects no parameter" in str(cause)
    assert "0.weight" in str(cause)  # lists what there is


def test_unknown_name_is_an_error(iris_xy):
    X, y = iris_xy
    cb = t_clbk("unfreeze", starting_weights=select_name("4.weights"))
    with pytest.raises(CallbackStageError) as info:
        lrn("classif.mlp", epochs=1, batch_size=50, callbacks=[cb]).fit(X, y)
    assert isinstance(info.value.__cause__, ParameterError)
    assert "Did you mean '4.weight'" in str(info.value.__cause__)


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"unfreeze": [(0, select_all())]}, "unfreeze"),
        ({"unfreeze": [("x", select_all())]}, "unfreeze"),
        ({"unfreeze": [(1, "all")]}, "unfreeze"),
        ({"unfreeze": [{"epoch": 1}]}, "unfreeze"),
        ({"starting_weights": "all"}, "starting_weights"),
        ({"unit": "step"}, "unit"),
    ],
)
def test_bad_parameters(values, name):
    with pytest.raises(ParameterError, match=rf"cb\.unfreeze\.{name}"):
        t_clbk("unfreeze", **values)


def test_bad_selector_arguments():
    with pytest.raises(ParameterError):
        select_name()
    with pytest.raises(ParameterError, match="regular expression"):
        select_grep("(")
