"""Dotted parameters: ``opt.<p>``, ``loss.<p>``, ``cb.<id>.<p>`` and ``module.<arg>``.

scikit-learn routes parameters by name (``get_params`` / ``set_params``, ``Pipeline``'s
``step__param``, grid searches). The learner's own constructor takes only plain parameters;
the dotted ones live inside the descriptors those plain parameters hold (the optimizer, the
loss, each callback) and are routed here. Changing one copies its descriptor, so an object the
user passed in is never mutated.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, ClassVar

import pandas as pd
from sklearn.base import BaseEstimator

from mlrpy.callbacks import TorchCallback, as_torch_callbacks
from mlrpy.dictionary import suggest
from mlrpy.errors import ParameterError, UnknownKeyError
from mlrpy.learners.constraints import Constraint
from mlrpy.learners.torch_objects import as_torch_loss, as_torch_optimizer
from mlrpy.params import param_table

__all__ = ["DottedParams"]

_TABLE_COLUMNS = ["id", "value", "type", "lower", "upper", "default"]


def _as_list(x: Any) -> list[Any]:
    if x is None:
        return []
    if isinstance(x, (str, TorchCallback, type)):
        return [x]
    return list(x)


class DottedParams(BaseEstimator):
    """``get_params`` / ``set_params`` / ``param_set`` over plain and dotted parameters."""

    #: plain parameter name → what it accepts (see :mod:`mlrpy.learners.constraints`)
    _parameter_constraints: ClassVar[dict[str, Constraint]] = {}
    _default_loss: ClassVar[str] = ""
    optimizer: Any
    loss: Any
    callbacks: Any

    @classmethod
    def _get_param_names(cls) -> list[str]:
        # scikit-learn reads the constructor's signature in every get_params and set_params
        # (~60 µs, part of every lrn() and clone()); a class's signature does not change,
        # so it is read once per class and kept on that class itself, not on its subclasses
        names = cls.__dict__.get("_constructor_param_names")
        if names is None:
            names = tuple(super()._get_param_names())
            cls._constructor_param_names = names  # type: ignore[attr-defined]
        return list(names)

    @property
    def id(self) -> str:  # pragma: no cover - LearnerTorch defines it
        return type(self).__name__

    def deep_descriptors(self) -> dict[str, Any]:
        """Prefix → descriptor for every group of dotted parameters.

        Example:
            >>> from mlrpy import lrn
            >>> sorted(lrn("classif.mlp", callbacks=["history"]).deep_descriptors())
            ['cb.history.', 'loss.', 'opt.']
        """
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
                descriptors = self.deep_descriptors()
            except (ParameterError, UnknownKeyError, TypeError):
                return params  # an invalid plain value (e.g. optimizer=-1) is reported by fit
            for prefix, desc in descriptors.items():
                for name, value in desc.get_values().items():
                    params[prefix + name] = value
        return params

    def set_params(self, **params: Any) -> Any:
        """Set plain and dotted parameters; returns the learner.

        All values are checked before any is applied: if one name is unknown or one dotted
        value is invalid, the learner is left exactly as it was. A dotted parameter copies the
        descriptor it belongs to, so a ``TorchCallback`` or ``t_opt()`` object the user passed
        in is never changed. Plain values are validated by ``fit``, as scikit-learn requires.

        Example:
            >>> from mlrpy import lrn
            >>> learner = lrn("classif.mlp").set_params(epochs=3, **{"opt.lr": 0.05})
            >>> learner.epochs, learner.get_params()["opt.lr"]
            (3, 0.05)
        """
        plain = {k: v for k, v in params.items() if "." not in k}
        dotted = {k: v for k, v in params.items() if "." in k}
        valid = super().get_params(deep=False)
        for key in plain:
            if key not in valid:
                raise UnknownKeyError(
                    f"Learner '{self.id}': '{key}' is not a parameter.{suggest(key, valid)} "
                    f"Valid: {', '.join(valid)}; dotted: opt.<p>, loss.<p>, cb.<id>.<p>"
                )
        staged = copy.copy(self)  # shallow: the new values are staged here first
        for key, value in plain.items():
            setattr(staged, key, value)
        if dotted:
            staged._set_dotted(dotted)
        for key in valid:
            setattr(self, key, getattr(staged, key))
        return self

    def _set_dotted(self, dotted: dict[str, Any]) -> None:
        descriptors = self.deep_descriptors()
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
        """Every parameter (plain and dotted) with its value, type, bounds and default.

        Plain parameters take type and bounds from the learner's constraints, dotted ones from
        their descriptor's pydantic schema.

        Example:
            >>> from mlrpy import lrn
            >>> ps = lrn("classif.mlp").param_set.set_index("id")
            >>> ps.loc["epochs", ["type", "lower", "default"]].tolist()
            ['int', 0, 20]
            >>> ps.loc["opt.lr", "type"]
            'float'
        """
        signature = inspect.signature(type(self).__init__).parameters
        rows = []
        for name, value in super().get_params(deep=False).items():
            constraint = self._parameter_constraints.get(name)
            default = signature[name].default if name in signature else None
            rows.append({
                "id": name,
                "value": value,
                "type": constraint.type_name if constraint is not None else "any",
                "lower": constraint.lower if constraint is not None else None,
                "upper": constraint.upper if constraint is not None else None,
                "default": default,
            })
        frames = [pd.DataFrame(rows, columns=_TABLE_COLUMNS, dtype=object)]
        for prefix, desc in self.deep_descriptors().items():
            table = param_table(desc.param_set, desc.get_values())
            table["id"] = prefix + table["id"]
            frames.append(table[_TABLE_COLUMNS])
        return pd.concat(frames, ignore_index=True)
