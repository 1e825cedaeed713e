"""The learner registry ``mlr_learners`` and its sugar ``lrn()`` / ``lrns()``.

Each learner module registers its classes at its bottom with :func:`register_learner`, so
adding a learner touches one file (plus its test).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from mlrpy.dictionary import Dictionary, suggest
from mlrpy.errors import UnknownKeyError

__all__ = ["lrn", "lrns", "mlr_learners", "register_learner"]


def _describe(key: str, learner: Any) -> dict[str, Any]:
    return {
        "class": type(learner).__name__,
        "task_type": learner.task_type,
        "predict_types": ",".join(learner._predict_types),
    }


mlr_learners: Dictionary[Any] = Dictionary("mlr_learners", describe=_describe)


def register_learner(cls: type) -> type:
    """Add ``cls`` to :data:`mlr_learners` under its ``_key``; returns ``cls`` (a decorator).

    ``lrn(key, **params)`` then builds it: plain parameters go to the constructor (an unknown
    name is an :class:`UnknownKeyError` suggesting the closest), dotted ones to ``set_params``.
    """
    valid = [n for n in inspect.signature(cls.__init__).parameters if n != "self"]  # type: ignore[misc]

    def make(**params: Any) -> Any:
        plain = {k: v for k, v in params.items() if "." not in k}
        dotted = {k: v for k, v in params.items() if "." in k}
        for key in plain:
            if key not in valid:
                raise UnknownKeyError(
                    f"Learner '{cls._key}': '{key}' is not a parameter.{suggest(key, valid)} "  # type: ignore[attr-defined]
                    f"Valid: {', '.join(valid)}; dotted: opt.<p>, loss.<p>, cb.<id>.<p>"
                )
        learner = cls(**plain)
        if dotted:
            learner.set_params(**dotted)
        return learner

    make.__name__ = f"make_{cls.__name__}"
    mlr_learners.add(cls._key, make)  # type: ignore[attr-defined]
    return cls


def lrn(key: str, **params: Any) -> Any:
    """A fresh learner from :data:`mlr_learners`; keywords set plain and dotted parameters.

    Example:
        >>> from mlrpy import lrn
        >>> learner = lrn("classif.mlp", epochs=5, **{"opt.lr": 0.01})
        >>> learner.get_params()["opt.lr"], learner.epochs
        (0.01, 5)
    """
    return mlr_learners.get(key, **params)


def lrns(keys: Iterable[str], **params: Any) -> list[Any]:
    """Several learners, each configured with ``params``."""
    return mlr_learners.mget(keys, **params)
