"""Vignette: tuning a callback parameter and the learning rate, then plotting the learning curve.

Callbacks in mlrpy are parameterised like everything else, so their parameters can be tuned:
here a small callback adds an L2 penalty ``alpha * sum(p**2)`` to the loss, and we tune
``cb.penalty.alpha`` together with the optimizer's learning rate ``opt.lr`` by grid search
with 3-fold cross-validation. A second run tunes the number of epochs *internally* by early
stopping (mlr3torch's ``to_tune(internal = TRUE)``). Then optuna searches the same space and
prunes poor trials through a callback (when optuna is installed: ``pip install
'mlrpy[optuna]'``), a benchmark puts the tuned network next to scikit-learn baselines, and
``auto_tuner`` estimates the whole procedure by nested resampling.

Run it as a script: ``python vignettes/tuning.py``. The learning-curve PNG goes to the
folder (or ``.png`` path) in the environment variable ``MLRPY_VIGNETTE_OUT``, else to a
temporary folder.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import pandas as pd
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlrpy import (
    as_task,
    auto_tuner,
    benchmark,
    benchmark_grid,
    lrn,
    plot_history,
    resample,
    rsmp,
    torch_callback,
    tsk,
    tune,
)


# -- 1. a callback with a tunable parameter --------------------------------------------------
def penalty_init(self, alpha: float = 0.0):
    self.alpha = alpha


def penalty_after_loss(self):
    # runs after the loss is computed and before backward(): replace ctx.loss
    squares = sum(p.pow(2).sum() for p in self.ctx.network.parameters())
    self.ctx.loss = self.ctx.loss + self.alpha * squares


penalty = torch_callback(
    "penalty",
    initialize=penalty_init,
    on_after_loss=penalty_after_loss,
    label="L2 penalty on the loss",
)


def output_path(name: str) -> Path:
    target = os.environ.get("MLRPY_VIGNETTE_OUT") or tempfile.mkdtemp(prefix="mlrpy_vignette_")
    path = Path(target)
    if path.suffix.lower() == ".png":
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    path.mkdir(parents=True, exist_ok=True)
    return path / name


def main() -> None:
    # -- 2. a task with standardised features (a manual pandas step) -------------------------
    iris = tsk("iris")
    df = iris.data()
    features = iris.feature_names
    df[features] = (df[features] - df[features].mean()) / df[features].std()
    task = as_task(df, target="class", id="iris_std")  # string labels: a classification task

    # -- 3. grid search over the callback parameter and the learning rate --------------------
    learner = lrn(
        "classif.mlp", epochs=15, batch_size=16, neurons=(16,), random_state=1,
        callbacks=[penalty],
    )
    cv3 = rsmp("cv", folds=3, seed=42)
    result = tune(
        learner, task, cv3, "classif.acc",
        search_space={"cb.penalty.alpha": [0.0, 1e-3, 1e-1], "opt.lr": (1e-3, 3e-2, "log")},
        tuner="grid_search", resolution=3,
    )
    with pd.option_context("display.width", 120):
        print("Archive (one row per configuration, with per-fold scores and runtime):")
        columns = ["cb.penalty.alpha", "opt.lr", "classif.acc", "scores", "runtime"]
        print(result.archive.sort_values("classif.acc", ascending=False)[columns].to_string(index=False))
    print("Best parameters:", result.best_params)
    print(f"Best cross-validated accuracy: {result.best_score:.3f}")

    # -- 4. the number of epochs, tuned internally by early stopping -------------------------
    es_learner = clone(learner).set_params(epochs=60, patience=3, **result.best_params)
    internal = tune(es_learner, task, cv3, "classif.acc", {"epochs": "internal"})
    print("Epochs found by early stopping (mean over folds, rounded up):",
          internal.best_params["epochs"])
    final = internal.best_learner()  # retrained on all rows, no early stopping
    print("Final model trained for", final.model.epochs, "epochs")

    # -- 5. the learning curve of the best configuration -------------------------------------
    curve = lrn(
        "classif.mlp", epochs=40, batch_size=16, neurons=(16,), random_state=1,
        callbacks=[penalty, "history"], validate=0.3,
        measures_train=["classif.acc"], measures_valid=["classif.acc"],
        **result.best_params,
    ).train(task)
    fig = plot_history(curve)
    path = output_path("tuning_learning_curve.png")
    fig.savefig(path, dpi=80)
    print("Saved the learning curve to", path)

    # -- 6. optuna: a sampler proposes, a pruner stops poor trials through a callback ---------
    if importlib.util.find_spec("optuna") is None:
        print("optuna is not installed; skipping the optuna search")
    else:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        found = tune(
            learner, task, cv3, "classif.acc",
            {"cb.penalty.alpha": (1e-4, 1e-1, "log"), "opt.lr": (1e-3, 3e-2, "log")},
            tuner="optuna", n_trials=8, random_state=1,
            pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=5),
        )
        print(f"optuna: {int(found.archive['pruned'].sum())} of 8 trials pruned; "
              f"best accuracy {found.best_score:.3f} with {found.best_params}")

    # -- 7. the tuned network next to scikit-learn baselines, on the same splits -------------
    tuned = clone(learner).set_params(**result.best_params)
    tuned.id = "mlp.tuned"
    design = benchmark_grid(
        task, [tuned, DummyClassifier(), make_pipeline(StandardScaler(), LogisticRegression())], cv3
    )
    print(benchmark(design).aggregate(["classif.acc"])[["learner_id", "classif.acc"]].to_string(index=False))

    # -- 8. nested resampling: how good is "tune, then train", on rows tuning never saw ------
    at = auto_tuner(learner, {"opt.lr": [3e-3, 3e-2]}, rsmp("holdout", seed=3), "classif.acc")
    nested = resample(task, at, rsmp("cv", folds=3, seed=7))
    accuracy = nested.aggregate("classif.acc")["classif.acc"]
    print(f"Nested cross-validated accuracy of the auto tuner: {accuracy:.3f}")


if __name__ == "__main__":
    main()
