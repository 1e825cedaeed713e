"""``LearnerTorch``: one object that is both an mlr3-style learner and a scikit-learn estimator.

scikit-learn conventions hold throughout: constructor parameters are stored untouched and
validated in ``fit``; everything learned lives in attributes ending in ``_``. ``fit`` is a
recipe of four named steps (prepare the data, build the run, run the loop, finish the model),
and a fit that fails leaves the learner as it was.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from mlrpy.callbacks import as_torch_callbacks
from mlrpy.callbacks.base import PREDICT_STAGES, CallbackSet
from mlrpy.callbacks.context import ContextTorch
from mlrpy.callbacks.stages import EVALUATE_STAGES
from mlrpy.errors import DataError, DivergenceError, NotFittedError, ParameterError
from mlrpy.learners.constraints import check_constraints
from mlrpy.learners.fit import Fitting
from mlrpy.learners.internal_callbacks import internal_callbacks, print_training_loop
from mlrpy.learners.loaders import is_dataset, make_loader, predict_batch_size
from mlrpy.learners.loop import evaluate_loop, predict_loop
from mlrpy.learners.lr_find import lr_find
from mlrpy.learners.model import TorchModel
from mlrpy.learners.runtime import torch_threads
from mlrpy.learners.sources import input_kind, model_inputs
from mlrpy.learners.tabular import TABULAR_FEATURE_TYPES
from mlrpy.learners.torch_objects import as_torch_loss
from mlrpy.prediction import Prediction, with_task_info

__all__ = ["LearnerTorch"]


class LearnerTorch(Fitting):
    """Base of every torch learner.

    Plain parameters are constructor arguments (listed in each learner's docstring); deep
    parameters are addressed with dotted names: ``opt.<p>``, ``loss.<p>``,
    ``cb.<callback id>.<p>`` (and ``module.<arg>`` for module learners).

    Inheriting:
        A learner family subclasses ``LearnerTorch`` and is combined with a task type,
        :class:`~mlrpy.learners.classif.LearnerTorchClassif` or
        :class:`~mlrpy.learners.regr.LearnerTorchRegr`, which must come first in the bases
        (``class MyClassif(LearnerTorchClassif, MyFamily)``). The family defines:

        - ``__init__(self, *, <architecture parameters>, <the shared parameters>)`` that only
          calls ``store_params(self, locals())`` (scikit-learn reads names and defaults from
          the signature);
        - ``_parameter_constraints``: ``{**SHARED_CONSTRAINTS, "<param>": Interval(...), ...}``
          from :mod:`mlrpy.learners.constraints`, used by ``fit``, ``param_set`` and
          ``to_tune()``;
        - ``_build_network(self, n_features: int, n_outputs: int) -> torch.nn.Module``, called
          once per fit with the training data's width and the task type's output count;
        - optionally ``_init_network(self, network, y_train: torch.Tensor) -> None``, called
          right after ``_build_network`` (not when ``warm_start`` continues a model) with the
          encoded training target (class codes, or a float column for regression), to start
          from weights that depend on the data, e.g. an output bias at the target's mean;
          the default does nothing;
        - ``_key: ClassVar[str]``, the registry key, on each concrete class, and a call
          ``mlr_learners.add(_key, factory)`` in its module (see
          :func:`mlrpy.learners.registry.register_learner`);
        - optionally ``feature_types: ClassVar[tuple[str, ...]]``, the column types it
          accepts (see below), if fewer than all;
        - optionally ``accepts_tensors: ClassVar[bool] = True`` when its network takes N-D
          arrays and dicts of inputs (see :mod:`mlrpy.learners.sources`).

        The task-type classes provide ``task_type``, ``_default_loss``, ``_predict_types``
        and the hooks ``_encode_target(y, fit) -> Tensor``, ``_n_outputs() -> int``,
        ``_decode_target(Tensor) -> ndarray``, ``_decode_response(Tensor) -> ndarray`` and
        ``_make_prediction(rows, truth, output, with_prob=False) -> Prediction``. A missing
        piece raises :class:`ExtensionError` naming it.

    Example:
        >>> import torch
        >>> from mlrpy.learners import LearnerTorchClassif, LearnerTorch, SHARED_CONSTRAINTS
        >>> from mlrpy.learners.common import store_params
        >>> class Linear(LearnerTorch):
        ...     _parameter_constraints = SHARED_CONSTRAINTS
        ...     def __init__(self, *, epochs=5, batch_size=16, optimizer="adam", loss=None,
        ...                  callbacks=None, device="cpu", num_threads=1, random_state=None,
        ...                  shuffle=True, eval_freq=1, predict_type="response",
        ...                  validate=None, measures_train=None, measures_valid=None,
        ...                  patience=0, min_delta=0.0, restore_best_weights=False,
        ...                  warm_start=False, resume=None, on_nonfinite="raise",
        ...                  num_workers=0, pin_memory=False, drop_last=False,
        ...                  batch_size_predict=None):
        ...         store_params(self, locals())
        ...     def _build_network(self, n_features, n_outputs):
        ...         return torch.nn.Linear(n_features, n_outputs)
        >>> class LinearClassif(LearnerTorchClassif, Linear):
        ...     _key = "classif.linear_demo"
        >>> from mlrpy import tsk
        >>> LinearClassif(random_state=0).train(tsk("iris")).model.epochs
        5
    """

    #: The feature types (mlr3's names, see :mod:`mlrpy.columns`) the learner accepts; a
    #: column of another type is a :class:`DataError` naming it. Categorical columns
    #: (``factor``, ``ordered``) reach the network as level codes after the numeric columns,
    #: in the layout ``feature_info_`` describes: the tabular networks (``mlp``,
    #: ``tab_resnet``, ``ft_transformer``, ``tabm``) embed them, the featureless baselines
    #: ignore all columns, and a ``module`` network receives the codes as they are (it can
    #: embed them with :class:`~mlrpy.learners.features.TabularInput`).
    feature_types: ClassVar[tuple[str, ...]] = TABULAR_FEATURE_TYPES

    # -- mlr3 face ------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The learner's id (its registry key unless changed)."""
        return self.__dict__.get("_id", self._key)

    @id.setter
    def id(self, value: str) -> None:
        self.__dict__["_id"] = value

    @property
    def model(self) -> TorchModel:
        """The trained model; raises :class:`NotFittedError` before training."""
        if getattr(self, "model_", None) is None:
            raise NotFittedError(
                f"Learner '{self.id}' has not been trained yet: call .train(task) or .fit(X, y) first"
            )
        return self.model_

    @property
    def internal_valid_scores(self) -> dict[str, float] | None:
        return self.model.internal_valid_scores

    @property
    def internal_tuned_values(self) -> dict[str, int] | None:
        """``{"epochs": best epoch}`` found by early stopping; ``None`` without early stopping.

        Example:
            >>> from mlrpy import lrn, tsk
            >>> learner = lrn("classif.mlp", epochs=2, random_state=0).train(tsk("iris"))
            >>> learner.internal_tuned_values is None
            True
        """
        state = self.model.callbacks.get("early_stopping")
        if not isinstance(state, dict) or state.get("best_epoch") is None:
            return None
        return {"epochs": int(state["best_epoch"])}

    def show_training_loop(self) -> None:
        """Print every stage, in firing order, with the callbacks that run there.

        Callbacks are listed in the order the loop calls them (sorted by weight, shown in
        brackets), including those the learner adds itself (early stopping from
        ``patience``). Stages no callback implements show ``-``. Nothing is trained and no
        callback is built, so unset required parameters do not matter here.

        Example:
            >>> from mlrpy import lrn, t_clbk
            >>> lrn("classif.mlp", callbacks=["history", t_clbk("lr_step", step_size=2)]
            ...     ).show_training_loop()  # doctest: +ELLIPSIS
            Training loop of 'classif.mlp' (callbacks in call order, [weight]):
              on_begin: lr_step [0]
              on_epoch_begin: history [0], lr_step [0]
              on_batch_begin: -
            ...
              on_epoch_end: history [0], lr_step [0]
            ...
            Prediction:
              on_predict_begin: -
            ...
        """
        # validate="test" / "predefined" get their validation data only inside train(task)
        # or resample(); say it is there, as it will be then
        has_validation = self.validate is not None
        descriptors = internal_callbacks(self, has_validation) + as_torch_callbacks(self.callbacks)
        print_training_loop(self.id, descriptors)

    lr_find = lr_find  # the learning-rate range test, on a copy: see mlrpy.learners.lr_find

    def train(self, task: Any, row_ids: Sequence[Any] | None = None) -> LearnerTorch:
        """Train on ``task`` (optionally only ``row_ids``); returns the learner.

        With ``validate="predefined"`` or ``"test"`` the validation data are the task's
        ``internal_valid_task`` (``resample()`` sets it to each iteration's test rows for
        ``"test"``, as mlr3 does). A column with the role ``weight`` gives the sample weights.

        Example:
            >>> import pandas as pd
            >>> from mlrpy import as_task_classif, lrn
            >>> df = pd.DataFrame({"colour": ["red", "blue"] * 4, "size": [1.0, 2.0] * 4,
            ...                    "w": [1.0, 2.0] * 4, "y": ["a", "b"] * 4})
            >>> task = as_task_classif(df, target="y").set_col_roles("w", "weight")
            >>> learner = lrn("classif.mlp", epochs=1, random_state=0).train(task)
            >>> learner.feature_info_.categorical
            ['colour']
        """
        self.check_task(task)
        rows = task.row_ids if row_ids is None else list(row_ids)
        if len(rows) == 0:
            raise DataError(f"Learner '{self.id}': the training set is empty (no row ids)")
        X = task.data(rows, task.feature_names)
        y = task.truth(rows)
        valid = task_valid = None
        if self.validate in ("test", "predefined"):
            task_valid = getattr(task, "internal_valid_task", None)
            if task_valid is None and self.validate == "test":
                raise ParameterError(
                    f"Learner '{self.id}': validate='test' only works inside resample(), "
                    f"which supplies the test rows; use a fraction or 'predefined' here"
                )
            if task_valid is None:
                raise ParameterError(
                    f"Learner '{self.id}': validate='predefined' but task '{task.id}' has no "
                    f"internal_valid_task"
                )
            valid = (task_valid.data(cols=task.feature_names), task_valid.truth())
        self._fit(
            X,
            y,
            valid,
            task_train=task.clone().filter(rows),
            task_valid=task_valid,
            sample_weight=task.weight_values(rows),
        )
        return self

    def predict(self, X: Any, row_ids: Sequence[Any] | None = None) -> Any:  # type: ignore[override]
        """``predict(X)`` (scikit-learn) returns an array; ``predict(task)`` a ``Prediction``."""
        if hasattr(X, "task_type") and hasattr(X, "feature_names"):
            return self._predict_task(X, row_ids)
        if row_ids is not None:
            raise ParameterError("row_ids is only valid together with a task")
        return self._decode_response(self._forward(X))

    def evaluate(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        row_ids: Sequence[Any] | None = None,
        measures: Any = None,
    ) -> dict[str, float]:
        """Scores of the trained model on new data: ``{"loss": ..., <measure id>: ...}``.

        ``evaluate(X, y)`` (scikit-learn, Keras) or ``evaluate(task, row_ids=...)`` (mlr3).
        The rows go through the validation stages (``mlrpy.EVALUATE_STAGES``) exactly as in
        training's validation, on fresh instances of the callbacks that define one of them,
        their saved state loaded first, with ``ctx.phase == "evaluate"``; on the validation
        data this gives the last epoch's validation scores. The measures are the learner's
        ``measures_valid`` (none when unset) unless ``measures`` is given.

        Args:
            X: features, or a task.
            y: targets (only with features).
            sample_weight: one weight per row: the loss is the weighted mean (the loss must
                have a ``reduction``, as all torch losses do) and the measures are weighted as
                scikit-learn's metrics weight them.
            row_ids: the task's rows to score (all by default; only with a task).
            measures: measure ids or objects to score besides the loss.

        Example:
            >>> from mlrpy import lrn, tsk
            >>> learner = lrn("classif.mlp", epochs=2, random_state=0).train(tsk("iris"))
            >>> scores = learner.evaluate(tsk("iris"), measures=["classif.acc"])
            >>> sorted(scores), 0 <= scores["classif.acc"] <= 1
            (['classif.acc', 'loss'], True)
        """
        model = self.model
        if hasattr(X, "task_type") and hasattr(X, "feature_names"):
            if y is not None:
                raise ParameterError("evaluate(task): the targets come from the task; pass rows as row_ids=")
            self.check_task(X)
            rows = X.row_ids if row_ids is None else list(row_ids)
            missing = [c for c in model.feature_names if c not in X.feature_names]
            if missing:
                raise DataError(f"Learner '{self.id}': task '{X.id}' lacks the training features {missing}")
            X, y = X.data(rows, model.feature_names), X.truth(rows)
        elif row_ids is not None:
            raise ParameterError("row_ids is only valid together with a task")
        elif y is None and not is_dataset(X):
            raise ParameterError("evaluate(X, y) needs the targets y (or pass a task or a Dataset)")
        chosen = self._training_measures(self.measures_valid if measures is None else measures)
        x, y_enc = model_inputs(self, X, y, with_target=True)
        assert y_enc is not None
        if len(y_enc) == 0:
            raise DataError(f"Learner '{self.id}': evaluate needs at least one row")
        weights = self._evaluation_weights(sample_weight, len(y_enc))
        device = next(iter(model.network.parameters()), torch.empty(0)).device
        loss = as_torch_loss(self.loss if self.loss is not None else self._default_loss).generate().to(device)
        if model.loss_fn is not None:
            loss.load_state_dict(model.loss_fn)
        ctx = ContextTorch(
            learner=self, network=model.network, loss_fn=loss, device=device, measures_valid=chosen,
            loader_valid=make_loader(self, x, y_enc, device, model.seed),
            epoch=model.epochs, total_epochs=model.epochs,
        )
        callbacks = self._saved_callbacks(EVALUATE_STAGES)
        # the loader keeps the rows' order, so the weights line up with the outputs
        score = partial(self._score_outputs, weights=None if weights is None else weights.double().numpy())
        with torch_threads(self.num_threads):
            return evaluate_loop(ctx, callbacks, score, None if weights is None else weights.to(device))

    def _evaluation_weights(self, sample_weight: Any, n_rows: int) -> torch.Tensor | None:
        if sample_weight is None:
            return None
        weights = torch.as_tensor(np.asarray(sample_weight, dtype=np.float64).ravel(), dtype=torch.float32)
        if len(weights) != n_rows or not bool(torch.isfinite(weights).all()) or bool((weights < 0).any()):
            raise ParameterError(
                f"sample_weight must hold {n_rows} finite, non-negative numbers (one per row), "
                f"got {len(weights)} values"
            )
        return weights

    def _predict_task(self, task: Any, row_ids: Sequence[Any] | None) -> Prediction:
        self.check_task(task)
        model = self.model
        rows = task.row_ids if row_ids is None else list(row_ids)
        missing = [c for c in model.feature_names if c not in task.feature_names]
        if missing:
            raise DataError(
                f"Learner '{self.id}': task '{task.id}' lacks the training features {missing}"
            )
        output = self._forward(task.data(rows, model.feature_names))
        truth = task.truth(rows)
        return with_task_info(self._make_prediction(rows, truth, output), task, rows)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the trained learner to one file, atomically (see :func:`mlrpy.load`).

        The network's ``state_dict``, the constructor parameters, the callback states and the
        rest of ``learner.model`` are stored; a failed write leaves no partial file.
        """
        from mlrpy.persistence import save

        save(self, path)

    def check_task(self, task: Any) -> None:
        """Raise :class:`ParameterError` unless ``task`` is of this learner's task type.

        Example:
            >>> from mlrpy import lrn, tsk
            >>> lrn("regr.mlp").check_task(tsk("iris"))  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            mlrpy.errors.ParameterError: Learner 'regr.mlp' is for regr tasks, but task 'iris' ...
        """
        if getattr(task, "task_type", None) != self.task_type:
            raise ParameterError(
                f"Learner '{self.id}' is for {self.task_type} tasks, but task "
                f"'{getattr(task, 'id', task)}' is of type {getattr(task, 'task_type', type(task).__name__)}"
            )

    def check_params(self) -> None:
        """Validate every plain parameter against the learner's constraints.

        ``fit`` calls this first; tuning calls it to reject a configuration before training.

        Example:
            >>> from mlrpy import lrn
            >>> lrn("classif.mlp", batch_size=0).check_params()
            Traceback (most recent call last):
            ...
            mlrpy.errors.ParameterError: 'batch_size' must be an integer >= 1, got 0
        """
        check_constraints(self._parameter_constraints, self.__dict__)
        if self.predict_type not in self._predict_types:
            raise ParameterError(
                f"'predict_type' must be one of {self._predict_types} for {self.task_type} "
                f"learners, got {self.predict_type!r}"
            )

    # -- prediction -----------------------------------------------------------------------
    def _forward(self, X: Any) -> torch.Tensor:
        check_is_fitted(self, "model_")
        model = self.model
        x, _ = model_inputs(self, X)
        parameters = list(model.network.parameters())
        if not all(bool(torch.isfinite(p).all()) for p in parameters):
            raise DivergenceError(
                f"Learner '{self.id}': the network has NaN or infinite weights (training "
                f"diverged), so it cannot predict; retrain with a smaller learning rate"
            )
        device = parameters[0].device if parameters else torch.device("cpu")
        size = predict_batch_size(self, table_predict=input_kind(X) == "table")
        loader = make_loader(self, x, None, device, model.seed, batch_size=size)
        callbacks = self._saved_callbacks(PREDICT_STAGES)
        ctx = ContextTorch(learner=self, network=model.network, device=device)
        with torch_threads(self.num_threads):
            return predict_loop(model.network, loader, callbacks, ctx).cpu()

    def _saved_callbacks(self, stages: Sequence[str]) -> list[CallbackSet]:
        """Fresh instances of the callbacks defining any of ``stages``, their saved state loaded."""
        out = []
        for tc in as_torch_callbacks(self.callbacks):
            if any(s in tc.stages for s in stages):
                cb = tc.generate()
                if tc.id in self.model.callbacks:
                    cb.load_state_dict(self.model.callbacks[tc.id])
                out.append(cb)
        return sorted(out, key=lambda cb: cb.weight)

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "model_", None) is not None
