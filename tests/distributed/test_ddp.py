"""Data-parallel training (``strategy="ddp"``) on the CPU with gloo: two spawned processes.

Each test that trains with ``devices=2`` starts two worker processes (a few seconds each), so
the tests combine several checks per run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import psutil
import pytest
import torch

import mlrpy
from mlrpy import DistributedError, ParameterError, lrn, t_clbk, t_opt
from mlrpy.errors import CallbackStageError
from mlrpy.learners.launch import check_devices
from tests.distributed.support import (
    CallbackSetRankLog,
    fail_on_rank,
    rank_log,
    read_rank_logs,
    stop_epoch_on_rank,
    terminate_on_rank,
)

DDP = {"strategy": "ddp", "devices": 2, "device": "cpu"}


def problem(n=256, n_valid=51, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n + n_valid, 5)).astype("float32")
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X[:n], y[:n], X[n:], y[n:]


def sgd_learner(batch_size, **kw):
    return lrn(
        "classif.mlp", epochs=3, batch_size=batch_size, optimizer=t_opt("sgd", lr=0.1), shuffle=False,
        random_state=0, measures_train="classif.acc", measures_valid=["classif.acc", "classif.logloss"], **kw,
    )


def weights(learner):
    return learner.model.network.state_dict()


def assert_same_weights(a, b, atol=1e-6):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], atol=atol, rtol=1e-5)


def spawned_workers_alive():
    return [p for p in psutil.Process().children(recursive=True)
            if p.is_running() and "spawn_main" in " ".join(p.cmdline())]


@pytest.mark.parametrize("as_dataset", [False, True], ids=["in-memory", "dataset"])
def test_two_processes_train_like_one_process_with_twice_the_batch(tmp_path, as_dataset):
    X, y, Xv, yv = problem()
    fit_args = ((torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), None)
                if as_dataset else (X, y))
    one = sgd_learner(32, device="cpu").fit(*fit_args, validation_data=(Xv, yv))
    logger = t_clbk("csv_logger", path=str(tmp_path / "log.csv"))
    two = sgd_learner(16, callbacks=[rank_log(tmp_path), logger], **DDP)
    two.fit(*fit_args, validation_data=(Xv, yv))

    # SGD with the gradients averaged over 2 x 16 rows is SGD on the same 32 rows
    assert_same_weights(one, two)
    # the epoch's loss and the scores cover every rank's rows (51 validation rows: one padded)
    h1, h2 = pd.DataFrame(one.model.callbacks["history"]), pd.DataFrame(two.model.callbacks["history"])
    assert list(h2.columns) == list(h1.columns)
    pd.testing.assert_frame_equal(h1, h2, atol=1e-5, rtol=1e-5)
    # each rank saw its own half of every epoch
    logs = read_rank_logs(tmp_path)
    assert [logs[r][0] for r in (0, 1)] == [{"rank": 0, "world_size": 2}, {"rank": 1, "world_size": 2}]
    for epoch in (1, 2, 3):
        rows = [set(logs[r][epoch]["rows"]) for r in (0, 1)]
        assert not rows[0] & rows[1] and rows[0] | rows[1] == set(range(len(X)))
    # a rank-0-only callback wrote once: 3 epochs, 3 rows
    assert len(pd.read_csv(tmp_path / "log.csv")) == 3
    # the calling process holds a usable model
    assert two.model.epochs == 3 and not hasattr(two.model.network, "module")
    np.testing.assert_array_equal(two.predict(Xv), one.predict(Xv))
    path = tmp_path / "model.pt"
    two.save(path)
    assert_same_weights(mlrpy.load(path, trusted=[CallbackSetRankLog]), two)
    assert not spawned_workers_alive()


def test_shuffled_shards_are_disjoint_cover_the_epoch_and_reproduce(tmp_path):
    X, y, _, _ = problem(n=100)
    runs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        lrn("classif.mlp", epochs=2, batch_size=10, random_state=3, callbacks=[rank_log(folder)], **DDP).fit(X, y)
        runs.append(read_rank_logs(folder))
    first, again = runs
    assert first == again  # the same random_state gives the same shards
    orders = []
    for epoch in (1, 2):
        rows = [first[r][epoch]["rows"] for r in (0, 1)]
        assert len(rows[0]) == len(rows[1]) == 50 and set(rows[0]).isdisjoint(rows[1])
        orders.append(rows[0])
    assert orders[0] != orders[1]  # a fresh order every epoch


def test_terminate_on_one_rank_stops_every_rank_after_the_same_epoch(tmp_path):
    X, y, _, _ = problem(n=64)
    learner = lrn("classif.mlp", epochs=5, batch_size=8, random_state=0,
                  callbacks=[rank_log(tmp_path), terminate_on_rank(rank=1, epoch=2)], **DDP)
    learner.fit(X, y)
    logs = read_rank_logs(tmp_path)
    assert [[rec["epoch"] for rec in logs[r][1:]] for r in (0, 1)] == [[1, 2], [1, 2]]
    assert learner.model.epochs == 2


def test_a_rank_may_end_an_epoch_early_when_a_callback_declares_it(tmp_path):
    X, y, _, _ = problem(n=64)  # 32 rows and 4 batches per rank and epoch
    declared = lrn("classif.mlp", epochs=2, batch_size=8, random_state=0,
                   callbacks=[rank_log(tmp_path), stop_epoch_on_rank(rank=1, epoch=1, batch=2)], **DDP)
    declared.fit(X, y)  # the other rank finishes its batches alone (torch's Join)
    logs = read_rank_logs(tmp_path)
    assert [len(logs[r][1]["rows"]) for r in (0, 1)] == [32, 16]
    assert [len(logs[r][2]["rows"]) for r in (0, 1)] == [32, 32]
    undeclared = lrn("classif.mlp", epochs=2, batch_size=8, random_state=0,
                     callbacks=[stop_epoch_on_rank(rank=1, epoch=1, batch=2, declared=False)], **DDP)
    with pytest.raises(DistributedError, match=r"Rank 1 .*must list 'stop_epoch' in its writes"):
        undeclared.fit(X, y)  # an error, not a hang
    assert not spawned_workers_alive()


def test_early_stopping_stops_both_ranks_on_the_reduced_validation_score(tmp_path):
    X, y, Xv, yv = problem(n=64)
    # min_delta no loss can beat: the second evaluation does not improve, so training stops there
    learner = lrn("classif.mlp", epochs=6, batch_size=8, random_state=0, patience=1, min_delta=100.0,
                  callbacks=[rank_log(tmp_path)], **DDP)
    learner.fit(X, y, validation_data=(Xv, yv))
    logs = read_rank_logs(tmp_path)
    assert [[rec["epoch"] for rec in logs[r][1:]] for r in (0, 1)] == [[1, 2], [1, 2]]
    assert learner.model.epochs == 2


def test_a_checkpoint_written_by_two_processes_resumes_on_two_processes(tmp_path):
    X, y, _, _ = problem(n=64)

    def learner(epochs, **kw):
        return lrn("classif.mlp", epochs=epochs, batch_size=8, random_state=0, **DDP, **kw)

    straight = learner(4).fit(X, y)
    checkpoint = t_clbk("checkpoint", path=str(tmp_path / "ckpt"), freq=1)
    first = learner(2, callbacks=[checkpoint]).fit(X, y)
    assert first.model.epochs == 2
    resumed = learner(4, callbacks=[checkpoint], resume=True).fit(X, y)
    assert resumed.model.epochs == 4
    assert pd.DataFrame(resumed.model.callbacks["history"])["epoch"].tolist() == [1, 2, 3, 4]
    assert_same_weights(resumed, straight)


def test_a_failing_worker_stops_all_workers_and_names_its_rank_and_callback():
    X, y, _, _ = problem(n=64)
    learner = lrn("classif.mlp", epochs=3, batch_size=8, callbacks=[fail_on_rank(1)], **DDP)
    with pytest.raises(DistributedError, match=r"Rank 1 .*fail_on_rank.*on_epoch_end.*deliberate failure") as info:
        learner.fit(X, y)
    assert info.value.rank == 1
    assert isinstance(info.value.__cause__, CallbackStageError)
    assert isinstance(info.value.__cause__.__cause__, ValueError)
    assert not hasattr(learner, "model_")
    assert not spawned_workers_alive()


def test_a_worker_killed_by_a_signal_is_reported_as_such():
    X, y, _, _ = problem(n=64)
    learner = lrn("classif.mlp", epochs=3, batch_size=8, callbacks=[fail_on_rank(1, how="kill")], **DDP)
    with pytest.raises(DistributedError, match="Rank 1 .* was killed by signal SIGKILL") as info:
        learner.fit(X, y)
    assert info.value.rank == 1
    assert not spawned_workers_alive()


def test_torchrun_starts_the_ranks_and_each_ends_with_the_same_model(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import numpy as np, torch, torch.distributed as dist
        from mlrpy import lrn
        rng = np.random.default_rng(0)
        X = rng.normal(size=(64, 5)).astype("float32"); y = (X[:, 0] > 0).astype(int)
        learner = lrn("classif.mlp", epochs=2, batch_size=8, random_state=0, strategy="ddp", device="cpu")
        learner.fit(X, y)
        rank = dist.get_rank()
        torch.save(learner.model.network.state_dict(), r"{tmp_path}" + f"/rank-{{rank}}.pt")
        # a file per rank: the ranks' printed lines would interleave on the shared stdout
        with open(r"{tmp_path}" + f"/rank-{{rank}}.txt", "w") as f:
            f.write(f"rank {{rank}} of {{dist.get_world_size()}} epochs {{learner.model.epochs}}")
    """))
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script)],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [(tmp_path / f"rank-{r}.txt").read_text() for r in (0, 1)]
    assert lines == ["rank 0 of 2 epochs 2", "rank 1 of 2 epochs 2"]
    w0, w1 = (torch.load(tmp_path / f"rank-{r}.pt") for r in (0, 1))
    for k in w0:
        torch.testing.assert_close(w0[k], w1[k], atol=0, rtol=0)


def test_one_process_runs_are_rank_zero_of_one(tmp_path):
    X, y, _, _ = problem(n=32)
    lrn("classif.mlp", epochs=1, batch_size=8, callbacks=[rank_log(tmp_path)], device="cpu").fit(X, y)
    assert read_rank_logs(tmp_path)[0][0] == {"rank": 0, "world_size": 1}


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"strategy": "dp"}, r"'strategy' must be None or 'ddp', got 'dp'"),
        ({"strategy": "ddp", "backend": "mpi"}, r"'backend' must be None, 'gloo' or 'nccl', got 'mpi'"),
        ({"strategy": "ddp", "devices": 0}, r"'devices' must be an integer >= 1, got 0"),
        ({"strategy": "ddp", "backend": "nccl", "device": "cpu"}, r"backend='nccl' needs CUDA"),
    ],
)
def test_bad_strategy_settings_are_refused_before_any_process_starts(params, match):
    X, y, _, _ = problem(n=16)
    with pytest.raises(ParameterError, match=match):
        lrn("classif.mlp", epochs=1, **params).fit(X, y)
    assert not spawned_workers_alive()


def test_more_devices_than_gpus_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    learner = lrn("classif.mlp", strategy="ddp", devices=2)
    with pytest.raises(ParameterError, match=r"devices=2, but this machine has 1 CUDA device"):
        check_devices(learner, torch.device("cuda"))


def test_a_callback_that_cannot_be_pickled_is_named_with_a_fix():
    class CallbackSetLocal(mlrpy.CallbackSet):
        def on_epoch_end(self):
            pass

    X, y, _, _ = problem(n=16)
    learner = lrn("classif.mlp", epochs=1, callbacks=[mlrpy.TorchCallback("local", CallbackSetLocal)], **DDP)
    with pytest.raises(ParameterError, match=r"parameter 'callbacks'.*cannot be pickled.*module level"):
        learner.fit(X, y)


def test_a_class_from_an_interactive_session_is_named(monkeypatch):
    import types

    interactive = types.ModuleType("__main__")  # a notebook's __main__ has no __file__
    monkeypatch.setitem(sys.modules, "__main__", interactive)

    class Net(torch.nn.Module):
        def forward(self, x):
            return x

    Net.__module__ = "__main__"
    learner = lrn("classif.module", module=Net, epochs=1, **DDP)
    X, y, _, _ = problem(n=16)
    with pytest.raises(ParameterError, match=r"Net' of parameter 'module'.*interactive session.*module"):
        learner.fit(X, y)


def test_a_script_without_a_main_guard_is_told_to_add_one(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        from mlrpy import lrn
        X = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
        lrn("classif.mlp", epochs=1, strategy="ddp", devices=2, device="cpu").fit(X, (X[:, 0] > 0).astype(int))
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode != 0
    assert 'DistributedError: Rank' in proc.stderr and 'if __name__ == "__main__":' in proc.stderr
