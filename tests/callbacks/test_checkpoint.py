"""checkpoint and exact resume after a hard kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from mlrpy import CallbackStageError, CheckpointError, ParameterError, lrn, t_clbk, tsk
from mlrpy.callbacks.checkpoint import checkpoint_files, read_checkpoint


def _learner(folder, epochs=4, **kw):
    return lrn("classif.mlp", epochs=epochs, batch_size=16, p=0.2, random_state=5,
               callbacks=["history", t_clbk("checkpoint", path=str(folder), freq=kw.pop("freq", 1))], **kw)


def test_checkpoint_files_and_contents(tmp_path):
    _learner(tmp_path, epochs=5, freq=2).train(tsk("iris"))
    assert [e for e, _ in checkpoint_files(tmp_path)] == [2, 4, 5]  # every freq-th and the last
    payload = read_checkpoint(tmp_path / "checkpoint_00004.pt")
    assert payload["epoch"] == 4 and payload["global_step"] == 4 * 10
    assert set(payload["rng"]) >= {"torch", "numpy", "python"}
    assert payload["callbacks"]["history"][1]["epoch"].tolist() == [1, 2, 3, 4]
    assert "checkpoint" not in payload["callbacks"]
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
    before = sorted(os.listdir(tmp_path))
    changed = _learner(tmp_path, epochs=4, resume=True)
    changed.set_params(neurons=(7,))
    with pytest.raises(CheckpointError, match="network differs"):
        changed.train(tsk("iris"))
    assert sorted(os.listdir(tmp_path)) == before


def test_resume_callback_class_mismatch_errors(tmp_path):
    _learner(tmp_path, epochs=1).train(tsk("iris"))
    impostor = t_clbk("progress")
    impostor.id = "history"
    learner = lrn("classif.mlp", epochs=2, batch_size=16, p=0.2, random_state=5, resume=True,
                  callbacks=[impostor, t_clbk("checkpoint", path=str(tmp_path))])
    with pytest.raises(CheckpointError, match="'history' was a CallbackSetHistory"):
        learner.train(tsk("iris"))


def test_resume_missing_callback_warns(tmp_path):
    _learner(tmp_path, epochs=1).train(tsk("iris"))
    learner = lrn("classif.mlp", epochs=2, batch_size=16, p=0.2, random_state=5, resume=True,
                  callbacks=[t_clbk("checkpoint", path=str(tmp_path))])
    with pytest.warns(RuntimeWarning, match="'history' of the interrupted run is not attached"):
        learner.train(tsk("iris"))


SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import torch
    import mlrpy

    folder, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.set_num_threads(1)

    def kill_mid_epoch(self):
        if self.ctx.epoch == 4 and self.ctx.step == 3:
            os.kill(os.getpid(), signal.SIGKILL)   # no cleanup, no on_exit: a hard crash

    callbacks = ["history", mlrpy.t_clbk("checkpoint", path=folder, freq=1)]
    if mode == "killed":
        callbacks.append(mlrpy.torch_callback("killer", on_batch_end=kill_mid_epoch))
    learner = mlrpy.lrn("classif.mlp", epochs=7, batch_size=16, p=0.3, random_state=11,
                        callbacks=callbacks, resume=True, validate=0.2,
                        measures_valid=["classif.acc"], **{"opt.lr": 0.01})
    learner.train(mlrpy.tsk("wine"))
    torch.save({"weights": learner.model.network.state_dict(),
                "history": learner.model.callbacks["history"]}, out)
    """
)


def _run(script, folder, mode, out):
    return subprocess.run([sys.executable, str(script), str(folder), mode, str(out)],
                          capture_output=True, text=True, timeout=240)


def test_killed_run_resumes_bit_identical(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    killed = _run(script, tmp_path / "a", "killed", tmp_path / "never.pt")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert [e for e, _ in checkpoint_files(tmp_path / "a")] == [1, 2, 3]  # died inside epoch 4
    resumed = _run(script, tmp_path / "a", "resumed", tmp_path / "resumed.pt")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = _run(script, tmp_path / "b", "straight", tmp_path / "straight.pt")
    assert straight.returncode == 0, straight.stderr[-2000:]

    a = torch.load(tmp_path / "resumed.pt", weights_only=False)
    b = torch.load(tmp_path / "straight.pt", weights_only=False)
    for name, tensor in b["weights"].items():
        assert torch.equal(a["weights"][name], tensor), name  # bit-identical, not merely close
    assert a["history"]["epoch"].tolist() == list(range(1, 8))
    assert list(a["history"]) == list(b["history"])
    for column, values in b["history"].items():
        np.testing.assert_array_equal(a["history"][column], values, err_msg=column)
