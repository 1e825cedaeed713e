"""Custom Callbacks: mlr3torch's "Custom Callbacks" vignette, ported to mlrpy.

Run it as a script (``python vignettes/callbacks.py``) or cell by cell in an editor that
understands ``# %%`` cells. It trains a handful of tiny networks on the iris data and takes a
few seconds on a CPU.

The callback mechanism lets you customise the training loop of a neural network. mlrpy ships
predefined callbacks for common needs (``history``, ``progress``, ...); this tutorial shows how
to write your own, how to parameterise it, and how its parameters become hyperparameters of
the learner that scikit-learn can tune like any other.
"""

# %% [markdown]
# ## Building blocks
#
# At the heart of the callback mechanism are three objects (the same split as in mlr3torch):
#
# * ``CallbackSet`` holds the *behaviour*: methods named after the stages of the training loop
#   (``on_epoch_end()``, ...), plus optional ``state_dict()`` / ``load_state_dict()``. A fresh
#   instance is created for every training run.
# * ``TorchCallback`` wraps a ``CallbackSet`` class and annotates it with meta information:
#   an ``id``, a ``label``, the packages it needs and -- most importantly -- a parameter set
#   (a pydantic model) describing the arguments of the ``CallbackSet``'s constructor.
# * ``ContextTorch`` is the shared state of one run (network, optimizer, current epoch, last
#   loss, ...). Inside a stage method it is available as ``self.ctx``.
#
# When using predefined callbacks you usually only touch ``TorchCallback`` objects, which you
# get from the registry with ``t_clbk(<id>)``:

# %%
import mlrpy
from mlrpy import CallbackSet, ContextTorch, TorchCallback, lrn, mlr_callbacks, t_clbk, torch_callback, tsk

tc_hist = t_clbk("history")
print(tc_hist)
assert isinstance(tc_hist, TorchCallback) and tc_hist.id == "history"

# %% [markdown]
# The wrapped ``CallbackSet`` class is the ``generator``; ``generate()`` builds a new instance
# from the current parameter values (the learner does this at the start of every run).

# %%
cbs_hist = tc_hist.generate()
print(cbs_hist, "implements", type(cbs_hist).stages())
assert isinstance(cbs_hist, CallbackSet) and isinstance(cbs_hist, tc_hist.generator)

# %% [markdown]
# Within the training loop there are several *stages* at which a callback can run code. They
# are listed, in the order in which they first fire, in ``mlrpy.STAGES``; mlr3torch's twelve
# plus luz's ``on_after_forward`` and ``on_after_loss``. Prediction has its own stages.

# %%
print("Training stages:  ", ", ".join(mlrpy.STAGES))
print("Prediction stages:", ", ".join(mlrpy.PREDICT_STAGES))
assert mlrpy.STAGES[0] == "on_begin" and mlrpy.STAGES[-1] == "on_exit"

# %% [markdown]
# When a learner has several callbacks, they are called within a stage in the order in which
# they were passed, stably re-sorted by their ``weight`` (default 0, higher runs later).
#
# The history callback runs code at the beginning of an epoch, after every batch and at the
# end of the epoch:

# %%
print("history stages:", tc_hist.stages)
assert "on_epoch_end" in tc_hist.stages

# %% [markdown]
# ``ContextTorch`` is what a stage method sees as ``self.ctx``. Outside a run it is ``None``;
# during a run it holds, among others, ``epoch``, ``step``, ``global_step``, ``batch``,
# ``y_hat``, ``loss`` (the current batch's loss tensor), ``last_loss`` (a float),
# ``network``, ``optimizer`` and ``terminate`` (set it to stop training after this epoch).

# %%
print(ContextTorch(total_epochs=5))

# %% [markdown]
# ## Writing a custom logger
#
# We define a callback that keeps an exponential moving average (EMA) of the training loss
# and prints it once per epoch. It takes one argument, the smoothing parameter ``alpha``,
# which can later be configured on the learner.
#
# * ``initialize`` becomes the ``CallbackSet``'s ``__init__``. Its signature *is* the
#   parameter set: ``alpha: float = 0.1`` gives a float parameter with default 0.1.
# * ``on_batch_end`` runs after the optimizer step of every mini-batch. It reads the batch's
#   loss from ``self.ctx.last_loss`` and updates the moving average.
# * ``on_before_valid`` runs once per epoch, before validation (whether or not there is
#   validation data); here we print the moving average.
# * ``state_dict`` / ``load_state_dict`` make the final value available on the learner after
#   training (``learner.model.callbacks["custom_logger"]``). We only need them for that.


# %%
def init_fn(self, alpha: float = 0.1):
    self.alpha = alpha
    self.moving_training_loss = None


def batch_end_fn(self):
    loss = self.ctx.last_loss
    if self.moving_training_loss is None:
        self.moving_training_loss = loss
    else:
        self.moving_training_loss = self.alpha * loss + (1 - self.alpha) * self.moving_training_loss


def before_valid_fn(self):
    print(f"Epoch {self.ctx.epoch}: {self.moving_training_loss:.2f}")


def state_dict_fn(self):
    return self.moving_training_loss


def load_state_dict_fn(self, state_dict):
    self.moving_training_loss = state_dict


custom_logger = torch_callback(
    "custom_logger",
    initialize=init_fn,
    on_batch_end=batch_end_fn,
    on_before_valid=before_valid_fn,
    state_dict=state_dict_fn,
    load_state_dict=load_state_dict_fn,
)

# %% [markdown]
# This created a ``TorchCallback`` and, behind it, a ``CallbackSet`` subclass. It prints like
# its mlr3torch counterpart:

# %%
print(custom_logger)
print(custom_logger.generator, "implements", custom_logger.stages)
assert custom_logger.id == "custom_logger"
assert custom_logger.generator.__name__ == "CallbackSetCustomLogger"
assert custom_logger.stages == ["on_batch_end", "on_before_valid"]

# %% [markdown]
# The parameter set was inferred from ``init_fn``'s signature. ``param_set`` is a pydantic
# model class, ``param_values`` holds the values set explicitly (none yet), and
# ``get_values()`` fills in the defaults. Values are validated as soon as they are set.

# %%
print(custom_logger.param_set.model_fields)
print("param_values:", custom_logger.param_values, "| get_values():", custom_logger.get_values())
print(custom_logger.param_frame().to_string(index=False))
assert custom_logger.param_values == {}
assert custom_logger.get_values() == {"alpha": 0.1}

try:
    custom_logger.clone().set_values(alpha="a lot")
except mlrpy.ParameterError as err:
    print("Rejected:", err)
else:
    raise AssertionError("an invalid alpha must be rejected")

# %% [markdown]
# ## Using the custom logger
#
# We train a small multi-layer perceptron on iris and pass it the callback. The callback's
# parameters appear on the learner as ``cb.<callback id>.<parameter>``; we set the smoothing
# parameter ``alpha`` to 0.05. (The iris features are not scaled; the network copes.)

# %%
task = tsk("iris")
mlp = lrn(
    "classif.mlp",
    epochs=5,
    batch_size=64,
    neurons=20,
    random_state=1,
    callbacks=[custom_logger],
    **{"cb.custom_logger.alpha": 0.05},
)
mlp.train(task)

# %% [markdown]
# What ``state_dict()`` returned at the end of training is stored in the learner's model:

# %%
final_ema = mlp.model.callbacks["custom_logger"]
print("final moving training loss:", final_ema)
assert isinstance(final_ema, float) and final_ema > 0

# %% [markdown]
# ``cb.custom_logger.alpha`` is a hyperparameter of the learner like ``epochs`` or ``opt.lr``:
# ``get_params()`` lists it, and ``set_params()`` changes it.

# %%
params = mlp.get_params()
print({k: v for k, v in params.items() if k.startswith(("cb.", "opt.lr", "epochs"))})
assert params["cb.custom_logger.alpha"] == 0.05

mlp.set_params(**{"cb.custom_logger.alpha": 0.5})
assert mlp.get_params()["cb.custom_logger.alpha"] == 0.5

# %% [markdown]
# Setting a callback parameter on the learner copies the ``TorchCallback``: the object we
# defined above is untouched and can be reused with other learners.

# %%
print("custom_logger still has:", custom_logger.get_values())
assert custom_logger.param_values == {}
assert mlp.callbacks[0] is not custom_logger

# %% [markdown]
# ## The same callback as a class
#
# ``torch_callback`` also works as a decorator over a ``CallbackSet`` subclass. The
# constructor's signature is the parameter set, and the decorated name refers to the
# resulting ``TorchCallback`` (the class itself is its ``generator``).


# %%
@torch_callback("custom_logger2", label="Custom Logger (class form)")
class CallbackSetCustomLogger2(CallbackSet):
    """Prints an exponential moving average of the training loss once per epoch."""

    def __init__(self, alpha: float = 0.1):
        self.alpha = alpha
        self.moving_training_loss = None

    def on_batch_end(self):
        loss = self.ctx.last_loss
        if self.moving_training_loss is None:
            self.moving_training_loss = loss
        else:
            self.moving_training_loss = self.alpha * loss + (1 - self.alpha) * self.moving_training_loss

    def on_before_valid(self):
        print(f"Epoch {self.ctx.epoch}: {self.moving_training_loss:.2f}")

    def state_dict(self):
        return self.moving_training_loss

    def load_state_dict(self, state_dict):
        self.moving_training_loss = state_dict


print(CallbackSetCustomLogger2)
assert isinstance(CallbackSetCustomLogger2, TorchCallback)
assert CallbackSetCustomLogger2.id == "custom_logger2"
assert CallbackSetCustomLogger2.get_values() == {"alpha": 0.1}

# %% [markdown]
# With the same seed and settings, both forms do exactly the same:

# %%
mlp2 = lrn(
    "classif.mlp",
    epochs=5,
    batch_size=64,
    neurons=20,
    random_state=1,
    callbacks=[CallbackSetCustomLogger2],
    **{"cb.custom_logger2.alpha": 0.05},
)
mlp2.train(task)
assert abs(mlp2.model.callbacks["custom_logger2"] - final_ema) < 1e-9

# %% [markdown]
# ## More examples
#
# ### Print every iteration (luz style)
#
# luz's introductory callback prints the loss after every iteration. ``ctx.global_step``
# counts batches over the whole run (``ctx.step`` restarts every epoch). With 150 rows and a
# batch size of 50 one epoch has three iterations.


# %%
def print_iteration(self):
    print(f"Iteration {self.ctx.global_step}: loss {self.ctx.last_loss:.4f}")


print_every_iter = torch_callback("print_every_iter", on_batch_end=print_iteration)
lrn("classif.mlp", epochs=1, batch_size=50, random_state=1, callbacks=[print_every_iter]).train(task)

# %% [markdown]
# ### Mark training as finished (Keras style)
#
# A callback that runs once, when training ends (``on_end`` fires after the last epoch; use
# ``on_exit`` for code that must also run after an error). Its state tells us afterwards that
# the run completed.


# %%
@torch_callback("mark_finished")
class CallbackSetMarkFinished(CallbackSet):
    """Sets a flag when training ends."""

    def __init__(self):
        self.finished = False

    def on_end(self):
        self.finished = True
        print("Training finished!")

    def state_dict(self):
        return {"finished": self.finished}

    def load_state_dict(self, state_dict):
        self.finished = state_dict["finished"]


learner = lrn("classif.mlp", epochs=2, random_state=1, callbacks=[CallbackSetMarkFinished, "history"])
learner.train(task)
print(learner.model.callbacks["mark_finished"])
assert learner.model.callbacks["mark_finished"] == {"finished": True}
assert learner.model.callbacks["history"]["epoch"].tolist() == [1, 2]

# %% [markdown]
# ## Registering a callback
#
# Adding a callback to the registry ``mlr_callbacks`` makes it available by its id, exactly
# like the built-ins: ``t_clbk()`` returns a fresh copy (keywords set its parameters), and
# learners accept the id in their ``callbacks`` list.

# %%
mlr_callbacks.add(custom_logger)
tc = t_clbk("custom_logger", alpha=0.2)
print(tc)
assert tc is not custom_logger and tc.get_values() == {"alpha": 0.2}
assert custom_logger.param_values == {}

print(mlr_callbacks.as_frame()[["key", "label", "stages", "parameters"]].to_string(index=False))
assert "custom_logger" in mlr_callbacks.as_frame()["key"].tolist()

lrn("classif.mlp", epochs=2, random_state=1, callbacks=["custom_logger"]).train(task)

# %% [markdown]
# ## Tuning a callback parameter
#
# Because callback parameters are ordinary (dotted) hyperparameters of the learner, every
# scikit-learn tool that routes parameters can use them: ``clone``, ``Pipeline`` (as
# ``"<step>__cb.custom_logger.alpha"``), ``GridSearchCV``, ``cross_validate``, ... Here a tiny
# grid search over ``alpha`` (it does not change the fit, but shows the routing). Every fit
# gets a fresh copy of the callback with the candidate value, and prints its own EMA lines.

# %%
from sklearn.model_selection import GridSearchCV

X = task.data(cols=task.feature_names)
y = task.truth()
search = GridSearchCV(
    lrn(
        "classif.mlp", epochs=2, batch_size=16, random_state=1, callbacks=[custom_logger], **{"opt.lr": 0.01}
    ),
    param_grid={"cb.custom_logger.alpha": [0.05, 0.5]},
    cv=2,
)
search.fit(X, y)
print("best:", search.best_params_, "cv accuracy:", round(search.best_score_, 3))
assert list(search.best_params_) == ["cb.custom_logger.alpha"]
assert search.best_params_["cb.custom_logger.alpha"] in (0.05, 0.5)
assert (
    search.best_estimator_.get_params()["cb.custom_logger.alpha"]
    == search.best_params_["cb.custom_logger.alpha"]
)
# the grid search worked on copies; our own object is unchanged
assert custom_logger.param_values == {}

# %% [markdown]
# Tidy up the registry (only needed because this script might be run in a shared session).

# %%
mlr_callbacks.remove("custom_logger")
assert "custom_logger" not in mlr_callbacks
print("Done.")
