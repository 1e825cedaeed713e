"""Concurrent use: fits in threads of one process, runs sharing a checkpoint folder, resample
iterations in parallel workers, and a model file read while it is being rewritten.

Every case ends in a typed mlrpy error or a correct result: fits in threads take turns on
torch's global random number generator, so they give the models a lone fit gives.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

import mlrpy
import mlrpy.io
from mlrpy import CallbackStageError, CheckpointError, lrn, rsmp, t_clbk, tsk
from mlrpy.callbacks.checkpoint import checkpoint_files, read_checkpoint

FOLDS = 3


def _in_threads(*jobs):
    """Start every job at the same moment in its own thread; their results or errors, in order."""
    start = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def run(i, job):
        start.wait()
        try:
            outcomes[i] = job()
        except BaseException as error:  # handed back to the test to assert on
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _weights(learner):
    return learner.model.network.state_dict()


def _assert_same_weights(a, b):
    for (name, x), y in zip(_weights(a).items(), _weights(b).values(), strict=True):
        assert torch.equal(x, y), name  # bit-identical, not merely close


def test_threads_with_the_same_random_state_train_identical_models():
    # dropout and shuffling draw from the global generator on every batch: interleaved fits
    # would each see a different stream
    def fit():
        return lrn("classif.mlp", epochs=3, batch_size=16, p=0.3, random_state=11).train(tsk("iris"))

    first, second = _in_threads(fit, fit)
    alone = fit()
    _assert_same_weights(first, second)
    _assert_same_weights(first, alone)


def test_threads_with_different_random_states_train_the_models_each_gives_alone():
    def fit(seed):
        return lambda: lrn("regr.mlp", epochs=2, batch_size=8, p=0.2, random_state=seed).train(tsk("diabetes"))

    concurrent = _in_threads(fit(1), fit(2))
    for seed, learner in zip((1, 2), concurrent, strict=True):
        _assert_same_weights(learner, fit(seed)())


def test_two_runs_on_one_fresh_checkpoint_folder_one_writes_and_the_other_raises(tmp_path):
    folder = tmp_path / "shared"

    def run(seed):
        callbacks = [t_clbk("checkpoint", path=str(folder))]
        return lambda: lrn("classif.mlp", epochs=3, batch_size=16, random_state=seed,
                           callbacks=callbacks).train(tsk("iris"))

    outcomes = _in_threads(run(1), run(2))
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    # raised in the checkpoint callback's on_begin, so it arrives naming callback and stage
    assert isinstance(losers[0], CallbackStageError) and isinstance(losers[0].original, CheckpointError)
    assert "already holds checkpoints" in str(losers[0])
    # the folder is the winner's alone: its three epochs, the last holding its final weights
    files = checkpoint_files(folder)
    assert [epoch for epoch, _ in files] == [1, 2, 3]
    assert len({read_checkpoint(file)["seed"] for _, file in files}) == 1
    newest = read_checkpoint(files[-1][1])["network"]
    for name, weights in _weights(winners[0]).items():
        assert torch.equal(newest[name], weights), name


def _cv_learner(folder, epochs, **kw):
    return lrn("classif.mlp", epochs=epochs, batch_size=16, p=0.2, random_state=4,
               callbacks=["history", t_clbk("checkpoint", path=str(folder))], **kw)


def _probabilities(rr):
    return [p.prob for p in rr.predictions()]


def test_parallel_resample_checkpoints_each_iteration_apart_and_resumes_each(tmp_path):
    cv = rsmp("cv", folds=FOLDS, seed=2)
    folder = tmp_path / "runs"
    mlrpy.resample(tsk("iris"), _cv_learner(folder, epochs=2), cv, n_jobs=2, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == [f"iter_{i}" for i in range(FOLDS)]
    for i in range(FOLDS):
        assert [epoch for epoch, _ in checkpoint_files(folder / f"iter_{i}")] == [1, 2]
    # the iterations trained on different rows, so each wrote its own weights
    finals = [read_checkpoint(folder / f"iter_{i}" / "checkpoint_00002.pt")["network"] for i in range(FOLDS)]
    first_layer = next(iter(finals[0]))
    assert not torch.equal(finals[0][first_layer], finals[1][first_layer])

    resumed = mlrpy.resample(tsk("iris"), _cv_learner(folder, epochs=4, resume=True), cv, n_jobs=2, progress=False)
    for i in range(FOLDS):
        assert [epoch for epoch, _ in checkpoint_files(folder / f"iter_{i}")] == [1, 2, 3, 4]
    straight = mlrpy.resample(tsk("iris"), _cv_learner(tmp_path / "straight", epochs=4), cv, progress=False)
    for a, b in zip(_probabilities(resumed), _probabilities(straight), strict=True):
        np.testing.assert_array_equal(a, b)  # each iteration continued exactly where it stopped


def test_a_model_file_read_while_it_is_rewritten_is_always_complete(tmp_path):
    path = tmp_path / "model.mlrpy"
    X = tsk("iris").data(cols=tsk("iris").feature_names)
    models = [lrn("classif.mlp", epochs=1, random_state=seed).train(tsk("iris")) for seed in (1, 2)]
    expected = [m.predict_proba(X) for m in models]
    assert not np.array_equal(*expected)
    models[0].save(path)
    rewrites = 30
    done = threading.Event()

    def rewrite():
        try:
            for i in range(rewrites):
                models[i % 2].save(path)
        finally:
            done.set()

    def read():
        seen = []
        while not done.is_set() or not seen:
            proba = mlrpy.load(path).predict_proba(X)
            seen.append(next(j for j, e in enumerate(expected) if np.array_equal(proba, e)))
        return seen

    writer_outcome, seen = _in_threads(rewrite, read)
    assert writer_outcome is None
    assert not isinstance(seen, BaseException), seen  # a half-written file would raise here
    assert seen  # every load matched one of the two complete models (next() found it)
    assert not list(tmp_path.glob("*.tmp*")), "temporaries left behind"


def test_a_save_to_a_path_another_save_is_writing_leaves_one_complete_model(tmp_path, monkeypatch):
    path = tmp_path / "model.mlrpy"
    first, second = (lrn("regr.mlp", epochs=1, random_state=seed).train(tsk("diabetes")) for seed in (1, 2))
    replace = mlrpy.io.os.replace
    calls = []

    def second_save_lands_first(src, dst):
        # the interleaving two threads or processes saving one path can hit: the second save
        # runs from start to end while the first holds its finished temporary
        calls.append(src)
        if len(calls) == 1:
            second.save(path)
        replace(src, dst)

    monkeypatch.setattr(mlrpy.io.os, "replace", second_save_lands_first)
    first.save(path)
    monkeypatch.undo()
    X = tsk("diabetes").data(cols=tsk("diabetes").feature_names)
    np.testing.assert_array_equal(mlrpy.load(path).predict(X), first.predict(X))  # the last rename wins
    assert [p.name for p in tmp_path.iterdir()] == ["model.mlrpy"]
