"""A hand-written PyTorch loop driven by mlrpy callbacks, through a ``CallbackList``.

Run it as a script (``python vignettes/custom_loop.py``); it trains a tiny regression network
for a few epochs on a CPU in about a second.

A learner runs mlrpy's own loop. When you need a loop of your own (an unusual batch
structure, two optimizers, a research prototype), you keep the callbacks: a
``CallbackList`` builds them exactly as a learner does (fresh instances, sorted by weight),
owns the ``ContextTorch`` they read and write as ``cl.ctx``, and calls a stage with
``cl.on_<stage>()``. Your loop fills the context fields the callbacks read -- each built-in
lists them (``CallbackSetHistory.reads``) and ``CallbackList`` names a field you forgot.
"""

# %%
import os
import tempfile
from pathlib import Path

import torch

from mlrpy import Batch, CallbackList, t_clbk

OUT = Path(os.environ.get("MLRPY_VIGNETTE_OUT") or tempfile.mkdtemp())

torch.manual_seed(0)
X = torch.randn(256, 4)
y = X @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]]) + 0.1 * torch.randn(256, 1)
X_train, y_train, X_valid, y_valid = X[:192], y[:192], X[192:], y[192:]


def batches(x: torch.Tensor, target: torch.Tensor, size: int = 32):
    for start in range(0, len(x), size):
        index = torch.arange(start, min(start + size, len(x)))
        yield Batch(x[index], target[index], index)


# %% [markdown]
# ## The loop
#
# Every stage is called where the learner's loop calls it (see ``docs/design.md``); the loop
# sets ``ctx.epoch``, ``ctx.batch``, ``ctx.loss``, ``ctx.last_loss`` and
# ``ctx.last_scores_valid``, and honours ``ctx.terminate`` (early stopping) and
# ``ctx.stop_epoch``. ``cl.restore(folder)`` continues from the newest checkpoint.


# %%
def fit(folder: Path, epochs: int, patience: int = 3) -> CallbackList:
    network = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    optimizer = torch.optim.Adam(network.parameters(), lr=0.05)
    loss_fn = torch.nn.MSELoss()
    callbacks = [
        "history",
        t_clbk("progress", digits=4),
        t_clbk("early_stopping", patience=patience),
        t_clbk("checkpoint", path=str(folder)),
    ]
    cl = CallbackList(callbacks, network=network, optimizer=optimizer, loss_fn=loss_fn,
                      total_epochs=epochs, loader_train=list(batches(X_train, y_train)),
                      loader_valid=list(batches(X_valid, y_valid)))
    ctx = cl.ctx
    with cl:  # on_exit runs on the way out, also after an error
        if cl.restore(folder):
            print(f"Resuming after epoch {ctx.epoch}")
        cl.on_begin()
        while not ctx.terminate and ctx.epoch < ctx.total_epochs:
            ctx.epoch += 1
            ctx.stop_epoch = False
            cl.on_epoch_begin()
            network.train()
            for step, batch in enumerate(ctx.loader_train, start=1):
                ctx.step = step
                ctx.global_step += 1
                ctx.batch = batch
                optimizer.zero_grad()
                cl.on_batch_begin()
                ctx.y_hat = network(batch.x)
                ctx.loss = loss_fn(ctx.y_hat, batch.y)
                cl.on_after_loss()
                ctx.loss.backward()
                optimizer.step()
                ctx.last_loss = ctx.loss.detach()
                cl.on_batch_end()
                if ctx.stop_epoch:
                    break
            cl.on_before_valid()
            network.eval()
            cl.on_valid_begin()
            with torch.no_grad():
                total = 0.0
                for batch in ctx.loader_valid:
                    ctx.batch = batch
                    cl.on_batch_valid_begin()
                    ctx.y_hat = network(batch.x)
                    ctx.loss = loss_fn(ctx.y_hat, batch.y)
                    cl.on_batch_valid_end()
                    total += float(ctx.loss) * len(batch.index)
            ctx.last_scores_valid = {"loss": total / len(X_valid)}
            cl.on_valid_end()
            cl.on_epoch_end()
        cl.on_end()
    return cl


# %% [markdown]
# A first run of 3 epochs writes a checkpoint after each; a second run of up to 40 epochs
# resumes from the newest one, and early stopping ends it when the validation loss stops
# improving for ``patience`` epochs.

# %%
folder = OUT / "custom_loop_checkpoints"
first = fit(folder, epochs=3)
assert first.state_dicts()["history"]["epoch"].tolist() == [1, 2, 3]

second = fit(folder, epochs=40)
states = second.state_dicts()
history = states["history"]
print("epochs trained:", history["epoch"].tolist())
print("best epoch:", states["early_stopping"]["best_epoch"])
assert history["epoch"].tolist() == list(range(1, second.ctx.epoch + 1))  # continued after the resume
assert second.ctx.epoch < 40 and second.ctx.epoch == states["early_stopping"]["best_epoch"] + 3

# %% [markdown]
# ## A forgotten field
#
# A loop that never sets a field a callback reads gets an error naming both, at the first
# stage that needs it, instead of a confusing failure inside the callback:

# %%
cl = CallbackList(["history"], total_epochs=1)
cl.ctx.epoch = 1
cl.on_epoch_begin()
try:
    cl.on_batch_end()
except Exception as err:  # ParameterError
    print(type(err).__name__ + ":", err)
