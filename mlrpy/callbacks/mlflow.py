"""``mlflow``: one MLflow run per training run, with the learner's parameters, the epoch scores
and the trained model."""

from __future__ import annotations

import copy
import math
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.dispatch import collect_states
from mlrpy.callbacks.registry import mlr_callbacks
from mlrpy.callbacks.running_mean import epoch_scores

__all__ = ["CallbackSetMLflow", "mlflow", "param_text"]

EXAMPLE = 't_clbk("mlflow", tracking_uri="sqlite:///mlflow.db", experiment="iris")'
#: the file name of the logged model, at the top of the run's artifacts
MODEL_FILE = "model.pt"
#: mlflow's limits: characters of a parameter value, and parameters per request
_MAX_VALUE, _PER_REQUEST = 6000, 100


def param_text(value: Any) -> str:
    """A parameter value as the text MLflow stores: plain values as they print, descriptors
    (optimizers, losses, callbacks, measures) by their id, classes and functions by name.

    Example:
        >>> from mlrpy import t_clbk
        >>> from mlrpy.callbacks.mlflow import param_text
        >>> param_text(["history", t_clbk("lr_step", step_size=2)]), param_text((64, 64))
        ('[history, lr_step]', '(64, 64)')
    """
    if isinstance(value, (str, bool, int, float)) or value is None:
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(param_text(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(param_text(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(getattr(value, "id", None), str):
        return str(value.id)
    if isinstance(getattr(value, "__qualname__", None), str):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}".lstrip(".")
    return str(value)


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _PER_REQUEST):
        yield items[start:start + _PER_REQUEST]


class CallbackSetMLflow(CallbackSet):
    """Tracks the training run in MLflow (``mlflow.MlflowClient``).

    When training starts it opens a run in ``experiment`` (created, with ``artifact_location``,
    if it does not exist; ``None`` is MLflow's default experiment) and logs every parameter of
    the learner, ``learner.get_params()``: the plain ones, ``opt.*``, ``loss.*`` and every
    ``cb.<id>.<param>``, as text (descriptors by their id, see :func:`param_text`). After
    each epoch it logs, at step = epoch, ``train.loss`` (the epoch's sample-weighted mean
    training loss), ``train.<measure>`` in evaluation epochs and ``valid.loss`` /
    ``valid.<measure>`` in epochs with validation. When training finishes it saves the
    trained learner with ``learner.save`` (the safe mlrpy format; load it with
    ``mlrpy.load``) and logs it as the artifact ``model.pt`` (``log_model=False`` skips
    it). It runs last (weight ``inf``), so the model it logs is the final one, after early
    stopping or weight averaging restored theirs.

    The run ends with status ``FINISHED``, or ``FAILED`` when training raised or was
    interrupted. ``tracking_uri=None`` uses MLflow's default (``MLFLOW_TRACKING_URI``,
    else ``sqlite:///mlflow.db`` in the working directory); a local database such as
    ``"sqlite:///runs/mlflow.db"`` needs no server. Each training run (also a warm start or
    resumed run, whose steps continue the epoch count) opens a new MLflow run. Driven by a
    hand-written loop without a learner (:class:`mlrpy.CallbackList`), it logs the metrics
    only.

    Needs the ``mlflow`` package (``pip install 'mlrpy[mlflow]'``, which installs
    ``mlflow-skinny``).

    Example:
        >>> import os, tempfile
        >>> from mlflow import MlflowClient
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     uri = "sqlite:///" + os.path.join(folder, "mlflow.db")
        ...     tracker = t_clbk("mlflow", tracking_uri=uri, experiment="iris",
        ...                      artifact_location=os.path.join(folder, "artifacts"))
        ...     _ = lrn("classif.mlp", epochs=2, random_state=0, callbacks=[tracker]).train(tsk("iris"))
        ...     client = MlflowClient(uri)
        ...     run = client.search_runs([client.get_experiment_by_name("iris").experiment_id])[0]
        ...     losses = client.get_metric_history(run.info.run_id, "train.loss")
        ...     run.info.status, run.data.params["epochs"], [m.step for m in losses]
        ('FINISHED', '2', [1, 2])
    """

    rank_zero_only: ClassVar[bool] = True  # writes or prints: once per run, on rank 0
    reads: ClassVar[tuple[str, ...]] = (
        "epoch", "last_scores_train", "last_scores_valid", "callbacks",
    )
    writes: ClassVar[tuple[str, ...]] = ()
    weight: ClassVar[float] = math.inf

    def __init__(
        self,
        tracking_uri: Annotated[
            str | None, Field(description="where MLflow stores runs (None: MLflow's default)")
        ] = None,
        experiment: Annotated[
            str | None, Field(min_length=1, description="the experiment's name (None: MLflow's default)")
        ] = None,
        run_name: Annotated[str | None, Field(description="the run's name (None: MLflow picks one)")] = None,
        log_model: Annotated[
            bool, Field(description="log the trained learner as the artifact model.pt")
        ] = True,
        artifact_location: Annotated[
            str | None,
            Field(description="where a newly created experiment stores artifacts (None: MLflow's default)"),
        ] = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.run_name = run_name
        self.log_model = log_model
        self.artifact_location = artifact_location
        self.client: Any = None
        self.run_id: str | None = None
        self._finished = False

    def on_begin(self) -> None:
        from mlflow import MlflowClient

        client = self.client = MlflowClient(self.tracking_uri)
        name = self.experiment or "Default"
        found = client.get_experiment_by_name(name)
        experiment_id = (
            found.experiment_id if found is not None
            else client.create_experiment(name, artifact_location=self.artifact_location)
        )
        self.run_id = client.create_run(experiment_id, run_name=self.run_name).info.run_id
        learner = self.ctx.learner
        if learner is not None:
            self._log_params(learner.get_params())

    def _log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        entries = [Param(str(k), param_text(v)[:_MAX_VALUE]) for k, v in params.items()]
        for chunk in _chunks(entries):
            self.client.log_batch(self.run_id, params=chunk)

    def on_epoch_end(self) -> None:
        from mlflow.entities import Metric

        ctx = self.ctx
        now = int(time.time() * 1000)
        values = epoch_scores(ctx)
        metrics = [Metric(key, float(value), now, ctx.epoch) for key, value in values.items()]
        for chunk in _chunks(metrics):
            self.client.log_batch(self.run_id, metrics=chunk)

    def on_end(self) -> None:
        learner = self.ctx.learner
        if self.log_model and learner is not None and self.ctx.snapshot_model is not None:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / MODEL_FILE
                self._trained(learner).save(path)
                self.client.log_artifact(self.run_id, str(path))
        self._finished = True

    def _trained(self, learner: Any) -> Any:
        """A shallow copy of ``learner`` holding the model as it stands now: ``fit`` gives the
        learner its new model only after the loop, and the learner must not change here."""
        ctx = self.ctx
        trained = copy.copy(learner)
        states = collect_states(ctx.callbacks)
        assert ctx.snapshot_model is not None
        trained.model_ = ctx.snapshot_model(states)
        return trained

    def on_exit(self) -> None:
        if self.client is not None and self.run_id is not None:
            self.client.set_terminated(self.run_id, status="FINISHED" if self._finished else "FAILED")
        self.client = None


mlflow = TorchCallback(
    "mlflow",
    CallbackSetMLflow,
    label="MLflow Tracking",
    packages=("mlrpy", "torch", "mlflow"),
    extra="mlflow",
    man=man_with_example(CallbackSetMLflow, EXAMPLE),
)
mlr_callbacks.add(mlflow)
