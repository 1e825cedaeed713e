"""Tuners: how :func:`~mlrpy.tuning.tune` chooses the configurations to evaluate.

* ``"grid_search"`` (``"grid"``): every combination, ``resolution`` points per range;
* ``"random_search"`` (``"random"``): ``n_evals`` configurations drawn from
  ``numpy.random.default_rng(random_state)``;
* ``"optuna"``: ``n_trials`` configurations proposed one after the other by an optuna
  sampler, with optional pruning (:mod:`mlrpy.tuning.optuna_tuner`).

Grid and random search know all configurations in advance and evaluate them in parallel
(``n_jobs``); optuna proposes each one from the results so far.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from mlrpy.dictionary import suggest
from mlrpy.errors import ParameterError
from mlrpy.tuning.space import SearchDim

__all__ = ["TUNERS", "configurations", "tuner_key"]

#: tuner key -> the names it may be given by
TUNERS: dict[str, tuple[str, ...]] = {
    "grid_search": ("grid_search", "grid"),
    "random_search": ("random_search", "random"),
    "optuna": ("optuna",),
}


def tuner_key(name: Any) -> str:
    """The tuner's key for any of its names.

    Example:
        >>> from mlrpy.tuning.tuners import tuner_key
        >>> tuner_key("grid"), tuner_key("random_search")
        ('grid_search', 'random_search')
    """
    for key, names in TUNERS.items():
        if isinstance(name, str) and name in names:
            return key
    valid = [n for names in TUNERS.values() for n in names]
    raise ParameterError(
        f"tune(): unknown tuner {name!r}.{suggest(str(name), valid)} Valid: {', '.join(valid)}"
    )


def configurations(
    dims: list[SearchDim], tuner: str, resolution: int, n_evals: int, random_state: Any
) -> list[dict[str, Any]]:
    """The configurations grid or random search evaluates, in order.

    Example:
        >>> from mlrpy.tuning.space import SearchDim
        >>> from mlrpy.tuning.tuners import configurations
        >>> configurations([SearchDim("p", choices=[0.1, 0.2]), SearchDim("q", choices=["a"])],
        ...                "grid_search", 3, 0, None)
        [{'p': 0.1, 'q': 'a'}, {'p': 0.2, 'q': 'a'}]
    """
    if tuner == "grid_search":
        grids = [d.grid(resolution) for d in dims]
        return [dict(zip([d.name for d in dims], combo)) for combo in itertools.product(*grids)]
    rng = np.random.default_rng(random_state)
    return [{d.name: d.sample(rng) for d in dims} for _ in range(n_evals)]
