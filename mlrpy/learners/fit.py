"""``fit`` as a recipe: resolve the setup, prepare the data, build the run, run the loop,
finish the model.

A fit that raises leaves the learner as it was (its previous model, or unfitted); a
``KeyboardInterrupt`` keeps the model trained so far, with the callback states collected up
to then.
"""

from __future__ import annotations

import copy
import numbers
import threading
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, cast

import numpy as np
import torch
from sklearn.utils import check_random_state

from mlrpy.callbacks import TorchCallback, as_torch_callbacks
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.context import ContextTorch
from mlrpy.errors import ParameterError
from mlrpy.learners.contract import LearnerContract
from mlrpy.learners.data import check_weighted_loss
from mlrpy.learners.features import FeatureInfo
from mlrpy.learners.inputs import (
    check_features,
    check_training_data,
    frame_tasks,
    holdout_positions,
    keep_label_types,
    sample_weights,
)
from mlrpy.learners.internal_callbacks import internal_callbacks
from mlrpy.learners.launch import launched, rank_engine, spawn_fit
from mlrpy.learners.loaders import make_loader
from mlrpy.learners.loop import collect_states, train_loop
from mlrpy.learners.model import TorchModel
from mlrpy.learners.parallel import SingleProcess
from mlrpy.learners.resume import ResumePoint, find_resume_checkpoint, warm_start_restorer
from mlrpy.learners.runtime import array_tasks, feature_names, resolve_device, seed_torch, torch_threads
from mlrpy.learners.sources import RunData, check_forward_args, input_kind, prepare_inputs
from mlrpy.learners.torch_objects import TorchLoss, TorchOptimizer, as_torch_loss, as_torch_optimizer
from mlrpy.measures import resolve_measures

__all__ = ["Fitting"]

_GLOBAL_RNG_LOCK = threading.RLock()
#: what ``fit`` changes on the learner besides ``model_``; restored when a fit fails
_FITTED_ATTRS = (
    "model_", "n_features_in_", "feature_names_in_", "feature_info_", "classes_", "_label_encoder"
)

_FIT_ARGS = ("X", "y", "validation_data", "task_train", "task_valid", "sample_weight")


@dataclass
class _RunSetup:
    """What the parameters resolve to before any data is touched."""

    optimizer: TorchOptimizer
    loss: TorchLoss
    callbacks: list[TorchCallback]
    resumed: ResumePoint | None
    previous: TorchModel | None


class Fitting(LearnerContract):
    """The scikit-learn ``fit`` of every learner, in named steps."""

    #: what ``fit`` sets on the learner (a data-parallel run sends these back from rank 0)
    fitted_attributes: ClassVar[tuple[str, ...]] = _FITTED_ATTRS

    epochs: Any
    batch_size: Any
    num_threads: Any
    random_state: Any
    shuffle: Any
    eval_freq: Any
    validate: Any
    measures_train: Any
    measures_valid: Any
    warm_start: Any
    resume: Any
    on_nonfinite: Any
    strategy: Any

    def check_params(self) -> None:  # pragma: no cover - LearnerTorch defines it
        raise NotImplementedError

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        validation_data: tuple[Any, Any] | None = None,
    ) -> Any:
        """Train on arrays, DataFrames or a torch ``Dataset`` (scikit-learn); returns the learner.

        A DataFrame may hold categorical columns (``category``, ``str`` or ``object``
        dtype), which are encoded as level codes and embedded by the tabular networks; see
        :mod:`mlrpy.learners.encoding`. If training raises, the learner keeps its previous
        model (or stays unfitted). On ``KeyboardInterrupt`` it keeps the model trained so
        far, with the callback states collected up to then and ``model.interrupted`` set.

        Args:
            X: features, shape (n_samples, n_features); for ``module`` learners also an N-D
                array or a dict of arrays; any learner takes a map-style ``Dataset`` of
                ``(x, y)`` items or of ``x`` items with ``y`` given (see
                :mod:`mlrpy.learners.sources`).
            y: targets (``None`` for a Dataset of ``(x, y)`` items).
            sample_weight: optional non-negative weight per row. Each batch's loss is the
                weighted mean of the per-row losses, ``sum(w * l) / sum(w)`` (the weighted
                sum for a loss with ``reduction="sum"``), so a weight of 2 counts a row twice.
            validation_data: optional ``(X_valid, y_valid)`` evaluated every ``eval_freq``
                epochs (and in the last); overrides ``validate``.

        Example:
            >>> import numpy as np
            >>> from mlrpy import lrn
            >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
            >>> learner = lrn("regr.mlp", epochs=2, random_state=0)
            >>> learner.fit(X, [0.0, 1.0, 2.0, 3.0], sample_weight=[1, 1, 2, 0]).model.epochs
            2
        """
        self._fit(X, y, validation_data, sample_weight=sample_weight)
        return self

    def _fit(
        self,
        X: Any,
        y: Any,
        validation_data: tuple[Any, Any] | None,
        task_train: Any = None,
        task_valid: Any = None,
        sample_weight: Any = None,
    ) -> None:
        before = {name: self.__dict__[name] for name in _FITTED_ATTRS if name in self.__dict__}
        try:
            self.check_params()
            ddp = getattr(self, "strategy", None) == "ddp"
            if ddp and not launched():  # start the ranks; rank 0 sends its fitted state back
                args = (X, y, validation_data, task_train, task_valid, sample_weight)
                self.__dict__.update(spawn_fit(self, dict(zip(_FIT_ARGS, args))))
                return
            setup = self._resolve_setup(validation_data)
            parallel = rank_engine(self, setup.callbacks) if ddp else SingleProcess()
            data = self._prepare_data(
                X, y, validation_data, setup, task_train, task_valid, sample_weight, parallel
            )
            # Weight init, dropout and shuffling draw from torch's global RNG (nn.init and
            # dropout take no generator), so concurrent fits in threads of one process take
            # turns here; fits in separate processes (joblib, dask workers) run in parallel.
            forked = [data.device.index or 0] if data.device.type == "cuda" else []
            with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=forked), torch_threads(self.num_threads):
                seed_torch(data.seed, data.device)
                ctx, callbacks = self._build_run(data, setup, parallel)
                states = self._run_loop(ctx, callbacks, setup, data)
            self.model_ = self._finish_model(ctx, states, data)
        except KeyboardInterrupt:
            if self.__dict__.get("model_") is before.get("model_"):  # interrupted before training
                self._restore_fitted(before)
            raise  # otherwise _run_loop kept the partial model
        except BaseException:
            self._restore_fitted(before)
            raise

    def _restore_fitted(self, before: dict[str, Any]) -> None:
        """Put back what ``fit`` changes on the learner, as it was before this fit."""
        for name in _FITTED_ATTRS:
            self.__dict__.pop(name, None)
        self.__dict__.update(before)

    def _resolve_setup(self, validation_data: Any) -> _RunSetup:
        """Descriptors, the checkpoint to resume from and the model to continue (warm start)."""
        loss = as_torch_loss(self.loss if self.loss is not None else self._default_loss)
        if self.task_type not in loss.task_types:
            raise ParameterError(
                f"Learner '{self.id}': loss '{loss.id}' is for {', '.join(loss.task_types)} "
                f"tasks, not {self.task_type}"
            )
        if self.validate in ("test", "predefined") and validation_data is None:
            # train(task) / resample() turn these into validation_data; fit(X, y) cannot
            where = "inside resample()" if self.validate == "test" else "with train(task)"
            raise ParameterError(
                f"Learner '{self.id}': validate={self.validate!r} only works {where}; with "
                f"fit(X, y) use a fraction or pass validation_data=(X_valid, y_valid)"
            )
        has_validation = self.validate is not None or validation_data is not None
        callbacks = internal_callbacks(self, has_validation) + as_torch_callbacks(self.callbacks)
        resumed = find_resume_checkpoint(self.resume, callbacks)
        previous = getattr(self, "model_", None) if self.warm_start and resumed is None else None
        return _RunSetup(as_torch_optimizer(self.optimizer), loss, callbacks, resumed, previous)

    def _prepare_data(
        self,
        X: Any,
        y: Any,
        validation_data: Any,
        setup: _RunSetup,
        task_train: Any,
        task_valid: Any,
        sample_weight: Any = None,
        parallel: SingleProcess | None = None,
    ) -> RunData:
        """Check and encode the data, hold out validation rows, move tensors to the device."""
        parallel = parallel or SingleProcess()
        previous, resumed = setup.previous, setup.resumed
        if resumed is not None:
            seed = int(resumed.payload["seed"])
        elif previous is not None:
            # a continued run gets a fresh but reproducible seed, so it does not replay run one
            seed = (previous.seed + previous.epochs + 1) % 2**31
        else:
            seed = self._draw_seed()
        seed = parallel.broadcast(seed)  # every rank: the same holdout split, shards and init
        device = parallel.device or resolve_device(self.device)
        if input_kind(X) != "table" or getattr(self, "ingress", None) is not None:
            data = prepare_inputs(self, X, y, validation_data, sample_weight, seed, device, previous is None)
            from_table = data.input_origin in ("ingress", "lazy tensor column")  # callbacks see the task
            if from_table and not isinstance(self.validate, float):
                data.task_train, data.task_valid = task_train, task_valid
            return data
        X_arr, y_arr, weights, encoder = check_training_data(self, X, y, sample_weight, previous)
        if previous is None:
            self.feature_info_ = (
                FeatureInfo.all_numeric(feature_names(self)) if encoder is None else encoder.feature_info()
            )
        y_enc = self._encode_target(y_arr, fit=previous is None)
        if weights is not None:
            self._check_weighted_target(y_enc, weights)
        y_all = y_enc  # before a held-out split: the tasks callbacks see hold every row

        X_valid: Any = None
        y_valid: Any = None
        train_positions = valid_positions = None
        if validation_data is not None:
            X_valid = check_features(self, validation_data[0], reset=False, encoder=encoder)
            y_valid_raw = np.asarray(keep_label_types(validation_data[1])).ravel()
            y_valid = self._encode_target(y_valid_raw, fit=False)
        elif isinstance(self.validate, float):
            train_positions, valid_positions = holdout_positions(self, y_enc, seed)
            X_valid, y_valid = X_arr[valid_positions], y_enc[valid_positions]
            X_arr, y_enc = X_arr[train_positions], y_enc[train_positions]
            if weights is not None:
                weights = sample_weights(self, weights[train_positions], len(train_positions))
        make_tasks = None
        if task_train is None and encoder is not None:  # callbacks see the columns as given
            task_train, task_valid = frame_tasks(
                self, X, self._decode_target(y_all), train_positions, valid_positions, validation_data
            )
        elif task_train is None:  # the scikit-learn face: tasks from the arrays, built when read
            make_tasks = partial(
                self._array_tasks, X_arr, y_all, train_positions, valid_positions, validation_data, X_valid
            )
        elif train_positions is not None and valid_positions is not None:
            # train(task) with a held-out fraction: the tasks hold the rows each part got
            row_ids = task_train.row_ids
            task_valid = task_train.clone().filter([row_ids[i] for i in valid_positions])
            task_train = task_train.clone().filter([row_ids[i] for i in train_positions])
        return RunData.on_device(
            device, y_enc, y_valid, weights,
            x_train=torch.from_numpy(X_arr).to(device),
            x_valid=None if X_valid is None else torch.as_tensor(X_valid).to(device),
            seed=seed,
            task_train=task_train,
            task_valid=task_valid,
            make_tasks=make_tasks,
            encoding=None if encoder is None else encoder.to_dict(),
            n_features=X_arr.shape[1],
        )

    def _array_tasks(self, X_train: np.ndarray, y_encoded: torch.Tensor, *split: Any) -> tuple[Any, Any]:
        return array_tasks(self, X_train, self._decode_target(y_encoded), *split)

    def _check_weighted_target(self, y: torch.Tensor, weights: np.ndarray) -> None:
        """A hook for the task types: refuse weights that leave the target degenerate."""

    def _build_run(
        self, data: RunData, setup: _RunSetup, parallel: SingleProcess
    ) -> tuple[ContextTorch, list[CallbackSet]]:
        """The network, optimizer, loss, loaders and fresh callback instances of one run
        (of this rank's run: ``rank_zero_only`` callbacks exist on rank 0 only)."""
        previous, device = setup.previous, data.device
        if previous is not None:  # a copy: a failing continuation must not touch the old model
            network = copy.deepcopy(previous.network).to(device)
        else:
            # None only for a dict input, which only the module learner (typed for it) takes
            n_features = cast(int, data.n_features)
            network = self._build_network(n_features, self._n_outputs()).to(device)
            self._init_network(network, data.y_train)
        if data.input_names is not None:
            check_forward_args(self, network, data.input_names, data.input_origin)
        loader_valid = None
        if data.x_valid is not None and data.y_valid is not None:
            loader_valid = make_loader(self, data.x_valid, data.y_valid, device, data.seed, parallel=parallel)
        loss_fn = setup.loss.generate().to(device)
        if data.weight_train is not None:
            check_weighted_loss(loss_fn, setup.loss.id, self.id)
        train_loader = make_loader(
            self, data.x_train, data.y_train, device, data.seed, train=True, weight=data.weight_train,
            parallel=parallel,
        )
        ctx = ContextTorch(
            learner=self,
            task_train=data.task_train,
            task_valid=data.task_valid,
            network=network,
            optimizer=setup.optimizer.generate(network.parameters()),
            loss_fn=loss_fn,
            loader_train=train_loader,
            loader_valid=loader_valid,
            total_epochs=int(self.epochs) + (previous.epochs if previous is not None else 0),
            eval_freq=int(self.eval_freq),
            device=device,
            seed=data.seed,
            resumed_from=setup.resumed.folder if setup.resumed is not None else None,
            measures_train=self._training_measures(self.measures_train),
            measures_valid=self._training_measures(self.measures_valid),
            parallel=parallel,
            rank=parallel.rank,
            world_size=parallel.world_size,
        )
        # for callbacks that save the model before fit has finished (mlflow)
        ctx.snapshot_model = partial(self._finish_model, ctx, data=data)
        if data.make_tasks is not None:
            ctx.defer_tasks(data.make_tasks)
        on_this_rank = [tc for tc in setup.callbacks if parallel.rank == 0 or not tc.generator.rank_zero_only]
        return ctx, [tc.generate() for tc in on_this_rank]

    def _run_loop(
        self,
        ctx: ContextTorch,
        callbacks: list[CallbackSet],
        setup: _RunSetup,
        data: RunData,
    ) -> dict[str, Any]:
        """The training loop, started from the checkpoint or previous model if there is one."""
        restore: Any = None
        if setup.resumed is not None:
            restore = setup.resumed.restore
        elif setup.previous is not None:
            restore = warm_start_restorer(setup.previous)
        completed: list[int] = []
        try:
            return train_loop(
                ctx,
                callbacks,
                restore=restore,
                score=self._score_outputs,
                on_nonfinite=self.on_nonfinite,
                on_interrupt=completed.append,
            )
        except KeyboardInterrupt:
            try:
                states = collect_states(callbacks)
            except Exception:  # a callback that cannot report mid-run: keep the weights at least
                states = {}
            self.model_ = self._finish_model(ctx, states, data, interrupted_after=completed[0])
            raise

    def _finish_model(
        self,
        ctx: ContextTorch,
        states: dict[str, Any],
        data: RunData,
        interrupted_after: int | None = None,
    ) -> TorchModel:
        """The ``TorchModel`` of a finished run, or of one interrupted after
        ``interrupted_after`` completed epochs."""
        encoding = data.encoding
        # the width the network was built for, which loading builds again: the columns of a
        # table, else a row's first dimension (a lazy column of 4-vectors is 1 column, width 4)
        width = self.n_features_in_ if encoding is not None or data.n_features is None else data.n_features
        assert ctx.network is not None
        ctx.network.eval()
        interrupted = interrupted_after is not None
        return TorchModel(
            network=ctx.network,
            callbacks=states,
            epochs=interrupted_after if interrupted_after is not None else ctx.epoch,
            seed=int(ctx.seed or 0),
            optimizer=ctx.optimizer.state_dict() if ctx.optimizer is not None else None,
            loss_fn=ctx.loss_fn.state_dict() if ctx.loss_fn is not None else None,
            internal_valid_scores=ctx.last_scores_valid,
            feature_names=feature_names(self),
            n_features=width,
            classes=getattr(self, "classes_", None),
            task_type=self.task_type,
            interrupted=interrupted,
            encoding=encoding,
        )

    def _training_measures(self, measures: Any) -> list[Any]:
        """Measures scored during training; none unless asked for, checked for the task type."""
        return [] if measures is None else resolve_measures(measures, self.task_type)

    def _draw_seed(self) -> int:
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return int(rs)
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _score_outputs(
        self, ctx: ContextTorch, outputs: list[torch.Tensor], targets: list[torch.Tensor],
        measures: list[Any], weights: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Score network outputs collected in row order with mlr3 measures (``weights``:
        the rows' sample weights, which the measures then apply)."""
        output = torch.cat(outputs).detach().float().cpu()
        target = torch.cat(targets).cpu()
        truth = self._decode_target(target)
        prediction = self._make_prediction(range(len(truth)), truth, output, with_prob=True)
        prediction.weights = weights
        return {m.id: float(m.score(prediction)) for m in measures}

