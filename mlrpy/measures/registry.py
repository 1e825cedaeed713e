"""The measure registry :data:`mlr_measures` and the functions that look measures up."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlrpy.dictionary import Dictionary, duplicated, suggest
from mlrpy.errors import ParameterError
from mlrpy.measures.base import Measure, MeasureSpec
from mlrpy.measures.classif import CLASSIF_SPECS
from mlrpy.measures.regr import REGR_SPECS
from mlrpy.measures.scorers import MeasureSklearn, is_scorer_name
from mlrpy.prediction import Prediction

__all__ = [
    "as_measure",
    "as_measures",
    "default_measure",
    "mlr_measures",
    "msr",
    "msrs",
    "resolve_measures",
    "score_prediction",
]

_SPECS: dict[str, MeasureSpec] = {**CLASSIF_SPECS, **REGR_SPECS}
_SETTABLE = ("id", "label")


def _factory(key: str) -> Callable[..., Measure]:
    label, task_type, predict_type, fun, minimize, rng = _SPECS[key]

    def make(**kwargs: Any) -> Measure:
        unknown = [k for k in kwargs if k not in _SETTABLE]
        if unknown:
            raise ParameterError(
                f"Measure '{key}': unknown argument '{unknown[0]}'."
                f"{suggest(unknown[0], _SETTABLE)} Settable: {', '.join(_SETTABLE)}"
            )
        return Measure(
            id=kwargs.get("id", key),
            task_type=task_type,
            predict_type=predict_type,
            fun=fun,
            minimize=minimize,
            range=rng,
            label=kwargs.get("label", label),
        )

    make.__doc__ = f"A fresh '{key}' measure ({label})."
    return make


def _describe_measure(key: str, m: Measure) -> dict[str, Any]:
    return {
        "label": m.label,
        "task_type": m.task_type,
        "predict_type": m.predict_type,
        "minimize": m.minimize,
    }


mlr_measures: Dictionary[Measure] = Dictionary("mlr_measures", describe=_describe_measure)
"""The registry of measures; ``mlr_measures.as_frame()`` lists them."""

for _key in _SPECS:
    mlr_measures.add(_key, _factory(_key))


# -- sugar -----------------------------------------------------------------------------------
def msr(key: str, **kwargs: Any) -> Measure:
    """A fresh measure from :data:`mlr_measures`; ``id`` and ``label`` may be overridden.

    ``msr("sklearn", scorer=..., task_type=None, id=None, label=None)`` wraps a scikit-learn
    scorer (see :mod:`mlrpy.measures.scorers`); it is not listed in :data:`mlr_measures`,
    which holds measures that work without arguments. A key that is not registered but is a
    scikit-learn scorer name, such as ``"neg_log_loss"``, is short for
    ``msr("sklearn", scorer=key)``.

    Example:
        >>> from mlrpy.measures import msr
        >>> msr("classif.acc")
        <Measure:classif.acc> Classification Accuracy (task_type=classif, \
predict_type=response, maximize, range=[0, 1])
        >>> msr("regr.rmse", id="rmse").id
        'rmse'
        >>> msr("r2").id, msr("r2").task_type
        ('sklearn.r2', 'regr')
    """
    if key == "sklearn":
        if kwargs.get("scorer") is None:
            raise ParameterError(
                "msr('sklearn') needs scorer=<scorer name or scorer>, e.g. "
                "msr('sklearn', scorer='neg_log_loss'); see sklearn.metrics.get_scorer_names()"
            )
        return MeasureSklearn(**kwargs)
    if isinstance(key, str) and key not in mlr_measures and is_scorer_name(key):
        return MeasureSklearn(scorer=key, **kwargs)
    return mlr_measures.get(key, **kwargs)


def msrs(keys: Sequence[str]) -> list[Measure]:
    """Several fresh measures from :data:`mlr_measures`.

    Example:
        >>> from mlrpy.measures import msrs
        >>> [m.id for m in msrs(["classif.acc", "classif.auc"])]
        ['classif.acc', 'classif.auc']
    """
    if isinstance(keys, str):
        keys = [keys]
    return [msr(k) for k in keys]


def as_measure(x: str | Measure) -> Measure:
    """Turn a registry key or a :class:`Measure` into a :class:`Measure`.

    A :class:`Measure` is returned as is (not copied).

    Example:
        >>> from mlrpy.measures import as_measure, msr
        >>> as_measure("regr.mse").id
        'regr.mse'
        >>> m = msr("regr.mae")
        >>> as_measure(m) is m
        True
    """
    if isinstance(x, Measure):
        return x
    if isinstance(x, str):
        return msr(x)
    raise TypeError(f"Expected a measure key (str) or a Measure, got {type(x).__name__} {x!r}")


def as_measures(
    x: str | Measure | Sequence[str | Measure] | None, task_type: str | None = None
) -> list[Measure]:
    """Turn ``None``, a key, a :class:`Measure` or a list of them into a list of measures.

    ``None`` gives ``[default_measure(task_type)]`` if ``task_type`` is given, else ``[]``.

    Example:
        >>> from mlrpy.measures import as_measures, msr
        >>> [m.id for m in as_measures(["classif.acc", msr("classif.ce")])]
        ['classif.acc', 'classif.ce']
        >>> [m.id for m in as_measures(None, task_type="regr")]
        ['regr.mse']
        >>> as_measures(None)
        []
    """
    if x is None:
        return [default_measure(task_type)] if task_type is not None else []
    if isinstance(x, (str, Measure)):
        return [as_measure(x)]
    if isinstance(x, (list, tuple)):
        return [as_measure(m) for m in x]
    raise TypeError(
        "Expected a measure key, a Measure, a list of them or None, "
        f"got {type(x).__name__} {x!r}"
    )


def resolve_measures(
    measures: str | Measure | Sequence[str | Measure] | None, task_type: str, task_id: str = ""
) -> list[Measure]:
    """Measures for a task type: ``None`` (or ``[]``) gives the type's default measure.

    Raises:
        UnknownKeyError: an unknown measure key.
        ParameterError: a measure of another task type, or two measures with one id.

    Example:
        >>> from mlrpy.measures import resolve_measures
        >>> [m.id for m in resolve_measures(None, "regr")]
        ['regr.mse']
        >>> resolve_measures("classif.acc", "regr", "diabetes")
        Traceback (most recent call last):
        ...
        mlrpy.errors.ParameterError: Measure 'classif.acc' is for classif tasks, but task \
'diabetes' is a regr task; use a regr measure (e.g. 'regr.mse')
    """
    ms = as_measures(measures, task_type=task_type) or [default_measure(task_type)]
    for m in ms:
        if m.task_type != task_type:
            where = f"task '{task_id}'" if task_id else "the task"
            raise ParameterError(
                f"Measure '{m.id}' is for {m.task_type} tasks, but {where} is a {task_type} "
                f"task; use a {task_type} measure (e.g. '{default_measure(task_type).id}')"
            )
    dupes = duplicated(m.id for m in ms)
    if dupes:
        raise ParameterError(
            f"Measure ids must be unique, got {dupes[0]!r} more than once; give copies their "
            f"own id, e.g. msr('{dupes[0]}', id='{dupes[0]}_2')"
        )
    return ms


_DEFAULTS = {"classif": "classif.ce", "regr": "regr.mse"}


def default_measure(task_type: str) -> Measure:
    """mlr3's default measure of a task type: ``classif.ce`` or ``regr.mse``.

    Example:
        >>> from mlrpy.measures import default_measure
        >>> default_measure("classif").id
        'classif.ce'
    """
    if task_type not in _DEFAULTS:
        raise ParameterError(
            f"No default measure for task type {task_type!r}; "
            f"known task types: {', '.join(_DEFAULTS)}"
        )
    return msr(_DEFAULTS[task_type])


def score_prediction(
    prediction: Prediction, measures: str | Measure | Sequence[str | Measure] | None = None
) -> dict[str, float]:
    """Score ``prediction`` with each measure; returns ``{measure id: score}``.

    With ``measures=None`` the task type's :func:`default_measure` is used. This is what
    ``Prediction.score()`` calls.

    Example:
        >>> import pandas as pd
        >>> from mlrpy.measures import score_prediction
        >>> from mlrpy.prediction import PredictionClassif
        >>> prob = pd.DataFrame({"neg": [0.9, 0.4, 0.3, 0.2], "pos": [0.1, 0.6, 0.7, 0.8]})
        >>> pred = PredictionClassif([0, 1, 2, 3], truth=["neg", "neg", "pos", "pos"],
        ...                          response=["neg", "pos", "pos", "pos"], prob=prob,
        ...                          class_names=["neg", "pos"])
        >>> score_prediction(pred)
        {'classif.ce': 0.25}
        >>> score_prediction(pred, ["classif.acc", "classif.auc"])
        {'classif.acc': 0.75, 'classif.auc': 1.0}
    """
    if not isinstance(prediction, Prediction):
        raise TypeError(f"score_prediction() needs a Prediction, got {type(prediction).__name__}")
    ms = resolve_measures(measures, prediction.task_type)
    return {m.id: m.score(prediction) for m in ms}
