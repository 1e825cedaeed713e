"""The registry :data:`mlr_resamplings` and its sugar :func:`rsmp`, :func:`rsmps`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlrpy.dictionary import Dictionary
from mlrpy.resampling.base import Resampling
from mlrpy.resampling.fixed import ResamplingCustom, ResamplingInsample, ResamplingLOO
from mlrpy.resampling.splitters import ResamplingSklearn
from mlrpy.resampling.strategies import (
    ResamplingBootstrap,
    ResamplingCV,
    ResamplingHoldout,
    ResamplingRepeatedCV,
    ResamplingSubsampling,
)

__all__ = ["mlr_resamplings", "rsmp", "rsmps"]


_CLASSES: list[type[Resampling]] = [
    ResamplingBootstrap,
    ResamplingCustom,
    ResamplingCV,
    ResamplingHoldout,
    ResamplingInsample,
    ResamplingLOO,
    ResamplingRepeatedCV,
    ResamplingSklearn,
    ResamplingSubsampling,
]


def _describe_resampling(key: str, r: Resampling) -> dict[str, Any]:
    return {"label": r.label, "params": list(r.param_values)}


mlr_resamplings: Dictionary[Resampling] = Dictionary(
    "mlr_resamplings", describe=_describe_resampling
)
"""The registry of resampling strategies; ``mlr_resamplings.as_frame()`` lists them."""


def _factory(cls: type[Resampling]) -> Any:
    def make(**params: Any) -> Resampling:
        return cls(**params)

    make.__doc__ = f"A fresh {cls.__name__}."
    return make


for _cls in _CLASSES:
    mlr_resamplings.add(_cls.key, _factory(_cls))


def rsmp(key: str, **params: Any) -> Resampling:
    """A fresh resampling from :data:`mlr_resamplings`; keyword arguments set parameters.

    Example:
        >>> from mlrpy.resampling import rsmp
        >>> rsmp("cv", folds=3)
        <ResamplingCV:cv> Cross-Validation
        * Iterations: 3
        * Instantiated: False
        * Parameters: folds=3, stratify=True, seed=None
        >>> rsmp("cv", folds=1)
        Traceback (most recent call last):
        ...
        mlrpy.errors.ParameterError: Resampling 'cv': invalid value for parameter 'folds': 1 \
(Input should be greater than or equal to 2)
    """
    return mlr_resamplings.get(key, **params)


def rsmps(keys: Sequence[str], **params: Any) -> list[Resampling]:
    """Several fresh resamplings, each with the parameters ``params``.

    Example:
        >>> from mlrpy.resampling import rsmps
        >>> [r.id for r in rsmps(["holdout", "cv"])]
        ['holdout', 'cv']
    """
    if isinstance(keys, str):
        keys = [keys]
    return mlr_resamplings.mget(keys, **params)
