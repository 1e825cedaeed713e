"""Resume cannot mix runs: a checkpoint only continues the run that wrote it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.model_selection import cross_validate

import mlrpy.fingerprint
from mlrpy import CheckpointError, lrn, t_clbk, t_opt
from mlrpy.fingerprint import describe, fingerprint_differences


def _learner(folder, epochs=3, **kw):
    params = {"epochs": epochs, "batch_size": 16, "neurons": (8,), "random_state": 0, "resume": True,
              "callbacks": ["history", t_clbk("checkpoint", path=str(folder))], **kw}
    return lrn("classif.mlp", **params)


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def interrupted(tmp_path, iris_xy):
    """A checkpoint folder of a 2-epoch run on iris_xy, and its contents."""
    X, y = iris_xy
    _learner(tmp_path, epochs=2).fit(X, y)
    return tmp_path, _snapshot(tmp_path)


def _other_data(X, y):
    X2 = X.copy()
    X2[0, 0] += 1e-3  # one value in one row
    return X2, y


def _other_targets(X, y):
    y2 = y.copy()
    y2[[0, 1]] = y2[[1, 0]] if y2[0] != y2[1] else y2[[0, 2]]
    return X, y2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: (X[:-10], y[:-10]), "the number of training rows: 150 vs 140"),
        (_other_data, "the training data differ"),
        (_other_targets, "the training targets differ"),
        (lambda X, y: (X, np.where(y == "setosa", "SETOSA", y)), "the class labels: \\[\"setosa\""),
    ],
    ids=["rows", "data", "targets", "classes"],
)
def test_other_data_is_refused_and_nothing_written(interrupted, iris_xy, change, message):
    folder, before = interrupted
    X, y = change(*iris_xy)
    with pytest.raises(CheckpointError, match=f"nothing was written.*another run \\({message}"):
        _learner(folder, epochs=4).fit(X, y)
    assert _snapshot(folder) == before


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"random_state": 99}, "random_state: 0 vs 99"),
        ({"opt.lr": 0.01}, "opt.lr: 0.001 vs 0.01"),
        ({"optimizer": "sgd"}, "optimizer: 'adam \\(torch.optim.adam:Adam\\)' vs 'sgd"),
        ({"neurons": (9,)}, "neurons: \\[8\\] vs \\[9\\]"),
        ({"loss.label_smoothing": 0.1}, "loss.label_smoothing: 0.0 vs 0.1"),
        ({"batch_size": 32}, "batch_size: 16 vs 32"),
    ],
)
def test_other_parameters_are_refused(interrupted, iris_xy, params, message):
    folder, before = interrupted
    with pytest.raises(CheckpointError, match=message) as info:
        _learner(folder, epochs=4, **params).fit(*iris_xy)
    assert _snapshot(folder) == before
    if "optimizer" in params:  # the other optimizer's own parameters follow from it
        assert "opt." not in str(info.value)


def test_epochs_callbacks_and_equivalent_spellings_may_change(interrupted, iris_xy):
    folder, _ = interrupted
    same_optimizer = t_opt("adam", lr=0.001)  # "adam" spelled as a descriptor, defaults spelled out
    callbacks = ["history", "lr_monitor", t_clbk("checkpoint", path=str(folder), freq=2)]
    with pytest.warns(RuntimeWarning, match="'lr_monitor' was not in the interrupted run"):
        resumed = _learner(folder, epochs=4, optimizer=same_optimizer, neurons=[8], callbacks=callbacks).fit(*iris_xy)
    straight = lrn("classif.mlp", epochs=4, batch_size=16, neurons=(8,), random_state=0).fit(*iris_xy)
    for a, b in zip(resumed.model.network.parameters(), straight.model.network.parameters()):
        assert torch.equal(a, b)


def test_cross_validate_with_resume_fails_at_the_second_fold(tmp_path, iris_xy):
    X, y = iris_xy
    learner = _learner(tmp_path / "ckpt", epochs=2)
    with pytest.raises(CheckpointError, match="another run \\(the training data differ; the training targets differ"):
        cross_validate(learner, X, y, cv=3, error_score="raise")
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["checkpoint_00001.pt", "checkpoint_00002.pt"]


def test_fingerprint_is_computed_once_per_checkpointed_run_and_never_on_a_plain_fit(tmp_path, iris_xy, monkeypatch):
    hashed = []
    real = mlrpy.fingerprint._array_digest
    monkeypatch.setattr(mlrpy.fingerprint, "_array_digest", lambda v: hashed.append(1) or real(v))
    lrn("classif.mlp", epochs=3, neurons=(8,), random_state=0, callbacks=["history"]).fit(*iris_xy)
    assert hashed == []
    _learner(tmp_path, epochs=3).fit(*iris_xy)
    assert len(hashed) == 2  # inputs and targets, once for three checkpoints
    _learner(tmp_path, epochs=5).fit(*iris_xy)
    assert len(hashed) == 4  # once more when resuming; the checkpoint callback reuses it


# -- the comparison itself ----------------------------------------------------------------------------
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
# generating nested values is slow on a loaded machine; that is not what these tests check
relaxed = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
params = st.dictionaries(st.from_regex(r"[a-z]{1,6}(\.[a-z]{1,6})?", fullmatch=True), values, min_size=1, max_size=6)


def _fingerprint(p):
    return {"rows": 10, "data": None, "target": None, "classes": None, "seed": 1,
            "params": {k: describe(v) for k, v in p.items()}}


@relaxed
@given(params)
def test_a_fingerprint_matches_itself_after_a_file_round_trip(tmp_path_factory, p):
    from mlrpy.fileformat import read_file, write_file

    path = tmp_path_factory.mktemp("fp") / "fp.bin"
    write_file(path, "checkpoint", _fingerprint(p))
    assert fingerprint_differences(read_file(path, "checkpoint"), _fingerprint(p)) == []


@relaxed
@given(params, st.data())
def test_every_changed_parameter_is_named(p, data):
    name = data.draw(st.sampled_from(sorted(p)))
    changed = {**p, name: data.draw(values.filter(lambda v: describe(v) != describe(p[name])))}
    differences = fingerprint_differences(_fingerprint(p), _fingerprint(changed))
    assert [d.split(": ", 1)[0] for d in differences] == [name]
