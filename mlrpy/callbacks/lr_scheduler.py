"""Learning-rate schedules as callbacks: the shared base class and :func:`as_lr_scheduler`.

The built-ins (``lr_step``, ``lr_multiplicative``, ``lr_lambda``, ``lr_cosine_annealing``,
``lr_one_cycle``, ``lr_reduce_on_plateau``) each live in their own module and derive from
:class:`CallbackSetLRScheduler`; :func:`as_lr_scheduler` wraps any other
``torch.optim.lr_scheduler`` class.
"""

from __future__ import annotations

import collections.abc
import copy
import inspect
import re
import sys
import typing
from typing import Any, ClassVar

import torch
from pydantic import create_model

from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.history import log_to_history
from mlrpy.callbacks.monitor import resolve_monitor
from mlrpy.errors import ParameterError
from mlrpy.params import ParamModel

__all__ = [
    "CallbackSetLRScheduler",
    "CallbackSetLRSchedulerPerBatch",
    "Factors",
    "as_lr_scheduler",
    "scheduler_param_set",
    "unwrap_optimizer",
]

_ReduceLROnPlateau = torch.optim.lr_scheduler.ReduceLROnPlateau

#: ``lr_lambda`` of ``LambdaLR`` and ``MultiplicativeLR``: one function of the epoch count, or
#: one per parameter group
Factors = collections.abc.Callable[[int], float] | list[collections.abc.Callable[[int], float]]


def unwrap_optimizer(optimizer: Any) -> Any:
    """The ``torch.optim.Optimizer`` behind ``optimizer``.

    A callback may replace ``ctx.optimizer`` by a thin wrapper (``mixed_precision`` does, to
    step through a grad scaler); wrappers expose the wrapped optimizer as ``.optimizer``.
    """
    seen = 0
    while not isinstance(optimizer, torch.optim.Optimizer) and hasattr(optimizer, "optimizer"):
        optimizer = optimizer.optimizer
        seen += 1
        if seen > 16:
            break
    return optimizer


class CallbackSetLRScheduler(CallbackSet):
    """Base of the learning-rate schedule callbacks.

    Subclasses set :attr:`scheduler_class` (a ``torch.optim.lr_scheduler`` class) and
    :attr:`step_on_epoch`. The constructor's keyword arguments are passed to the scheduler.

    * ``on_begin`` builds the scheduler on the run's optimizer (restoring a loaded state,
      and the optimizer's learning rates and momenta, which building a scheduler resets);
    * ``on_epoch_begin`` records the learning rate of the first parameter group, which
      ``on_before_valid`` logs as the ``lr`` column of ``history`` (when present);
    * the scheduler steps in ``on_epoch_end`` (``step_on_epoch=True``) or in
      ``on_batch_end`` (:class:`CallbackSetLRSchedulerPerBatch`).
      ``ReduceLROnPlateau`` steps with the first validation measure (or the validation
      loss when no measure is set), only in epochs with validation (see
      :func:`mlrpy.callbacks.monitor.resolve_monitor`).

    State: the scheduler's ``state_dict()``.
    """

    reads: ClassVar[tuple[str, ...]] = ("epoch", "optimizer", "last_scores_valid")
    writes: ClassVar[tuple[str, ...]] = ("optimizer",)

    scheduler_class: ClassVar[type[Any] | None] = None
    step_on_epoch: ClassVar[bool] = True

    def __init__(self, **scheduler_args: Any) -> None:
        self.scheduler_args = scheduler_args
        self.scheduler: Any = None
        self.epoch_lr: float | None = None
        self._metric: str | None = None
        self._pending_state: Any = None

    # -- building ---------------------------------------------------------------------------
    def _make_scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        cls = type(self).scheduler_class
        if cls is None:
            raise ParameterError(f"Callback '{self.id}': no scheduler_class set")
        args = dict(self.scheduler_args)
        if issubclass(cls, _ReduceLROnPlateau):
            args = self._plateau_args(args)
        return cls(optimizer, **args)

    def _plateau_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """``ReduceLROnPlateau``'s arguments for this run; sets the watched score."""
        self._metric, minimize = resolve_monitor(self.ctx, self.id, None)
        if args.get("mode") in (None, "auto"):
            args["mode"] = "min" if minimize else "max"
        return args

    def on_begin(self) -> None:
        optimizer = unwrap_optimizer(self.ctx.optimizer)
        # Building a scheduler rewrites the optimizer's learning rates (and OneCycleLR its
        # momenta) to the schedule's start; a restored run must keep the restored values.
        restored = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        self.scheduler = self._make_scheduler(optimizer)
        if self._pending_state is not None:
            self.scheduler.load_state_dict(self._pending_state)
            self._pending_state = None
            for group, values in zip(optimizer.param_groups, restored):
                group.update(values)

    # -- stepping ---------------------------------------------------------------------------
    def on_epoch_begin(self) -> None:
        self.epoch_lr = float(unwrap_optimizer(self.ctx.optimizer).param_groups[0]["lr"])

    def on_before_valid(self) -> None:
        log_to_history(self.ctx, "lr", self.epoch_lr)

    def _step(self) -> None:
        if isinstance(self.scheduler, _ReduceLROnPlateau):
            scores = self.ctx.last_scores_valid
            if scores is None:  # not an evaluation epoch
                return
            key = self._metric if self._metric in scores else "loss"
            self.scheduler.step(scores[key])
        else:
            self.scheduler.step()

    def on_epoch_end(self) -> None:
        if type(self).step_on_epoch:
            self._step()

    # -- state ------------------------------------------------------------------------------
    def state_dict(self) -> Any:
        if self.scheduler is None:
            return self._pending_state
        return copy.deepcopy(self.scheduler.state_dict())

    def load_state_dict(self, state: Any) -> None:
        # applied in on_begin, once the scheduler exists
        self._pending_state = state


class CallbackSetLRSchedulerPerBatch(CallbackSetLRScheduler):
    """A learning-rate schedule that steps after every optimizer step (``on_batch_end``)."""

    step_on_epoch: ClassVar[bool] = False

    def on_batch_end(self) -> None:
        self._step()


# -- as_lr_scheduler ----------------------------------------------------------------------------
_SKIP = ("self", "optimizer", "last_epoch", "verbose")
_ANNOTATION_NAMES: dict[str, Any] = {
    "Any": Any,
    "Callable": collections.abc.Callable,
    "Iterable": list,  # a validated list, not a one-shot iterator
    "Sequence": list,
    "Literal": typing.Literal,
    "Optional": typing.Optional,
    "Union": typing.Union,
}


def _resolve_annotation(annotation: Any, namespace: dict[str, Any]) -> Any:
    if annotation is inspect.Parameter.empty:
        return Any
    if isinstance(annotation, str):
        try:
            return eval(annotation, namespace)
        except Exception:
            return Any
    return annotation


def scheduler_param_set(scheduler_class: type[Any]) -> type[ParamModel]:
    """A parameter set inferred from a scheduler's signature.

    Leaves out ``optimizer`` (the run's optimizer is used), ``last_epoch`` (resuming goes
    through the callback's state) and ``verbose``. Annotations become types (``Iterable[int]``
    becomes ``list[int]``), defaults stay, no default means required.
    """
    module = sys.modules.get(scheduler_class.__module__)
    namespace = {**(vars(module) if module else {}), **_ANNOTATION_NAMES}
    fields: dict[str, Any] = {}
    for name, p in inspect.signature(scheduler_class.__init__).parameters.items():
        if name in _SKIP or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        annotation = _resolve_annotation(p.annotation, namespace)
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[name] = (annotation, default)
    return create_model(f"{scheduler_class.__name__}Params", __base__=ParamModel, **fields)


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", name)


def default_scheduler_id(scheduler_class: type[Any]) -> str:
    """``lr_`` plus the class name in snake case without ``LR``: ``ExponentialLR`` → ``lr_exponential``."""
    words = [w.lower() for w in _words(scheduler_class.__name__) if w != "LR"]
    return "lr_" + "_".join(words or ["scheduler"])


_GENERATED: dict[tuple[type[Any], bool], type[CallbackSetLRScheduler]] = {}
_PARAM_SETS: dict[type[Any], type[ParamModel]] = {}


def _generator_for(scheduler_class: type[Any], step_on_epoch: bool) -> type[CallbackSetLRScheduler]:
    key = (scheduler_class, step_on_epoch)
    if key not in _GENERATED:
        parent = CallbackSetLRScheduler if step_on_epoch else CallbackSetLRSchedulerPerBatch
        base = scheduler_class.__name__
        base = base[:-2] if base.endswith("LR") and len(base) > 2 else base
        name = f"CallbackSetLR{base}" + ("" if step_on_epoch else "PerBatch")
        _GENERATED[key] = type(
            name,
            (parent,),
            {
                "scheduler_class": scheduler_class,
                "__module__": __name__,
                "__qualname__": name,
                "__doc__": (
                    f"Learning-rate schedule ``{scheduler_class.__module__}.{scheduler_class.__name__}``"
                    f", stepped {'every epoch' if step_on_epoch else 'every batch'}; see "
                    f":class:`CallbackSetLRScheduler`."
                ),
            },
        )
    if scheduler_class not in _PARAM_SETS:
        _PARAM_SETS[scheduler_class] = scheduler_param_set(scheduler_class)
    return _GENERATED[key]


class _LRSchedulerCallback(TorchCallback):
    """A :class:`TorchCallback` made by :func:`as_lr_scheduler`; pickles by rebuilding its
    generated generator class."""

    scheduler_class: type[Any]
    step_on_epoch: bool

    def __reduce__(self) -> Any:
        state = {k: v for k, v in self.__dict__.items() if k not in ("generator", "param_set")}
        return (_rebuild_lr_scheduler, (self.scheduler_class, self.step_on_epoch, state))


def _rebuild_lr_scheduler(
    scheduler_class: type[Any], step_on_epoch: bool, state: dict[str, Any]
) -> _LRSchedulerCallback:
    tc = as_lr_scheduler(scheduler_class, step_on_epoch=step_on_epoch, id=state["id"])
    tc.__dict__.update(state)
    return tc  # type: ignore[return-value]


def as_lr_scheduler(
    scheduler_class: type[Any], step_on_epoch: bool = True, id: str | None = None
) -> TorchCallback:
    """Wrap any ``torch.optim.lr_scheduler`` class as a callback.

    Args:
        scheduler_class: a scheduler class taking the optimizer as first argument, e.g.
            ``torch.optim.lr_scheduler.ExponentialLR``.
        step_on_epoch: step after every epoch (``True``) or after every batch (``False``).
        id: the callback id; default ``lr_`` plus the class name in snake case without
            ``LR`` (``ExponentialLR`` → ``lr_exponential``).

    The parameters are inferred from the scheduler's signature (without ``optimizer``,
    ``last_epoch`` and ``verbose``), keep torch's names and are validated by type.

    Example:
        >>> import torch
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.callbacks import as_lr_scheduler
        >>> cb = as_lr_scheduler(torch.optim.lr_scheduler.ExponentialLR)
        >>> cb.id, list(cb.param_set.model_fields)
        ('lr_exponential', ['gamma'])
        >>> learner = lrn("classif.mlp", epochs=3, callbacks=[cb, "history"], random_state=0,
        ...               **{"cb.lr_exponential.gamma": 0.5, "opt.lr": 0.1})
        >>> learner.train(tsk("iris")).model.callbacks["history"]["lr"].tolist()
        [0.1, 0.05, 0.025]
    """
    takes_optimizer = isinstance(scheduler_class, type) and "optimizer" in inspect.signature(
        scheduler_class
    ).parameters
    if not takes_optimizer:
        raise ParameterError(
            f"as_lr_scheduler() needs a learning-rate scheduler class whose constructor takes "
            f"'optimizer', got {scheduler_class!r}"
        )
    if not isinstance(step_on_epoch, bool):
        raise ParameterError(f"as_lr_scheduler(): step_on_epoch must be True or False, got {step_on_epoch!r}")
    generator = _generator_for(scheduler_class, step_on_epoch)
    tc = _LRSchedulerCallback(
        id or default_scheduler_id(scheduler_class),
        generator,
        param_set=_PARAM_SETS[scheduler_class],
        label=f"LR Scheduler {scheduler_class.__name__}",
    )
    tc.scheduler_class = scheduler_class
    tc.step_on_epoch = step_on_epoch
    return tc
