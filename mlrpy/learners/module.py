"""``classif.module`` / ``regr.module``: train any ``torch.nn.Module``.

``module`` is a class (or a callable returning a module), whose constructor arguments are
deep parameters ``module.<arg>`` (``n_features`` and ``n_outputs`` are filled from the
training data unless set), or an instance, which every fit deep-copies so that the user's
object stays untouched and ``clone`` / grid search start each fit from the same weights.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import weakref
from typing import Any, ClassVar

import torch
from pydantic import BaseModel, create_model

from mlrpy.errors import ParameterError
from mlrpy.learners.base import LearnerTorch
from mlrpy.learners.classif import LearnerTorchClassif
from mlrpy.learners.common import COMMON_PARAMS_DOC, SHARED_CONSTRAINTS, store_params
from mlrpy.learners.constraints import AnyValue, Constraint
from mlrpy.learners.registry import register_learner
from mlrpy.learners.regr import LearnerTorchRegr
from mlrpy.learners.tabular import TABULAR_FEATURE_TYPES
from mlrpy.params import Configurable, ParamModel, infer_param_set

_AUTO_ARGS = ("n_features", "n_outputs")


_PARAM_SETS: weakref.WeakKeyDictionary[Any, type[BaseModel]] = weakref.WeakKeyDictionary()


def _module_param_set(module: Any) -> type[BaseModel]:
    """The module constructor's parameter set, inferred once per module class."""
    try:
        return _PARAM_SETS[module]
    except (KeyError, TypeError):
        pass
    if isinstance(module, torch.nn.Module):  # an instance is built already: no arguments
        return infer_param_set(lambda: None, "InstanceParams")
    init = module.__init__ if isinstance(module, type) else module  # type: ignore[misc]
    name = f"{getattr(module, '__name__', 'Module')}Params"
    inferred = infer_param_set(init, name, skip=("self", *_AUTO_ARGS))
    # n_features / n_outputs are optional: filled from the data when not set
    auto = {name: (int | None, None) for name in _AUTO_ARGS if name in inspect.signature(init).parameters}
    param_set = create_model(inferred.__name__, __base__=inferred, **auto) if auto else inferred  # type: ignore[call-overload]
    with contextlib.suppress(TypeError):  # not weak-referenceable: just not cached
        _PARAM_SETS[module] = param_set
    return param_set


class ModuleSpec(Configurable):
    """The module constructor and its argument values, addressed as ``module.<arg>``."""

    kind = "module"

    def __init__(self, module: Any, values: dict[str, Any] | None = None) -> None:
        if not callable(module):
            raise ParameterError(
                f"'module' must be an nn.Module subclass, an nn.Module instance or a callable "
                f"returning a module, got {module!r}"
            )
        self.id = "module"
        self.module = module
        self.param_set = _module_param_set(module)
        self.param_values: dict[str, Any] = {}
        if values:
            self.set_values(**values)

    @property
    def key_prefix(self) -> str:
        return "module."

    def build(self, n_features: int | None, n_outputs: int) -> torch.nn.Module:
        if isinstance(self.module, torch.nn.Module):
            return copy.deepcopy(self.module)
        values = self.validated_values()
        for name, value in (("n_features", n_features), ("n_outputs", n_outputs)):
            if name in values and values[name] is None and value is not None:
                values[name] = value
        net = self.module(**values)
        if not isinstance(net, torch.nn.Module):
            raise ParameterError(f"'module' must build a torch.nn.Module, got {type(net).__name__}")
        return net


class LearnerTorchModule(LearnerTorch):
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        **SHARED_CONSTRAINTS,
        "module": AnyValue("an nn.Module subclass or instance, or a callable returning a module"),
        "module_args": AnyValue("None or a dict of the module's constructor arguments"),
        "ingress": AnyValue("None or a dict of forward argument name -> list of column names"),
    }
    #: takes N-D arrays and dicts of inputs besides tables (see :mod:`mlrpy.learners.sources`)
    accepts_tensors: ClassVar[bool] = True
    feature_types: ClassVar[tuple[str, ...]] = (*TABULAR_FEATURE_TYPES, "lazy_tensor")
    __doc__ = f"""Train a user-supplied ``torch.nn.Module``.

    Besides tables it trains on N-D arrays (e.g. images ``(n, c, h, w)``), dicts of arrays
    (``network(**batch.x)``) and ``torch.utils.data.Dataset`` objects; see the user guide's
    "Datasets, images and several inputs".

    Architecture parameters:
        module: an ``nn.Module`` subclass (or a callable returning a module), or an instance,
            deep-copied by every fit. A class's constructor arguments become deep parameters
            ``module.<arg>``; ``n_features`` (the size of a row's first dimension: columns,
            or an image's channels) / ``n_outputs`` are filled from the data when present and
            not set.
        module_args: the values of those arguments (usually set as ``module.<arg>``).
        ingress: ``None``, or a dict mapping ``forward`` argument names to columns of the
            table or task, e.g. ``{{"image": ["img"], "num": ["age", "income"]}}``: each
            batch's ``x`` is then a dict with one tensor per entry and the network is called
            ``network(**batch.x)``.
{COMMON_PARAMS_DOC}
    Example:
        >>> import torch
        >>> from mlrpy import lrn, tsk
        >>> class Net(torch.nn.Module):
        ...     def __init__(self, n_features: int, n_outputs: int, hidden: int = 16):
        ...         super().__init__()
        ...         self.body = torch.nn.Sequential(torch.nn.Linear(n_features, hidden),
        ...                                         torch.nn.ReLU(),
        ...                                         torch.nn.Linear(hidden, n_outputs))
        ...     def forward(self, x):
        ...         return self.body(x)
        >>> learner = lrn("classif.module", module=Net, epochs=2, random_state=0,
        ...               **{{"module.hidden": 8}})
        >>> learner.get_params()["module.hidden"]
        8
        >>> _ = learner.train(tsk("iris"))
    """

    def __init__(
        self,
        *,
        module: Any = None,
        module_args: dict[str, Any] | None = None,
        ingress: dict[str, list[str]] | None = None,
        epochs: int = 20,
        batch_size: int = 32,
        optimizer: Any = "adam",
        loss: Any = None,
        callbacks: Any = None,
        device: str | torch.device = "auto",
        num_threads: int | None = None,
        random_state: Any = None,
        shuffle: bool = True,
        eval_freq: int = 1,
        predict_type: str = "response",
        validate: Any = None,
        measures_train: Any = None,
        measures_valid: Any = None,
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        warm_start: bool = False,
        resume: Any = None,
        on_nonfinite: str = "raise",
        num_workers: int = 0,
        pin_memory: bool = False,
        drop_last: bool = False,
        batch_size_predict: int | None = None,
        strategy: str | None = None,
        devices: int = 1,
        backend: str | None = None,
    ) -> None:
        store_params(self, locals())

    def _module_spec(self) -> ModuleSpec:
        if self.module is None:
            raise ParameterError(f"Learner '{self.id}': set 'module' to an nn.Module class")
        return ModuleSpec(self.module, self.module_args)

    def deep_descriptors(self) -> dict[str, Any]:
        out = super().deep_descriptors()
        if self.module is not None:
            out["module."] = self._module_spec()
        return out

    def _replace_descriptor(self, prefix: str, new: Any) -> None:
        if prefix == "module.":
            self.module_args = dict(new.param_values)
        else:
            super()._replace_descriptor(prefix, new)

    def _build_network(self, n_features: int | None, n_outputs: int) -> torch.nn.Module:  # type: ignore[override]
        return self._module_spec().build(n_features, n_outputs)


@register_learner
class LearnerTorchClassifModule(LearnerTorchClassif, LearnerTorchModule):
    _key = "classif.module"


@register_learner
class LearnerTorchRegrModule(LearnerTorchRegr, LearnerTorchModule):
    _key = "regr.module"


__all__ = [
    "LearnerTorchClassifModule",
    "LearnerTorchModule",
    "LearnerTorchRegrModule",
    "ModuleSpec",
    "ParamModel",
]
