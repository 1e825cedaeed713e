"""``LearnerTorch``: one object that is both an mlr3-style learner and a scikit-learn estimator.

scikit-learn conventions hold throughout: constructor parameters are stored untouched and
validated in ``fit``; everything learned lives in attributes ending in ``_``.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from mlrpy.callbacks import TorchCallback, as_torch_callbacks
from mlrpy.callbacks.base import PREDICT_STAGES, CallbackSet
from mlrpy.callbacks.context import ContextTorch
from mlrpy.dictionary import suggest
from mlrpy.errors import DataError, NotFittedError, ParameterError, UnknownKeyError
from mlrpy.learners.data import TensorLoader
from mlrpy.learners.loop import predict_loop, train_loop
from mlrpy.learners.resume import find_resume_checkpoint
from mlrpy.learners.torch_objects import (
    TorchLoss,
    as_torch_loss,
    as_torch_optimizer,
)
from mlrpy.measures import resolve_measures
from mlrpy.params import param_table
from mlrpy.prediction import Prediction, PredictionClassif, PredictionRegr

__all__ = ["LearnerTorch", "LearnerTorchClassif", "LearnerTorchRegr", "TorchModel"]

_DEVICES = ("auto", "cpu", "cuda", "mps")
_GLOBAL_RNG_LOCK = threading.RLock()


@dataclass
class TorchModel:
    """What training produced (``learner.model`` / ``learner.model_``).

    Attributes:
        network: the trained ``torch.nn.Module``.
        callbacks: callback id → its ``state_dict()`` (only non-``None`` states).
        epochs: epochs actually trained.
        seed: the seed the run used (drawn and recorded when ``random_state`` is ``None``).
        optimizer: the optimizer's ``state_dict()``.
        loss_fn: the loss module's ``state_dict()``.
        internal_valid_scores: the last validation scores (``None`` without validation).
        feature_names: training columns, in order; ``n_features``: their number.
        classes: class labels (classification) or ``None``.
        interrupted: ``True`` when training stopped on ``KeyboardInterrupt``.
    """

    network: torch.nn.Module
    callbacks: dict[str, Any] = field(default_factory=dict)
    epochs: int = 0
    seed: int = 0
    optimizer: dict[str, Any] | None = None
    loss_fn: dict[str, Any] | None = None
    internal_valid_scores: dict[str, float] | None = None
    feature_names: list[str] = field(default_factory=list)
    n_features: int = 0
    classes: np.ndarray | None = None
    task_type: str = ""
    interrupted: bool = False


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device='cuda' but no CUDA device is available; use 'auto' or 'cpu'")
    return torch.device(device)


def _check_int(name: str, value: Any, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ParameterError(f"'{name}' must be an integer >= {low}, got {value!r}")
    return int(value)


class LearnerTorch(BaseEstimator):
    """Base of every torch learner. Subclasses define ``_key``, ``_build_network`` and
    their architecture parameters; the task type comes from :class:`LearnerTorchClassif`
    or :class:`LearnerTorchRegr`.

    Plain parameters (DESIGN 5.1) are constructor arguments; deep parameters are addressed
    with dotted names: ``opt.<p>``, ``loss.<p>``, ``cb.<callback id>.<p>`` (and
    ``module.<arg>`` for module learners).
    """

    _key: ClassVar[str] = ""
    task_type: ClassVar[str] = ""
    _default_loss: ClassVar[str] = ""
    _predict_types: ClassVar[tuple[str, ...]] = ("response",)

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
        from mlrpy.callbacks.base import STAGES, sort_callbacks

        # validate="test" / "predefined" get their validation data only inside train(task)
        # or resample(); say it is there, as it will be then
        validation_data = () if self.validate in ("test", "predefined") else None
        descriptors = as_torch_callbacks(self.callbacks) + self._internal_callbacks(validation_data)
        instances = []
        for tc in descriptors:  # bare instances: the stages and weights are all that is needed
            cb = tc.generator.__new__(tc.generator)
            cb.id = tc.id
            cb.weight = tc.effective_weight  # type: ignore[misc]
            instances.append(cb)
        ordered = sort_callbacks(instances)

        def line(stage: str) -> str:
            here = [f"{cb.id} [{cb.weight:g}]" for cb in ordered if hasattr(cb, stage)]
            return f"  {stage}: {', '.join(here) or '-'}"

        print(f"Training loop of '{self.id}' (callbacks in call order, [weight]):")
        for stage in STAGES:
            print(line(stage))
        print("Prediction:")
        for stage in PREDICT_STAGES:
            print(line(stage))

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

    def train(self, task: Any, row_ids: Sequence[Any] | None = None) -> LearnerTorch:
        """Train on ``task`` (optionally only ``row_ids``); returns the learner."""
        return self._train(task, row_ids)

    def _train(
        self, task: Any, row_ids: Sequence[Any] | None, test_row_ids: Sequence[Any] | None = None
    ) -> LearnerTorch:
        """``train`` plus the test rows of a resampling iteration, used by ``validate="test"``."""
        self._check_task(task)
        rows = task.row_ids if row_ids is None else list(row_ids)
        if len(rows) == 0:
            raise DataError(f"Learner '{self.id}': the training set is empty (no row ids)")
        X = task.data(rows, task.feature_names)
        y = task.truth(rows)
        valid = task_valid = None
        if self.validate == "test":
            if test_row_ids is None:
                raise ParameterError(
                    f"Learner '{self.id}': validate='test' only works inside resample(), "
                    f"which supplies the test rows; use a fraction or 'predefined' here"
                )
            valid = (task.data(test_row_ids, task.feature_names), task.truth(test_row_ids))
            task_valid = task.clone().filter(test_row_ids)
        elif self.validate == "predefined":
            vt = getattr(task, "internal_valid_task", None)
            if vt is None:
                raise ParameterError(
                    f"Learner '{self.id}': validate='predefined' but task '{task.id}' has no "
                    f"internal_valid_task"
                )
            valid = (vt.data(cols=task.feature_names), vt.truth())
            task_valid = vt
        self._fit(X, y, valid, task_train=task.clone().filter(rows), task_valid=task_valid)
        return self

    def predict(self, X: Any, row_ids: Sequence[Any] | None = None) -> Any:  # type: ignore[override]
        """``predict(X)`` (scikit-learn) returns an array; ``predict(task)`` a ``Prediction``."""
        if hasattr(X, "task_type") and hasattr(X, "feature_names"):
            return self._predict_task(X, row_ids)
        if row_ids is not None:
            raise ParameterError("row_ids is only valid together with a task")
        return self._decode_response(self._forward(X))

    def _predict_task(self, task: Any, row_ids: Sequence[Any] | None) -> Prediction:
        self._check_task(task)
        model = self.model
        rows = task.row_ids if row_ids is None else list(row_ids)
        missing = [c for c in model.feature_names if c not in task.feature_names]
        if missing:
            raise DataError(
                f"Learner '{self.id}': task '{task.id}' lacks the training features {missing}"
            )
        output = self._forward(task.data(rows, model.feature_names))
        truth = task.truth(rows)
        return self._make_prediction(rows, truth, output)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the trained learner to one file, atomically (see :func:`mlrpy.load`).

        The network's ``state_dict``, the constructor parameters, the callback states and the
        rest of ``learner.model`` are stored; a failed write leaves no partial file.
        """
        from mlrpy.persistence import save

        save(self, path)

    def _check_task(self, task: Any) -> None:
        if getattr(task, "task_type", None) != self.task_type:
            raise ParameterError(
                f"Learner '{self.id}' is for {self.task_type} tasks, but task "
                f"'{getattr(task, 'id', task)}' is of type {getattr(task, 'task_type', type(task).__name__)}"
            )

    # -- parameters -----------------------------------------------------------------------
    callbacks: Any
    optimizer: Any
    loss: Any

    def _deep_descriptors(self) -> dict[str, Any]:
        """Prefix → descriptor for every group of dotted parameters."""
        out: dict[str, Any] = {
            "opt.": as_torch_optimizer(self.optimizer),
            "loss.": as_torch_loss(self.loss if self.loss is not None else self._default_loss),
        }
        for tc in as_torch_callbacks(self.callbacks):
            out[tc.key_prefix] = tc
        return out

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters; with ``deep=True`` also every dotted parameter, defaults
        included (``opt.lr``, ``loss.reduction``, ``cb.<id>.<param>``, ...)."""
        params = super().get_params(deep=False)
        if deep:
            try:
                descriptors = self._deep_descriptors()
            except (ParameterError, UnknownKeyError, TypeError):
                return params  # an invalid plain value (e.g. optimizer=-1) is reported by fit
            for prefix, desc in descriptors.items():
                for name, value in desc.get_values().items():
                    params[prefix + name] = value
        return params

    def set_params(self, **params: Any) -> LearnerTorch:
        """Set plain and dotted parameters; returns the learner.

        A dotted parameter copies the descriptor it belongs to, so a ``TorchCallback`` or
        ``t_opt()`` object the user passed in is never changed.
        """
        plain = {k: v for k, v in params.items() if "." not in k}
        dotted = {k: v for k, v in params.items() if "." in k}
        valid = super().get_params(deep=False)
        for key, value in plain.items():
            if key not in valid:
                raise UnknownKeyError(
                    f"Learner '{self.id}': '{key}' is not a parameter.{suggest(key, valid)} "
                    f"Valid: {', '.join(valid)}; dotted: opt.<p>, loss.<p>, cb.<id>.<p>"
                )
            setattr(self, key, value)  # validated in fit, as scikit-learn requires
        if dotted:
            self._set_dotted(dotted)
        return self

    def _set_dotted(self, dotted: dict[str, Any]) -> None:
        descriptors = self._deep_descriptors()
        groups: dict[str, dict[str, Any]] = {}
        for key, value in dotted.items():
            prefix, _, name = key.rpartition(".")
            prefix += "."
            if prefix not in descriptors:
                valid = [p + n for p, d in descriptors.items() for n in d.param_set.model_fields]
                hint = ""
                if key.startswith("cb."):
                    attached = [d.id for d in descriptors.values() if isinstance(d, TorchCallback)]
                    hint = f" Attached callbacks: {', '.join(attached) or '(none)'}."
                raise UnknownKeyError(
                    f"Learner '{self.id}': '{key}' matches no parameter.{hint}"
                    f"{suggest(key, valid)} Valid dotted names: {', '.join(valid)}"
                )
            groups.setdefault(prefix, {})[name] = value
        for prefix, values in groups.items():
            self._replace_descriptor(prefix, descriptors[prefix].clone().set_values(**values))

    def _replace_descriptor(self, prefix: str, new: Any) -> None:
        """Store a changed copy of the descriptor behind ``prefix`` in its plain parameter."""
        if prefix == "opt.":
            self.optimizer = new
        elif prefix == "loss.":
            self.loss = new
        else:
            self.callbacks = [
                new if tc.key_prefix == prefix else orig
                for orig, tc in zip(_as_list(self.callbacks), as_torch_callbacks(self.callbacks))
            ]

    @property
    def param_set(self) -> pd.DataFrame:
        """Every parameter (plain and dotted) with its current value, as a table."""
        plain = super().get_params(deep=False)
        rows = [{"id": k, "value": v} for k, v in plain.items()]
        frames = [pd.DataFrame(rows)]
        for prefix, desc in self._deep_descriptors().items():
            table = param_table(desc.param_set, desc.get_values())
            table["id"] = prefix + table["id"]
            frames.append(table[["id", "value", "type", "lower", "upper", "default"]])
        return pd.concat(frames, ignore_index=True)

    def _validate_params(self) -> None:
        _check_int("epochs", self.epochs, 0)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("num_threads", self.num_threads, 1)
        _check_int("eval_freq", self.eval_freq, 1)
        if self.device not in _DEVICES:
            raise ParameterError(f"'device' must be one of {_DEVICES}, got {self.device!r}")
        if self.predict_type not in self._predict_types:
            raise ParameterError(
                f"'predict_type' must be one of {self._predict_types} for {self.task_type} "
                f"learners, got {self.predict_type!r}"
            )
        v = self.validate
        if not (v is None or v in ("predefined", "test") or (
            isinstance(v, float) and 0 < v < 1
        )):
            raise ParameterError(
                f"'validate' must be None, a fraction in (0, 1), 'predefined' or 'test', got {v!r}"
            )
        if not (self.resume is None or isinstance(self.resume, (bool, str, os.PathLike))):
            raise ParameterError(
                f"'resume' must be None, True/False or a folder path, got {self.resume!r}"
            )
        for flag in ("shuffle", "restore_best_weights", "warm_start"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise ParameterError(f"'{flag}' must be True or False, got {getattr(self, flag)!r}")
        _check_int("patience", self.patience, 0)
        md = self.min_delta
        if not isinstance(md, numbers.Real) or isinstance(md, bool) or md < 0:
            raise ParameterError(f"'min_delta' must be a number >= 0, got {self.min_delta!r}")

    # -- data -----------------------------------------------------------------------------
    def _check_X(self, X: Any, reset: bool) -> np.ndarray:
        if sparse.issparse(X):
            raise DataError(
                f"Learner '{self.id}': sparse input is not supported; pass a dense array"
            )
        try:
            return _writable(validate_data(self, X, reset=reset, dtype=np.float32))
        except ValueError as err:
            raise DataError(f"Learner '{self.id}': {err}") from err

    def _check_Xy(self, X: Any, y: Any, reset: bool = True) -> tuple[np.ndarray, np.ndarray]:
        if y is None:
            raise DataError(
                f"Learner '{self.id}' requires y to be passed, but the target y is None"
            )
        if sparse.issparse(X):
            raise DataError(
                f"Learner '{self.id}': sparse input is not supported; pass a dense array "
                f"(e.g. X.toarray()) or a DataFrame"
            )
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is raveled.",
                DataConversionWarning,
                stacklevel=3,
            )
            y = y.ravel()
        n_x = X.shape[0] if hasattr(X, "shape") else len(X) if hasattr(X, "__len__") else None
        if n_x is not None and y.ndim >= 1 and len(y) != n_x:
            raise DataError(
                f"Learner '{self.id}': X and y have different numbers of rows: {n_x} vs {len(y)}"
            )
        if pd.isna(pd.Series(y.ravel()) if y.ndim else pd.Series([y])).any():
            raise DataError(f"Learner '{self.id}': y contains missing values (NaN)")
        try:
            X, y = validate_data(self, X, y, reset=reset, dtype=np.float32, y_numeric=False)
        except ValueError as err:
            raise DataError(f"Learner '{self.id}': {err}") from err
        return _writable(X), y

    def _encode_target(self, y: np.ndarray, fit: bool) -> torch.Tensor:
        raise NotImplementedError

    def _n_outputs(self) -> int:
        raise NotImplementedError

    def _build_network(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        raise NotImplementedError

    # -- training -------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, validation_data: tuple[Any, Any] | None = None) -> LearnerTorch:
        """Train on arrays or DataFrames (scikit-learn); returns the learner.

        Args:
            X: features, shape (n_samples, n_features).
            y: targets.
            validation_data: optional ``(X_valid, y_valid)`` evaluated every ``eval_freq``
                epochs (and in the last); overrides ``validate``.
        """
        self._fit(X, y, validation_data)
        return self

    def _fit(
        self,
        X: Any,
        y: Any,
        validation_data: tuple[Any, Any] | None,
        task_train: Any = None,
        task_valid: Any = None,
    ) -> None:
        self._validate_params()
        optimizer = as_torch_optimizer(self.optimizer)
        loss = as_torch_loss(self.loss if self.loss is not None else self._default_loss)
        callbacks = as_torch_callbacks(self.callbacks) + self._internal_callbacks(validation_data)
        self._check_loss_task(loss)
        resumed = find_resume_checkpoint(self.resume, callbacks)
        previous = getattr(self, "model_", None) if self.warm_start and resumed is None else None
        X_arr, y_arr = self._check_Xy(X, y, reset=previous is None)
        if len(X_arr) == 0:
            raise DataError(f"Learner '{self.id}': the training set is empty")
        y_enc = self._encode_target(y_arr, fit=previous is None)
        if resumed is not None:
            seed = resumed.payload["seed"]
        elif previous is not None:
            # a continued run gets a fresh but reproducible seed, so it does not replay run one
            seed = (previous.seed + previous.epochs + 1) % 2**31
        else:
            seed = self._draw_seed()
        device = _resolve_device(self.device)

        X_valid: Any = None
        y_valid: Any = None
        if validation_data is not None:
            X_valid = self._check_X(validation_data[0], reset=False)
            y_valid = self._encode_target(np.asarray(validation_data[1]).ravel(), fit=False)
        elif isinstance(self.validate, float):
            X_arr, X_valid, y_enc, y_valid = self._holdout(X_arr, y_enc, seed)

        x_train = torch.from_numpy(X_arr).to(device)
        y_train = y_enc.to(device)
        loader_valid = None
        if X_valid is not None and y_valid is not None:
            loader_valid = TensorLoader(
                torch.as_tensor(X_valid).to(device), y_valid.to(device), self.batch_size
            )

        forked = [device.index or 0] if device.type == "cuda" else []
        # Weight init, dropout and shuffling draw from torch's global RNG (nn.init and dropout
        # take no generator), so concurrent fits in threads of one process take turns here;
        # fits in separate processes (joblib's default, dask workers) run in parallel.
        with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=forked), _torch_threads(self.num_threads):
            torch.manual_seed(seed)
            if previous is not None:
                network = previous.network.to(device)
            else:
                network = self._build_network(x_train.shape[1], self._n_outputs()).to(device)
            ctx = ContextTorch(
                learner=self,
                task_train=task_train,
                task_valid=task_valid,
                network=network,
                optimizer=optimizer.generate(network.parameters()),
                loss_fn=loss.generate().to(device),
                loader_train=TensorLoader(x_train, y_train, self.batch_size, bool(self.shuffle)),
                loader_valid=loader_valid,
                total_epochs=int(self.epochs) + (previous.epochs if previous is not None else 0),
                eval_freq=int(self.eval_freq),
                device=device,
                seed=seed,
                resumed_from=resumed.folder if resumed is not None else None,
                measures_train=self._training_measures(self.measures_train),
                measures_valid=self._training_measures(self.measures_valid),
            )
            cbs = [tc.generate() for tc in callbacks]
            self.model_ = self._new_model(network, seed)
            restore: Any
            if resumed is not None:
                restore = resumed.restore
            else:
                restore = None if previous is None else self._warm_start_restorer(previous)
            try:
                states = train_loop(ctx, cbs, restore=restore, score=self._score_outputs)
            except KeyboardInterrupt:
                self._finish_model(ctx, interrupted=True)
                raise
            self._finish_model(ctx, interrupted=False, states=states)

    @staticmethod
    def _warm_start_restorer(previous: TorchModel) -> Any:
        """Continue where ``previous`` stopped: epoch counter, optimizer and callback states."""

        def restore(ctx: ContextTorch) -> None:
            ctx.epoch = previous.epochs
            if previous.optimizer is not None:
                ctx.optimizer.load_state_dict(previous.optimizer)  # type: ignore[union-attr]
            for cb in ctx.callbacks:
                if cb.id in previous.callbacks:
                    cb.load_state_dict(previous.callbacks[cb.id])

        return restore

    def _internal_callbacks(self, validation_data: Any = None) -> list[TorchCallback]:
        """Callbacks the learner adds from its own parameters (early stopping).

        ``patience > 0`` adds ``t_clbk("early_stopping")`` (id ``early_stopping``) with the
        learner's ``patience``, ``min_delta`` and ``restore_best_weights``; it needs validation
        data and must not duplicate an explicitly attached early-stopping callback.
        """
        from mlrpy.callbacks.early_stopping import CallbackSetEarlyStopping, early_stopping

        if self.validate in ("test", "predefined") and validation_data is None:
            # train(task) / resample() turn these into validation_data; fit(X, y) cannot
            where = "inside resample()" if self.validate == "test" else "with train(task)"
            raise ParameterError(
                f"Learner '{self.id}': validate={self.validate!r} only works {where}; with "
                f"fit(X, y) use a fraction or pass validation_data=(X_valid, y_valid)"
            )
        explicit = [
            tc for tc in as_torch_callbacks(self.callbacks)
            if tc.id == "early_stopping" or issubclass(tc.generator, CallbackSetEarlyStopping)
        ]
        has_validation = self.validate is not None or validation_data is not None
        if (self.patience > 0 or explicit) and not has_validation:
            what = f"patience={self.patience}" if self.patience > 0 else f"callback '{explicit[0].id}'"
            raise ParameterError(
                f"Learner '{self.id}': early stopping ({what}) needs validation data, but "
                f"validate=None and no validation_data was given; set validate to a fraction "
                f"(e.g. 0.2), 'predefined', or 'test' inside resample(), or pass "
                f"fit(..., validation_data=(X_valid, y_valid))"
            )
        if self.patience == 0:
            return []
        if explicit:
            raise ParameterError(
                f"Learner '{self.id}': patience={self.patience} adds an internal "
                f"'early_stopping' callback, but callback '{explicit[0].id}' already does early "
                f"stopping; use either patience= or the explicit callback (with patience=0)"
            )
        return [
            early_stopping.clone().set_values(
                patience=int(self.patience),
                min_delta=float(self.min_delta),
                restore_best_weights=bool(self.restore_best_weights),
            )
        ]

    def _training_measures(self, measures: Any) -> list[Any]:
        """Measures scored during training; none unless asked for, checked for the task type."""
        return [] if measures is None else resolve_measures(measures, self.task_type)

    def _new_model(self, network: torch.nn.Module, seed: int) -> TorchModel:
        return TorchModel(
            network=network,
            seed=seed,
            feature_names=[str(c) for c in getattr(self, "feature_names_in_", [])]
            or [f"x{i}" for i in range(self.n_features_in_)],
            n_features=self.n_features_in_,
            classes=getattr(self, "classes_", None),
            task_type=self.task_type,
        )

    def _finish_model(
        self, ctx: ContextTorch, interrupted: bool, states: dict[str, Any] | None = None
    ) -> None:
        model = self.model_
        model.epochs = ctx.epoch - 1 if interrupted and ctx.epoch > 0 else ctx.epoch
        model.interrupted = interrupted
        model.callbacks = states or {}
        model.optimizer = ctx.optimizer.state_dict() if ctx.optimizer is not None else None
        model.loss_fn = ctx.loss_fn.state_dict() if ctx.loss_fn is not None else None
        model.internal_valid_scores = ctx.last_scores_valid
        model.network.eval()

    def _check_loss_task(self, loss: TorchLoss) -> None:
        if self.task_type not in loss.task_types:
            raise ParameterError(
                f"Learner '{self.id}': loss '{loss.id}' is for {', '.join(loss.task_types)} "
                f"tasks, not {self.task_type}"
            )

    def _draw_seed(self) -> int:
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return int(rs)
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _holdout(self, X: np.ndarray, y: torch.Tensor, seed: int) -> tuple[Any, Any, Any, Any]:
        stratify = y.numpy() if self.task_type == "classif" else None
        try:
            idx_train, idx_valid = train_test_split(
                np.arange(len(X)), test_size=self.validate, random_state=seed, stratify=stratify
            )
        except ValueError:  # too few rows per class to stratify
            idx_train, idx_valid = train_test_split(
                np.arange(len(X)), test_size=self.validate, random_state=seed
            )
        return X[idx_train], X[idx_valid], y[idx_train], y[idx_valid]

    def _score_outputs(
        self,
        ctx: ContextTorch,
        outputs: list[torch.Tensor],
        targets: list[torch.Tensor],
        measures: list[Any],
    ) -> dict[str, float]:
        """Score network outputs collected during training with mlr3 measures."""
        output = torch.cat(outputs).float().cpu()
        target = torch.cat(targets).cpu()
        truth = self._decode_target(target)
        prediction = self._make_prediction(range(len(truth)), truth, output, with_prob=True)
        return {m.id: float(m.score(prediction)) for m in measures}

    # -- prediction -----------------------------------------------------------------------
    def _forward(self, X: Any) -> torch.Tensor:
        check_is_fitted(self, "model_")
        model = self.model
        X_arr = self._check_X(X, reset=False)
        device = next(model.network.parameters(), torch.empty(0)).device
        loader = TensorLoader(torch.from_numpy(X_arr).to(device), None, max(self.batch_size, 1024))
        callbacks = self._prediction_callbacks()
        ctx = ContextTorch(learner=self, network=model.network, device=device)
        with _torch_threads(self.num_threads):
            return predict_loop(model.network, loader, callbacks, ctx).cpu()

    def _prediction_callbacks(self) -> list[CallbackSet]:
        """Fresh instances of the callbacks with prediction stages, their saved state loaded."""
        out = []
        for tc in as_torch_callbacks(self.callbacks):
            if any(s in tc.stages for s in PREDICT_STAGES):
                cb = tc.generate()
                if tc.id in self.model.callbacks:
                    cb.load_state_dict(self.model.callbacks[tc.id])
                out.append(cb)
        return sorted(out, key=lambda cb: cb.weight)

    def _decode_response(self, output: torch.Tensor) -> np.ndarray:
        raise NotImplementedError

    def _make_prediction(
        self, rows: Sequence[Any], truth: Any, output: torch.Tensor, with_prob: bool = False
    ) -> Prediction:
        raise NotImplementedError

    def _decode_target(self, target: torch.Tensor) -> np.ndarray:
        raise NotImplementedError

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "model_", None) is not None


def _writable(X: np.ndarray) -> np.ndarray:
    # torch.from_numpy shares memory and needs a writable array; pandas' copy-on-write
    # hands out read-only views, which are copied once here
    return X if X.flags.writeable else X.copy()


def _as_list(x: Any) -> list[Any]:
    if x is None:
        return []
    if isinstance(x, (str, TorchCallback)):
        return [x]
    return list(x)


def _probabilities(output: torch.Tensor) -> np.ndarray:
    """Softmax in float64, so each row sums to one within sklearn's tolerance.

    Written out because ``torch.softmax`` over a handful of classes is slow on the CPU
    (2x for 3 classes, see benchmarks/README.md); the results agree to 1e-16.
    """
    z = output.double()
    z = z - z.amax(dim=1, keepdim=True)
    p = z.exp_()
    p /= p.sum(dim=1, keepdim=True)
    return p.numpy()


class LearnerTorchClassif(ClassifierMixin, LearnerTorch):
    """Classification: any label type; the network outputs one logit per class."""

    task_type = "classif"
    _default_loss = "cross_entropy"
    _predict_types = ("response", "prob")

    def _encode_target(self, y: np.ndarray, fit: bool) -> torch.Tensor:
        if fit:
            kind = type_of_target(y)
            if kind not in ("binary", "multiclass"):
                check_classification_targets(y)  # sklearn's own message for continuous targets
                raise DataError(f"Learner '{self.id}': y must be binary or multiclass labels, got {kind}")
            self._label_encoder = LabelEncoder().fit(y)
            self.classes_ = self._label_encoder.classes_
            if len(self.classes_) < 2:
                raise DataError(
                    f"Learner '{self.id}': y has only one class ({self.classes_[0]!r}); "
                    f"a classifier needs at least 2 classes"
                )
            # the classes come from this very y: no label can be unseen
            return torch.from_numpy(np.searchsorted(self.classes_, y).astype(np.int64))
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise DataError(
                f"Learner '{self.id}': labels {unseen.tolist()} were not in the training data "
                f"(classes: {self.classes_.tolist()})"
            )
        return torch.from_numpy(np.searchsorted(self.classes_, y).astype(np.int64))

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _decode_target(self, target: torch.Tensor) -> np.ndarray:
        return self.classes_[target.numpy()]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        return _probabilities(self._forward(X))

    def _decode_response(self, output: torch.Tensor) -> np.ndarray:
        return self.classes_[output.argmax(dim=1).numpy()]

    def _make_prediction(
        self, rows: Sequence[Any], truth: Any, output: torch.Tensor, with_prob: bool = False
    ) -> Prediction:
        prob = None
        if self.predict_type == "prob" or with_prob:
            prob = pd.DataFrame(_probabilities(output), columns=list(self.classes_))
        return PredictionClassif(
            rows, truth, self._decode_response(output), prob=prob, class_names=list(self.classes_)
        )


class LearnerTorchRegr(RegressorMixin, LearnerTorch):
    """Regression with a single numeric target."""

    task_type = "regr"
    _default_loss = "mse"

    def _encode_target(self, y: np.ndarray, fit: bool) -> torch.Tensor:
        try:
            y = np.asarray(y, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise DataError(f"Learner '{self.id}': regression targets must be numeric: {err}") from None
        if y.ndim != 1:
            raise DataError(f"Learner '{self.id}': y must be 1-dimensional, got shape {y.shape}")
        if not np.isfinite(y).all():
            raise DataError(f"Learner '{self.id}': y contains NaN or infinite values")
        return torch.from_numpy(y).reshape(-1, 1)

    def _n_outputs(self) -> int:
        return 1

    def _decode_response(self, output: torch.Tensor) -> np.ndarray:
        return output.reshape(-1).numpy().astype(np.float64)

    def _make_prediction(
        self, rows: Sequence[Any], truth: Any, output: torch.Tensor, with_prob: bool = False
    ) -> Prediction:
        return PredictionRegr(rows, truth, self._decode_response(output))

    def _decode_target(self, target: torch.Tensor) -> np.ndarray:
        return target.reshape(-1).numpy().astype(np.float64)

