"""checkpoint watching a validation score: best-only saving, restoring the best epoch, resume."""

from __future__ import annotations

import pytest
import torch

from mlrpy import CallbackStageError, ParameterError, lrn, t_clbk, torch_callback, tsk
from mlrpy.callbacks.checkpoint import checkpoint_files, read_checkpoint
from mlrpy.testing import simulate


def epoch_probe():
    """Records the network's weights and the validation scores at every epoch's end, before
    the checkpoint callback (weight inf) acts."""
    seen: dict[int, tuple[dict[str, torch.Tensor], dict[str, float] | None]] = {}

    def on_epoch_end(self):
        ctx = self.ctx
        weights = {k: v.detach().clone() for k, v in ctx.network.state_dict().items()}
        seen[ctx.epoch] = (weights, ctx.last_scores_valid)

    return torch_callback("epoch_probe", weight=500, on_epoch_end=on_epoch_end), seen


def _learner(folder, epochs=5, callbacks=(), resume=None, **checkpoint_args):
    checkpoint = t_clbk("checkpoint", path=str(folder), **checkpoint_args)
    # a large learning rate makes the validation scores go up and down
    return lrn("classif.mlp", epochs=epochs, batch_size=16, random_state=3, validate=0.3,
               measures_valid=["classif.acc"], callbacks=[*callbacks, checkpoint], resume=resume, **{"opt.lr": 0.05})


def _improving_epochs(seen, name, minimize):
    best, epochs = None, []
    for epoch, (_, scores) in sorted(seen.items()):
        score = scores[name]
        if best is None or (score < best if minimize else score > best):
            best, epochs = score, [*epochs, epoch]
    return epochs


def _assert_weights(network_state, expected):
    for name, value in expected.items():
        assert torch.equal(network_state[name], value), name


@pytest.mark.parametrize(("monitor", "mode", "minimize"), [
    ("loss", "auto", True), ("classif.acc", "auto", False), ("classif.acc", "min", True), ("loss", "max", False),
])
def test_save_best_only_writes_exactly_the_improving_epochs(tmp_path, monitor, mode, minimize):
    probe, seen = epoch_probe()
    learner = _learner(tmp_path, callbacks=[probe], save_best_only=True, monitor=monitor, mode=mode)
    learner.train(tsk("iris"))
    improving = _improving_epochs(seen, monitor, minimize)
    assert [e for e, _ in checkpoint_files(tmp_path)] == improving
    best = improving[-1]
    assert learner.model.callbacks["checkpoint"]["best_epoch"] == best
    assert learner.model.callbacks["checkpoint"]["best_score"] == seen[best][1][monitor]
    _assert_weights(read_checkpoint(tmp_path / f"checkpoint_{best:05d}.pt")["network"], seen[best][0])


def test_the_scores_go_up_and_down_so_best_and_last_differ(tmp_path):
    """The other tests mean something only if the best epoch is not simply the last."""
    probe, seen = epoch_probe()
    _learner(tmp_path, callbacks=[probe]).train(tsk("iris"))
    assert _improving_epochs(seen, "loss", True)[-1] < 5


def test_restore_best_gives_back_the_best_epochs_weights_and_scores(tmp_path):
    probe, seen = epoch_probe()
    learner = _learner(tmp_path, callbacks=[probe], restore_best=True, monitor="loss", keep_last=1)
    learner.train(tsk("iris"))
    best = _improving_epochs(seen, "loss", True)[-1]
    _assert_weights(learner.model.network.state_dict(), seen[best][0])
    assert learner.model.internal_valid_scores == seen[best][1]
    # keep_last=1 keeps the newest file, and the best one that restoring needs
    assert [e for e, _ in checkpoint_files(tmp_path)] == [best, 5]


def test_without_restore_best_the_last_epoch_is_kept(tmp_path):
    probe, seen = epoch_probe()
    learner = _learner(tmp_path, callbacks=[probe], save_best_only=True, monitor="loss")
    learner.train(tsk("iris"))
    _assert_weights(learner.model.network.state_dict(), seen[5][0])


def test_an_interrupted_best_only_run_resumes_to_the_same_model_and_files(tmp_path):
    def stop_at_3(self):
        if self.ctx.epoch == 3:
            self.ctx.terminate = True

    args = {"save_best_only": True, "restore_best": True, "monitor": "classif.acc"}
    straight = _learner(tmp_path / "straight", **args).train(tsk("iris"))
    stopper = torch_callback("stopper", on_epoch_end=stop_at_3)
    _learner(tmp_path / "run", callbacks=[stopper], **args).train(tsk("iris"))
    resumed = _learner(tmp_path / "run", resume=True, **args).train(tsk("iris"))
    assert [e for e, _ in checkpoint_files(tmp_path / "run")] == [e for e, _ in checkpoint_files(tmp_path / "straight")]
    _assert_weights(resumed.model.network.state_dict(), straight.model.network.state_dict())
    assert resumed.model.callbacks["checkpoint"] == {**straight.model.callbacks["checkpoint"],
                                                     "folder": str(tmp_path / "run")}


def test_unknown_monitor_is_an_error_naming_the_valid_scores(tmp_path):
    with pytest.raises(CallbackStageError, match="checkpoint") as info:
        _learner(tmp_path / "never", save_best_only=True, monitor="valid.auc").train(tsk("iris"))
    assert isinstance(info.value.__cause__, ParameterError)
    assert "monitor='valid.auc' is not a validation score; valid: 'loss', 'classif.acc'" in str(info.value.__cause__)
    assert not (tmp_path / "never").exists()


def test_best_only_needs_validation_data_but_plain_checkpoints_do_not(tmp_path):
    plain = lrn("classif.mlp", epochs=1, callbacks=[t_clbk("checkpoint", path=str(tmp_path / "a"), monitor="loss")])
    plain.train(tsk("iris"))
    best = lrn("classif.mlp", epochs=1, callbacks=[t_clbk("checkpoint", path=str(tmp_path / "b"), restore_best=True)])
    with pytest.raises(CallbackStageError, match="no validation data"):
        best.train(tsk("iris"))


def test_simulated_scores_decide_which_epochs_are_saved(tmp_path):
    scores = [{"loss": v} for v in (0.5, 0.3, 0.4, float("nan"), 0.2)]
    cb = simulate(t_clbk("checkpoint", path=str(tmp_path), save_best_only=True), epochs=5, scores=scores)
    assert [e for e, _ in checkpoint_files(tmp_path)] == [1, 2, 5]
    assert cb.state_dict()["best_epoch"] == 5 and cb.state_dict()["best_score"] == 0.2
    later = [None, {"loss": 0.9}, None]  # epochs without validation are never the best
    cb = simulate(t_clbk("checkpoint", path=str(tmp_path / "b"), save_best_only=True, mode="max"), epochs=3, scores=later)
    assert [e for e, _ in checkpoint_files(tmp_path / "b")] == [2]
