"""The stages of a run: their names, their order, and what each one is for.

A callback hooks into the training loop by defining ``on_<stage>()`` methods. This module is
the single source for the names (``STAGES``, ``PREDICT_STAGES``) and for the description of
each stage (``STAGE_DOCS``): when it fires, what ``self.ctx`` holds at that moment, and what a
callback may change there. ``docs/design.md`` draws the same loop as a diagram, and
``learner.show_training_loop()`` lists the stages in this order.

Two facts hold for every stage below:

- a stage method takes no arguments besides ``self`` and its return value is ignored; it reads
  and writes ``self.ctx`` (a ``ContextTorch``);
- the loop binds ``ctx.network`` and ``ctx.loss_fn`` once, before ``on_begin``: a callback may
  change the network in place (weights, ``requires_grad``, hooks) but assigning another
  object to ``ctx.network`` or ``ctx.loss_fn`` does not change what the loop calls. The
  optimizer, by contrast, is looked up in ``ctx`` at every batch, so a callback may wrap or
  replace ``ctx.optimizer``.

Example:
    >>> from mlrpy.callbacks import STAGE_DOCS, STAGES
    >>> STAGES.index("on_after_loss") < STAGES.index("on_after_backward")
    True
    >>> STAGE_DOCS["on_after_backward"].startswith("Fires after loss.backward()")
    True
"""

from __future__ import annotations

__all__ = ["ALL_STAGES", "EVALUATE_STAGES", "PREDICT_STAGES", "STAGES", "STAGE_DOCS"]

#: Training stages, in the order they first fire in a run (``on_exit`` always fires last).
STAGES: tuple[str, ...] = (
    "on_begin",
    "on_epoch_begin",
    "on_batch_begin",
    "on_after_forward",
    "on_after_loss",
    "on_after_backward",
    "on_batch_end",
    "on_before_valid",
    "on_valid_begin",
    "on_batch_valid_begin",
    "on_batch_valid_end",
    "on_valid_end",
    "on_epoch_end",
    "on_end",
    "on_exit",
)

#: The validation stages, in firing order: called in training's evaluation epochs and by
#: ``learner.evaluate()`` (with ``ctx.phase == "evaluate"``).
EVALUATE_STAGES: tuple[str, ...] = (
    "on_valid_begin",
    "on_batch_valid_begin",
    "on_batch_valid_end",
    "on_valid_end",
)

#: Prediction stages (``predict``, ``predict_proba``, ``Learner.predict(task)``), in firing order.
PREDICT_STAGES: tuple[str, ...] = (
    "on_predict_begin",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_predict_end",
)

#: Every stage a ``CallbackSet`` may define.
ALL_STAGES: tuple[str, ...] = STAGES + PREDICT_STAGES

#: Stage name -> what it is for: when it fires, what ``ctx`` holds then, what may be changed.
#: Keys are exactly ``ALL_STAGES``, in the same order.
STAGE_DOCS: dict[str, str] = {
    # -- once per run, before the first epoch ----------------------------------------------------
    "on_begin": (
        "Fires once per run, before the first epoch. The callbacks are sorted by weight "
        "(ctx.callbacks), ctx.epoch and ctx.global_step are 0, and a warm start or resume has "
        "already loaded the network, the optimizer, the loop counters and every callback's "
        "saved state (so ctx.epoch is then the epoch the run continues from). ctx holds the "
        "network, optimizer, loss_fn, loaders, total_epochs, eval_freq, device and seed. "
        "Open files, build schedulers around ctx.optimizer, freeze layers; setting "
        "ctx.terminate = True here trains zero epochs."
    ),
    # -- every epoch -----------------------------------------------------------------------------
    "on_epoch_begin": (
        "Fires at the start of every epoch, right after ctx.epoch was incremented (epochs "
        "count from 1). ctx.step still holds the previous epoch's batch count; the loop resets "
        "it and puts the network in training mode after this stage, so a mode switch made "
        "here does not last. Change learning rates, unfreeze layers, reset per-epoch "
        "accumulators. ctx.stop_epoch was reset to False just before. ctx.terminate set here "
        "lets the current epoch finish first."
    ),
    # -- every training batch --------------------------------------------------------------------
    "on_batch_begin": (
        "Fires for every training batch, after ctx.step and ctx.global_step were incremented, "
        "ctx.batch was set (x, y, index: the batch's row positions) and the gradients were "
        "zeroed, before the forward pass. The loop uses this same Batch object, so a callback "
        "may replace its tensors (ctx.batch.x = ..., ctx.batch.y = ...) for augmentation; "
        "binding a new Batch to ctx.batch is not seen by the loop. Enter autocast or similar "
        "per-batch contexts here."
    ),
    "on_after_forward": (
        "Fires after the forward pass: ctx.y_hat holds the network's output for ctx.batch.x, "
        "still attached to the autograd graph. The loss is computed from ctx.y_hat after this "
        "stage, so a callback may replace or transform it (or read activations it hooked)."
    ),
    "on_after_loss": (
        "Fires after the loss: ctx.loss is this batch's loss tensor, not yet backpropagated. "
        "backward() is called on ctx.loss after this stage, so a callback may replace it: add a "
        "penalty, scale it for gradient accumulation or a gradient scaler, or check it for "
        "NaN."
    ),
    "on_after_backward": (
        "Fires after loss.backward(), before the optimizer step: every parameter's .grad is "
        "filled. ctx.last_loss still holds the previous batch's loss. Clip, inspect or rescale "
        "gradients here."
    ),
    "on_batch_end": (
        "Fires after the optimizer step: the weights are updated and ctx.last_loss is this "
        "batch's training loss (a float when read; reading it may wait for the device, so "
        "read it only when needed). Step per-batch learning-rate schedules, update moving "
        "averages of the weights, log the loss. ctx.stop_epoch = True (set here or in an "
        "earlier stage of this batch) ends the epoch's batch loop after this batch; "
        "validation and on_epoch_end still run, and with ctx.terminate the run then ends."
    ),
    # -- every epoch, after training --------------------------------------------------------------
    "on_before_valid": (
        "Fires every epoch after the last training batch, whether or not validation runs. "
        "ctx.last_scores_train holds this epoch's training scores ({measure id: score}) in "
        "evaluation epochs when measures_train is set, else None. The network is still in "
        "training mode. Step per-epoch learning-rate schedules here, or swap in weights to "
        "validate with (e.g. a moving average)."
    ),
    "on_valid_begin": (
        "Fires once before the first validation batch, only when validation runs: in "
        "training after on_before_valid in evaluation epochs with validation data (the "
        "network is already in eval mode), and in learner.evaluate() (ctx.phase == "
        "'evaluate', on fresh instances with their saved state loaded; ctx.loader_valid is "
        "the data evaluated). Reset per-validation accumulators here."
    ),
    "on_batch_valid_begin": (
        "Fires for every validation batch (only in evaluation epochs with validation data), "
        "with the network in eval mode and ctx.batch set, before the forward pass, which runs "
        "without gradients. ctx.step and ctx.global_step are not advanced by validation. As "
        "in on_batch_begin, a callback may replace the batch's tensors."
    ),
    "on_batch_valid_end": (
        "Fires after each validation forward pass: ctx.y_hat is the batch's output (no "
        "autograd graph) and ctx.loss the batch's loss tensor. The loop collects ctx.y_hat "
        "after this stage for the validation scores, so a callback may transform it."
    ),
    "on_valid_end": (
        "Fires once after the last validation batch (of an evaluation epoch, or of evaluate()): "
        "ctx.last_scores_valid holds {'loss': mean validation loss, measure id: score, ...}. "
        "Read the scores to decide on early stopping, to remember the best epoch, or to reduce "
        "the learning rate on a plateau."
    ),
    "on_epoch_end": (
        "Fires last in every epoch. ctx.last_scores_valid is None when validation did not run "
        "this epoch. Record the epoch's history, save checkpoints, decide to stop "
        "(ctx.terminate = True ends the run before the next epoch). A callback whose state "
        "changes here must run before the checkpoint callback (a lower weight), or its "
        "checkpointed state would be one epoch old."
    ),
    # -- once per run, after the last epoch -------------------------------------------------------
    "on_end": (
        "Fires once when training finished without an error, also after ctx.terminate "
        "stopped it early; ctx.epoch is the number of epochs trained. Restore the best weights "
        "(in place), write final files. Right after it, every callback's state_dict() is "
        "collected into model.callbacks[id]."
    ),
    "on_exit": (
        "Always fires last, also after an error or a KeyboardInterrupt, so on_begin may not "
        "have run and the run may have failed. Every callback's on_exit runs even if another's "
        "raises. Release resources: close files and progress bars, undo global changes. "
        "Afterwards ctx is set to None on every callback."
    ),
    # -- prediction -------------------------------------------------------------------------------
    "on_predict_begin": (
        "Fires once per prediction call on fresh instances of the callbacks that define a "
        "prediction stage, with their saved state (model.callbacks[id]) loaded. ctx is a new "
        "context holding learner, network (in eval mode), device and loader_predict; the "
        "training fields are empty."
    ),
    "on_predict_batch_begin": (
        "Fires for every prediction batch before the forward pass (which runs without "
        "gradients); ctx.batch holds x and index, with y None. A callback may replace the "
        "batch's tensors."
    ),
    "on_predict_batch_end": (
        "Fires after each prediction forward pass: ctx.y_hat is the batch's raw network output "
        "(logits for classification). It is collected after this stage, so a callback may "
        "transform it."
    ),
    "on_predict_end": (
        "Fires once after the last batch: ctx.prediction holds all raw outputs, concatenated. "
        "What ctx.prediction holds after this stage is what the learner turns into "
        "predictions, so a callback may replace it."
    ),
}
