"""checkpoint and exact resume: files, pruning, durability, finished and stopped runs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import mlrpy
import mlrpy.io
from mlrpy import CallbackStageError, CheckpointError, ParameterError, lrn, t_clbk, torch_callback, tsk
from mlrpy.callbacks.checkpoint import checkpoint_files, read_checkpoint


def _learner(folder, epochs=4, callbacks=("history",), **kw):
    checkpoint = t_clbk("checkpoint", path=str(folder), freq=kw.pop("freq", 1), keep_last=kw.pop("keep_last", None))
    return lrn("classif.mlp", epochs=epochs, batch_size=16, p=0.2, random_state=5, validate=0.2,
               callbacks=[*callbacks, checkpoint], **kw)


def _snapshot(folder):
    """Every file in ``folder`` with its bytes and modification time: what "nothing written" means."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _assert_same_model(a, b):
    for (name, x), y in zip(a.model.network.state_dict().items(), b.model.network.state_dict().values()):
        assert torch.equal(x, y), name  # bit-identical, not merely close
    assert a.model.epochs == b.model.epochs
    pd.testing.assert_frame_equal(pd.DataFrame(a.model.callbacks["history"]), pd.DataFrame(b.model.callbacks["history"]))


def test_checkpoint_files_and_contents(tmp_path):
    _learner(tmp_path, epochs=5, freq=2).train(tsk("iris"))
    assert [e for e, _ in checkpoint_files(tmp_path)] == [2, 4, 5]  # every freq-th and the last
    payload = read_checkpoint(tmp_path / "checkpoint_00004.pt")
    assert payload["epoch"] == 4 and payload["global_step"] == 4 * 8  # 120 training rows / 16
    assert set(payload["rng"]) >= {"torch", "numpy", "python"}
    history = payload["callbacks"]["history"]
    assert history["class"].endswith(":CallbackSetHistory")
    assert history["state"]["epoch"].tolist() == [1, 2, 3, 4]
    assert "checkpoint" not in payload["callbacks"]
    assert payload["fingerprint"]["rows"] == 120 and payload["fingerprint"]["seed"] == 5
    assert set(payload["scores"]["valid"]) == {"loss"}
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_callable_path_gives_distinct_folders(tmp_path):
    counter = iter(range(100))
    tc = t_clbk("checkpoint", path=lambda: str(tmp_path / f"run_{next(counter)}"))
    for _ in range(2):
        lrn("classif.mlp", epochs=1, callbacks=[tc], random_state=0).train(tsk("iris"))
    assert sorted(os.listdir(tmp_path)) == ["run_0", "run_1"]


def test_refuses_folder_of_another_run(tmp_path):
    _learner(tmp_path, epochs=1).train(tsk("iris"))
    # raised in the checkpoint callback's on_begin, so it arrives naming callback and stage
    with pytest.raises(CallbackStageError, match="'checkpoint'.*on_begin.*already holds checkpoints") as info:
        _learner(tmp_path, epochs=1).train(tsk("iris"))
    assert isinstance(info.value.__cause__, CheckpointError)


def test_bad_inputs(tmp_path):
    file = tmp_path / "a_file"
    file.write_text("x")
    with pytest.raises(CallbackStageError, match="is a file") as info:
        lrn("classif.mlp", epochs=1, callbacks=[t_clbk("checkpoint", path=str(file))]).train(tsk("iris"))
    assert isinstance(info.value.__cause__, CheckpointError)
    with pytest.raises(ParameterError, match=r"cb\.checkpoint\.freq"):
        t_clbk("checkpoint", path="x", freq=0)
    with pytest.raises(ParameterError, match=r"cb\.checkpoint\.keep_last"):
        t_clbk("checkpoint", path="x", keep_last=0)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="no mlrpy checkpoints.*notes.txt"):
        lrn("classif.mlp", epochs=1, resume=str(other)).train(tsk("iris"))
    with pytest.raises(ParameterError, match="no 'checkpoint'"):
        lrn("classif.mlp", epochs=1, resume=True).train(tsk("iris"))


def test_resume_with_empty_folder_starts_from_scratch(tmp_path):
    folder = tmp_path / "not_yet"
    learner = _learner(folder, epochs=2, resume=True).train(tsk("iris"))
    assert learner.model.epochs == 2 and len(checkpoint_files(folder)) == 2


def test_resume_after_architecture_change_errors_and_writes_nothing(tmp_path):
    _learner(tmp_path, epochs=2).train(tsk("iris"))
    before = _snapshot(tmp_path)
    changed = _learner(tmp_path, epochs=4, resume=True)
    changed.set_params(neurons=(7,))
    with pytest.raises(CheckpointError, match="nothing was written.*neurons: \\[64, 64\\] vs \\[7\\]"):
        changed.train(tsk("iris"))
    assert _snapshot(tmp_path) == before


def test_resume_callback_class_mismatch_errors(tmp_path):
    _learner(tmp_path, epochs=1).train(tsk("iris"))
    impostor = t_clbk("progress")
    impostor.id = "history"
    with pytest.raises(CheckpointError, match="'history' was a CallbackSetHistory"):
        _learner(tmp_path, epochs=2, callbacks=[impostor], resume=True).train(tsk("iris"))


def test_resume_missing_callback_warns_and_new_one_starts_fresh(tmp_path):
    _learner(tmp_path, epochs=1, callbacks=("lr_monitor",)).train(tsk("iris"))
    with pytest.warns(RuntimeWarning, match="'lr_monitor' of the interrupted run is not attached"):
        _learner(tmp_path, epochs=2, callbacks=(), resume=True).train(tsk("iris"))
    with pytest.warns(RuntimeWarning) as caught:
        learner = _learner(tmp_path, epochs=3, callbacks=["lr_monitor"], resume=True).train(tsk("iris"))
    assert [str(w.message).split(": ", 1)[1] for w in caught] == [
        "callback 'lr_monitor' was not in the interrupted run; it starts fresh",
    ]
    assert len(learner.model.callbacks["lr_monitor"]["epoch"]) == 1  # only the epoch it saw
    # the history, recorded by every run, continued through both resumes
    assert learner.model.callbacks["history"]["epoch"].tolist() == [1, 2, 3]


def test_resume_continues_bit_identical_and_keeps_saved_epochs(tmp_path):
    folder = tmp_path / "run"
    _learner(folder, epochs=2).train(tsk("iris"))
    saved = _snapshot(folder)
    resumed = _learner(folder, epochs=5, resume=True).train(tsk("iris"))
    _assert_same_model(resumed, _learner(tmp_path / "straight", epochs=5).train(tsk("iris")))
    after = _snapshot(folder)
    assert {name: after[name] for name in saved} == saved  # epochs 1-2 are never written again
    assert [e for e, _ in checkpoint_files(folder)] == [1, 2, 3, 4, 5]


def test_resuming_a_finished_run_trains_and_writes_nothing(tmp_path):
    finished = _learner(tmp_path, epochs=3, callbacks=["history", "lr_monitor"]).train(tsk("iris"))
    before = _snapshot(tmp_path)
    again = _learner(tmp_path, epochs=3, callbacks=["history", "lr_monitor"], resume=True).train(tsk("iris"))
    assert _snapshot(tmp_path) == before
    _assert_same_model(again, finished)
    assert again.model.callbacks.keys() == finished.model.callbacks.keys()
    pd.testing.assert_frame_equal(pd.DataFrame(again.model.callbacks["lr_monitor"]), pd.DataFrame(finished.model.callbacks["lr_monitor"]))
    assert again.model.callbacks["checkpoint"] == finished.model.callbacks["checkpoint"]
    assert again.model.internal_valid_scores == finished.model.internal_valid_scores
    assert again.model.optimizer["state"][0]["step"] == finished.model.optimizer["state"][0]["step"]


def test_epochs_below_the_checkpoint_is_an_error(tmp_path):
    _learner(tmp_path, epochs=4).train(tsk("iris"))
    before = _snapshot(tmp_path)
    with pytest.raises(CheckpointError, match="holds epoch 4, but epochs=2.*epochs >= 4"):
        _learner(tmp_path, epochs=2, resume=True).train(tsk("iris"))
    assert _snapshot(tmp_path) == before


def stop_at(self, epoch: int | None = None):
    self.epoch = epoch


def stop_if_due(self):
    if self.epoch is not None and self.ctx.epoch >= self.epoch:
        self.ctx.terminate = True


stopper = torch_callback("stopper", initialize=stop_at, on_epoch_end=stop_if_due)


def test_a_run_another_callback_stopped_continues_when_resumed(tmp_path):
    stopped = _learner(tmp_path, epochs=5, callbacks=["history", stopper.clone().set_values(epoch=2)])
    assert stopped.train(tsk("iris")).model.epochs == 2
    resumed = _learner(tmp_path, epochs=5, callbacks=["history", stopper], resume=True).train(tsk("iris"))
    assert resumed.model.epochs == 5
    _assert_same_model(resumed, _learner(tmp_path / "straight", epochs=5).train(tsk("iris")))


def test_resuming_an_early_stopped_run_returns_the_same_model(tmp_path):
    def stopped_early(folder, **kw):
        return _learner(folder, epochs=40, patience=2, min_delta=0.05, restore_best_weights=True, **kw)

    first = stopped_early(tmp_path).train(tsk("iris"))
    assert first.model.epochs < 40
    before = _snapshot(tmp_path)
    again = stopped_early(tmp_path, resume=True).train(tsk("iris"))
    assert _snapshot(tmp_path) == before
    _assert_same_model(again, first)
    assert again.internal_tuned_values == first.internal_tuned_values
    assert again.model.callbacks["early_stopping"] == first.model.callbacks["early_stopping"]


def test_keep_last_prunes_older_checkpoints(tmp_path):
    _learner(tmp_path / "all", epochs=5).train(tsk("iris"))
    assert len(checkpoint_files(tmp_path / "all")) == 5  # default None keeps all
    _learner(tmp_path / "two", epochs=5, keep_last=2).train(tsk("iris"))
    assert [e for e, _ in checkpoint_files(tmp_path / "two")] == [4, 5]
    resumed = _learner(tmp_path / "two", epochs=7, keep_last=2, resume=True).train(tsk("iris"))
    assert [e for e, _ in checkpoint_files(tmp_path / "two")] == [6, 7]
    _assert_same_model(resumed, _learner(tmp_path / "straight", epochs=7).train(tsk("iris")))


def test_temporaries_of_a_killed_write_are_removed_at_the_next_write(tmp_path):
    _learner(tmp_path, epochs=2, callbacks=("lr_monitor",)).train(tsk("iris"))
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()  # a writer process that no longer exists
    leftover = tmp_path / f".checkpoint_00003.pt.{killed.pid}-0123456789abcdef.tmp"
    live = tmp_path / f".checkpoint_00004.pt.{os.getpid()}-0123456789abcdef.tmp"
    live.write_bytes(b"another thread is still writing this")
    leftover.write_bytes(b"half a checkpoint")
    unrelated = tmp_path / ".notes.tmp"
    unrelated.write_text("not ours")
    with pytest.warns(RuntimeWarning, match="not attached"):  # the leftover is not a checkpoint
        _learner(tmp_path, epochs=3, callbacks=(), resume=True).train(tsk("iris"))
    assert not leftover.exists() and unrelated.exists() and live.exists()


def test_folder_is_synced_after_each_checkpoint_is_renamed_into_place(tmp_path, monkeypatch):
    synced = []
    real = mlrpy.io.fsync_folder

    def record(folder):
        synced.append(sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")))
        real(folder)

    monkeypatch.setattr(mlrpy.io, "fsync_folder", record)
    _learner(tmp_path, epochs=3).train(tsk("iris"))
    # each sync sees the checkpoint just renamed into place
    assert synced == [[f"checkpoint_{e:05d}.pt" for e in range(1, n + 1)] for n in (1, 2, 3)]


@pytest.mark.parametrize("value", [object(), print], ids=["object", "function"])
def test_callback_state_that_is_not_data_is_refused_naming_the_callback(tmp_path, value):
    keeper = torch_callback("keeper", state_dict=lambda self: {"obj": [1, value]},
                            load_state_dict=lambda self, s: None, on_epoch_end=lambda self: None)
    with pytest.raises(CallbackStageError, match=r"callbacks\.keeper\.state\.obj\.1 is a builtins:") as info:
        _learner(tmp_path, epochs=1, callbacks=[keeper]).train(tsk("iris"))
    assert isinstance(info.value.__cause__, mlrpy.UnstorableValueError)
    assert not checkpoint_files(tmp_path) and not list(tmp_path.glob(".*.tmp"))


def test_checkpoint_states_keep_their_types(tmp_path):
    state = {"array": np.arange(6, dtype=np.uint32).reshape(2, 3), "pair": (1, 2.5), 3: {"nested": [None, True]},
             "tensor": torch.tensor([1.5, -2.0], dtype=torch.bfloat16), "scalar": np.float32(0.1), "text": "ü"}
    keeper = torch_callback("keeper", state_dict=lambda self: state, load_state_dict=lambda self, s: None,
                            on_epoch_end=lambda self: None)
    _learner(tmp_path, epochs=1, callbacks=[keeper]).train(tsk("iris"))
    back = read_checkpoint(tmp_path / "checkpoint_00001.pt")["callbacks"]["keeper"]["state"]
    assert back.keys() == state.keys()
    np.testing.assert_array_equal(back["array"], state["array"])
    assert back["array"].dtype == np.uint32 and back["pair"] == (1, 2.5) and back[3] == {"nested": [None, True]}
    assert torch.equal(back["tensor"], state["tensor"]) and type(back["scalar"]) is np.float32
    assert back["scalar"] == state["scalar"] and back["text"] == "ü"
