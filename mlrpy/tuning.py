"""Hyperparameter tuning by grid or random search (mlr3tuning's ``tune``).

A *search space* maps parameter names, plain (``"epochs"``, ``"p"``) or dotted
(``"opt.lr"``, ``"cb.<id>.<param>"``, ``"loss.<param>"``, ``"module.<arg>"``), to the values
to try:

* a list of choices: ``[0.05, 0.1]``, ``["relu", "tanh"]``, ``[(16,), (32, 32)]``;
* a range tuple ``(lower, upper)`` or ``(lower, upper, "log")``; integers if both bounds
  are ints. Grid search takes ``resolution`` points per range, random search draws
  uniformly (log-uniformly with ``"log"``);
* ``"schema"`` or :func:`to_tune` (``to_tune()``, ``to_tune(1e-4, 1e-1, log=True)``,
  ``to_tune(levels=[...])``, ``to_tune(lower=0.1)``): bounds or choices taken from the
  parameter's schema where not given (``ge``/``gt``/``le``/``lt`` for numbers, ``Literal``
  choices, ``[False, True]`` for booleans);
* ``"internal"`` or ``to_tune(internal=True)`` for ``"epochs"``: the number of epochs is
  found by early stopping inside each resampling iteration (mlr3torch's
  ``to_tune(internal = TRUE)``). The learner needs ``patience > 0``; ``validate="test"`` is
  set when ``validate`` is ``None``; ``epochs`` (or ``to_tune(upper=..., internal=True)``)
  is the maximum. Each configuration's epochs are the mean over the iterations of
  ``internal_tuned_values["epochs"]``, rounded up.

Every configuration is evaluated with :func:`mlrpy.resample.resample` on the same splits;
configurations run in parallel through :class:`joblib.Parallel` (``n_jobs``).

Example:
    >>> from mlrpy import lrn, tsk
    >>> from mlrpy.resampling import rsmp
    >>> from mlrpy.tuning import tune
    >>> result = tune(lrn("classif.mlp", epochs=3, random_state=0), tsk("iris"),
    ...               rsmp("holdout", seed=1), "classif.acc",
    ...               {"opt.lr": [0.001, 0.01]})
    >>> list(result.archive.columns), len(result.archive)
    (['opt.lr', 'classif.acc'], 2)
    >>> result.best_params["opt.lr"] in (0.001, 0.01)
    True
"""

from __future__ import annotations

import ast
import itertools
import math
import numbers
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from mlrpy.conversions import as_learner, as_resampling, as_task
from mlrpy.dictionary import suggest
from mlrpy.errors import ParameterError, UnknownKeyError
from mlrpy.measures import Measure, resolve_measures
from mlrpy.resample import check_task, clone_learner, instantiated_for, resample
from mlrpy.resampling import Resampling
from mlrpy.tasks import Task

__all__ = ["TuneToken", "TuningResult", "to_tune", "tune"]

_METHODS = ("grid_search", "random_search")


# -- search space values ------------------------------------------------------------------------
@dataclass(frozen=True)
class TuneToken:
    """A search-space value whose missing parts come from the parameter's schema.

    Build it with :func:`to_tune`.
    """

    lower: Any = None
    upper: Any = None
    levels: tuple[Any, ...] | None = None
    log: bool = False
    internal: bool = False


def to_tune(
    lower: Any = None,
    upper: Any = None,
    *,
    levels: Sequence[Any] | None = None,
    log: bool = False,
    internal: bool = False,
) -> TuneToken:
    """Mark a parameter for tuning (mlr3's ``to_tune()``).

    * ``to_tune()``: the range or choices of the parameter's schema;
    * ``to_tune(lower, upper, log=...)``: a range; a missing bound comes from the schema;
    * ``to_tune([a, b])`` or ``to_tune(levels=[a, b])``: choices;
    * ``to_tune(internal=True)`` (``epochs`` only): tuned by early stopping; ``upper`` is the
      maximum number of epochs (default: the learner's ``epochs``).

    Example:
        >>> from mlrpy.tuning import to_tune
        >>> to_tune(1e-4, 1e-1, log=True)
        TuneToken(lower=0.0001, upper=0.1, levels=None, log=True, internal=False)
        >>> to_tune(["relu", "tanh"]).levels
        ('relu', 'tanh')
    """
    if isinstance(lower, (list, tuple, np.ndarray)) and upper is None and levels is None:
        levels, lower = list(lower), None
    if levels is not None:
        if lower is not None or upper is not None or log:
            raise ParameterError("to_tune(): give either levels or lower/upper (and log), not both")
        levels = tuple(levels)
    if internal and (lower is not None or levels is not None or log):
        raise ParameterError(
            "to_tune(internal=True) takes only upper= (the maximum number of epochs); "
            f"got lower={lower!r}, levels={levels!r}, log={log!r}"
        )
    return TuneToken(lower=lower, upper=upper, levels=levels, log=bool(log), internal=bool(internal))


@dataclass
class _Dim:
    """One searched parameter: a list of choices or a numeric range."""

    name: str
    choices: list[Any] | None = None
    lower: float = 0.0
    upper: float = 0.0
    integer: bool = False
    log: bool = False

    def grid(self, resolution: int) -> list[Any]:
        if self.choices is not None:
            return list(self.choices)
        space = np.geomspace if self.log else np.linspace
        points = space(self.lower, self.upper, resolution)
        if self.integer:
            return sorted({round(float(x)) for x in points})
        return [float(x) for x in points]

    def sample(self, rng: np.random.Generator) -> Any:
        if self.choices is not None:
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.integer:
            if self.log:
                x = math.exp(rng.uniform(math.log(self.lower), math.log(self.upper + 1)))
                return int(min(max(math.floor(x), self.lower), self.upper))
            return int(rng.integers(int(self.lower), int(self.upper) + 1))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.lower), math.log(self.upper))))
        return float(rng.uniform(self.lower, self.upper))


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _range_dim(key: str, lower: Any, upper: Any, log: bool, integer: bool | None = None) -> _Dim:
    for which, v in (("lower", lower), ("upper", upper)):
        if not _is_number(v) or not math.isfinite(float(v)):
            raise ParameterError(
                f"Search space '{key}': the {which} bound must be a finite number, got {v!r}"
            )
    if not lower < upper:
        raise ParameterError(
            f"Search space '{key}': empty range ({lower!r}, {upper!r}); lower must be < upper"
        )
    if log and lower <= 0:
        raise ParameterError(
            f"Search space '{key}': a log range needs lower > 0, got ({lower!r}, {upper!r}, 'log')"
        )
    if integer is None:
        integer = _is_int(lower) and _is_int(upper)
    return _Dim(key, lower=float(lower), upper=float(upper), integer=integer, log=log)


def _choice_dim(key: str, choices: Sequence[Any]) -> _Dim:
    choices = list(choices)
    if not choices:
        raise ParameterError(f"Search space '{key}': the list of choices is empty")
    return _Dim(key, choices=choices)


# -- schemas ------------------------------------------------------------------------------------
def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _strip_optional(text: str) -> str:
    """``"X"`` from ``"X | None"``, ``"None | X"`` or ``"Optional[X]"``; else ``text``."""
    text = text.strip()
    if text.startswith("Optional[") and text.endswith("]"):
        return text[len("Optional["):-1].strip()
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    kept = [p for p in parts if p != "None"]
    return kept[0] if len(kept) == 1 else text


def _annotation_kind(annotation: Any) -> tuple[str, list[Any] | None]:
    """``(kind, choices)`` of a type annotation: kind is ``bool``/``int``/``float``/``choice``
    or the type's name."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return str(annotation).replace("typing.", ""), None
            annotation = members[0]
        elif origin is Literal:
            return "choice", list(typing.get_args(annotation))
        else:
            break
    if annotation in (bool, int, float):
        return annotation.__name__, None
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", ""), None


def _type_kind(type_value: Any) -> tuple[str | None, list[Any] | None]:
    """``(kind, choices)`` from the ``type`` column of ``learner.param_set``.

    The column holds a type name such as ``"float"``, ``"bool | None"`` or
    ``"Literal['mean', 'sum']"``, or the annotation itself; ``None`` kind: no type given.
    """
    if _missing(type_value):
        return None, None
    if not isinstance(type_value, str):
        return _annotation_kind(type_value)
    text = _strip_optional(type_value)
    if text.startswith("Literal[") and text.endswith("]"):
        try:
            choices = ast.literal_eval(f"[{text[len('Literal['):-1]}]")
        except (ValueError, SyntaxError):
            return "Literal", None
        return "choice", list(choices)
    return text, None


def _schema(learner: Any, key: str) -> tuple[str | None, list[Any] | None, Any, Any]:
    """``(kind, choices, lower, upper)`` of parameter ``key`` from ``learner.param_set``."""
    table = learner.param_set
    found = table[table["id"] == key]
    row: dict[str, Any] = found.iloc[0].to_dict() if len(found) else {}
    levels = row.get("levels")
    kind, choices = _type_kind(row.get("type"))
    if isinstance(levels, (list, tuple)) and levels:
        kind, choices = "choice", list(levels)
    if kind in ("Literal", "Optional", "Union") and "." in key:
        # param_set writes these types without their arguments (a Literal's values), so the
        # choices come from the annotation in the descriptor's schema
        prefix, _, name = key.rpartition(".")
        field = learner.deep_descriptors()[prefix + "."].param_set.model_fields[name]
        kind, choices = _annotation_kind(field.annotation)
    lower, upper = row.get("lower"), row.get("upper")
    return kind, choices, None if _missing(lower) else lower, None if _missing(upper) else upper


def _admits(learner: Any, key: str, value: Any) -> bool:
    try:
        clone_learner(learner).set_params(**{key: value}).check_params()
    except ParameterError:
        return False
    return True


def _inside(learner: Any, key: str, bound: Any, integer: bool, direction: float) -> Any:
    """``bound``, or the next value inward when the parameter excludes the bound itself."""
    if _admits(learner, key, bound):
        return bound
    inward = bound + int(direction) if integer else float(np.nextafter(bound, direction))
    return inward if _admits(learner, key, inward) else bound


def _schema_dim(learner: Any, key: str, token: TuneToken) -> _Dim:
    if token.levels is not None:
        return _choice_dim(key, token.levels)
    kind, choices, lower, upper = _schema(learner, key)
    shown = kind or "unknown"
    if token.lower is None and token.upper is None:
        if kind == "bool":
            return _Dim(key, choices=[False, True])
        if kind == "choice" and choices:
            return _Dim(key, choices=choices)
    if kind not in ("int", "float"):
        raise ParameterError(
            f"Search space '{key}': cannot derive values from its schema (type {shown}); "
            f"give a list of choices or a (lower, upper) range"
        )
    integer = kind == "int"
    if token.lower is None and lower is not None:
        lower = _inside(learner, key, lower, integer, math.inf)
    if token.upper is None and upper is not None:
        upper = _inside(learner, key, upper, integer, -math.inf)
    lower = token.lower if token.lower is not None else lower
    upper = token.upper if token.upper is not None else upper
    if lower is None or upper is None:
        missing = " and ".join(n for n, v in (("lower", lower), ("upper", upper)) if v is None)
        raise ParameterError(
            f"Search space '{key}': its schema ({shown}, bounds [{lower}, {upper}]) has no "
            f"{missing} bound; give a range such as (lower, upper) or to_tune(lower, upper)"
        )
    return _range_dim(key, lower, upper, token.log, integer=integer and _is_int(lower) and _is_int(upper))


# -- parsing ------------------------------------------------------------------------------------
def _is_internal(value: Any) -> bool:
    return (isinstance(value, str) and value == "internal") or (
        isinstance(value, TuneToken) and value.internal
    )


def parse_search_space(learner: Any, search_space: Mapping[str, Any]) -> tuple[list[_Dim], Any]:
    """Check ``search_space`` against ``learner``'s parameters.

    Returns the searched dimensions and, for an internally tuned ``epochs``, its
    :class:`TuneToken` (``None`` otherwise).

    Raises:
        UnknownKeyError: a key that is not a parameter of the learner.
        ParameterError: an empty or invalid range or choice list.
    """
    if not isinstance(search_space, Mapping) or not search_space:
        raise ParameterError(
            f"tune(): search_space must be a non-empty dict of parameter name -> values, "
            f"got {search_space!r}"
        )
    valid = list(learner.get_params(deep=True))
    dims: list[_Dim] = []
    internal: TuneToken | None = None
    for key, value in search_space.items():
        if key not in valid:
            raise UnknownKeyError(
                f"Search space key '{key}' is not a parameter of learner '{learner.id}'."
                f"{suggest(str(key), valid)} Valid names: {', '.join(valid)}"
            )
        if _is_internal(value):
            if key != "epochs":
                raise ParameterError(
                    f"Search space '{key}': only 'epochs' can be tuned internally (by early "
                    f"stopping), got {value!r}"
                )
            internal = value if isinstance(value, TuneToken) else TuneToken(internal=True)
        elif isinstance(value, TuneToken):
            dims.append(_schema_dim(learner, key, value))
        elif isinstance(value, str) and value == "schema":
            dims.append(_schema_dim(learner, key, TuneToken()))
        elif isinstance(value, tuple):
            if len(value) == 2:
                dims.append(_range_dim(key, value[0], value[1], log=False))
            elif len(value) == 3 and value[2] == "log":
                dims.append(_range_dim(key, value[0], value[1], log=True))
            else:
                raise ParameterError(
                    f"Search space '{key}': a range is (lower, upper) or (lower, upper, 'log'), "
                    f"got {value!r}; use a list for choices"
                )
        elif isinstance(value, (list, np.ndarray, range)):
            dims.append(_choice_dim(key, list(value)))
        else:
            raise ParameterError(
                f"Search space '{key}': got {value!r}; give a list of choices, a (lower, upper) "
                f"or (lower, upper, 'log') range, 'schema', 'internal' (epochs) or to_tune(...)"
            )
    return dims, internal


def _configurations(
    dims: list[_Dim], method: str, resolution: int, n_evals: int, random_state: Any
) -> list[dict[str, Any]]:
    if method == "grid_search":
        grids = [d.grid(resolution) for d in dims]
        return [dict(zip([d.name for d in dims], combo)) for combo in itertools.product(*grids)]
    rng = np.random.default_rng(random_state)
    return [{d.name: d.sample(rng) for d in dims} for _ in range(n_evals)]


# -- evaluation ---------------------------------------------------------------------------------
def _evaluate(
    task: Task, learner: Any, resampling: Resampling, measure: Measure, config: dict[str, Any],
    internal: bool,
) -> tuple[float, int | None]:
    configured = clone_learner(learner).set_params(**config)
    rr = resample(task, configured, resampling, n_jobs=1)
    score = rr.aggregate([measure])[measure.id]
    epochs = None
    if internal:
        found = [v["epochs"] for v in rr.internal_tuned_values if v is not None]
        if len(found) != rr.iters:
            raise ParameterError(
                f"tune(): internal tuning of 'epochs' got no early-stopping result in "
                f"{rr.iters - len(found)} of {rr.iters} iterations (config {config})"
            )
        epochs = max(1, math.ceil(float(np.mean(found))))
    return score, epochs


class TuningResult:
    """The outcome of :func:`tune`.

    Attributes:
        archive: one row per configuration: its parameter values, the aggregated score
            (column named by the measure id) and, with internal tuning, ``epochs`` (the
            epochs found by early stopping, averaged over the iterations and rounded up).
        best_params: the best configuration (including ``epochs`` with internal tuning).
        best_score: its aggregated score.
        measure: the measure optimised.
        learner: the learner as given to :func:`tune` (an unfitted copy).
        task: the task.
        internal_tuned_values: ``{"epochs": n}`` of the best configuration, or ``None``.
    """

    def __init__(
        self,
        archive: pd.DataFrame,
        best_params: dict[str, Any],
        best_score: float,
        measure: Measure,
        learner: Any,
        task: Task,
        internal_tuned_values: dict[str, int] | None,
    ) -> None:
        self.archive = archive
        self.best_params = best_params
        self.best_score = best_score
        self.measure = measure
        self.learner = learner
        self.task = task
        self.internal_tuned_values = internal_tuned_values

    def best_learner(self) -> Any:
        """A copy of the learner with :attr:`best_params`, trained on the whole task.

        With internal tuning it trains ``epochs`` = the tuned value without early stopping
        (``patience=0``, ``validate=None``). ``validate="test"`` is also dropped (there is
        no test set outside a resampling).
        """
        learner = clone_learner(self.learner).set_params(**self.best_params)
        if self.internal_tuned_values is not None:
            learner.set_params(patience=0, validate=None)
        elif learner.validate == "test":
            learner.set_params(validate=None)
        return learner.train(self.task)

    def __repr__(self) -> str:
        return (
            f"<TuningResult> {len(self.archive)} configurations, measure '{self.measure.id}'\n"
            f"* Best score: {self.best_score:.6g}\n* Best params: {self.best_params}"
        )


def _check_positive_int(name: str, value: Any) -> int:
    if not _is_int(value) or value < 1:
        raise ParameterError(f"tune(): '{name}' must be an integer >= 1, got {value!r}")
    return int(value)


def tune(
    learner: Any,
    task: Task | str,
    resampling: Resampling | str,
    measure: str | Measure | None = None,
    search_space: Mapping[str, Any] | None = None,
    method: str = "grid_search",
    resolution: int = 5,
    n_evals: int = 10,
    n_jobs: int | None = None,
    random_state: Any = None,
) -> TuningResult:
    """Tune ``learner``'s hyperparameters on ``task`` (mlr3tuning's ``tune``).

    Args:
        learner: the learner to tune (never changed).
        task: a task or task key.
        resampling: how each configuration is evaluated; instantiated once (on a copy) so
            every configuration sees the same splits.
        measure: the measure to optimise (default: the task type's default measure); its
            ``minimize`` decides the direction.
        search_space: parameter name → values (see the module documentation).
        method: ``"grid_search"`` (every combination, ``resolution`` points per range) or
            ``"random_search"`` (``n_evals`` configurations from
            ``numpy.random.default_rng(random_state)``).
        resolution: grid points per range.
        n_evals: number of random configurations.
        n_jobs: configurations evaluated in parallel by :class:`joblib.Parallel`.
        random_state: seed of the random search.

    Returns:
        A :class:`TuningResult`.

    Raises:
        UnknownKeyError: a search space key that is not a parameter; an unknown measure.
        ParameterError: an invalid search space, method or measure; internal tuning
            without ``patience > 0``.

    Example:
        >>> from mlrpy import lrn, tsk
        >>> from mlrpy.resampling import rsmp
        >>> from mlrpy.tuning import tune
        >>> learner = lrn("classif.mlp", epochs=20, patience=1, random_state=0, neurons=(8,))
        >>> result = tune(learner, tsk("iris"), rsmp("cv", folds=2, seed=1), "classif.ce",
        ...               {"epochs": "internal", "opt.lr": [0.01]})
        >>> list(result.archive.columns)
        ['opt.lr', 'classif.ce', 'epochs']
        >>> result.best_learner().model.epochs == result.best_params["epochs"]
        True
    """
    learner = as_learner(learner)
    task = as_task(task)
    check_task(learner, task)
    if method not in _METHODS:
        raise ParameterError(
            f"tune(): unknown method {method!r}.{suggest(str(method), _METHODS)} "
            f"Valid: {', '.join(_METHODS)}"
        )
    resolution = _check_positive_int("resolution", resolution)
    n_evals = _check_positive_int("n_evals", n_evals)
    if isinstance(measure, (list, tuple)):
        if len(measure) != 1:
            raise ParameterError(f"tune() optimises one measure, got {len(measure)}: {measure!r}")
        measure = measure[0]
    msr_ = resolve_measures(measure, task.task_type, task.id)[0]
    resampling = instantiated_for(as_resampling(resampling), task)

    original = clone_learner(learner)
    dims, internal = parse_search_space(learner, search_space if search_space is not None else {})
    template = clone_learner(learner)
    if internal is not None:
        if not learner.patience or learner.patience <= 0:
            raise ParameterError(
                f"tune(): 'epochs' is tuned internally by early stopping, but learner "
                f"'{learner.id}' has patience={learner.patience!r}; set patience >= 1"
            )
        if internal.upper is not None:
            template.set_params(epochs=_check_positive_int("to_tune(upper=...)", internal.upper))
        if template.validate is None:
            template.set_params(validate="test")

    configs = _configurations(dims, method, resolution, n_evals, random_state)
    for config in configs:  # fail early on a value the parameter rejects
        try:
            clone_learner(template).set_params(**config).check_params()
        except ParameterError as err:
            raise ParameterError(f"tune(): configuration {config} is invalid: {err}") from err

    results = Parallel(n_jobs=n_jobs)(
        delayed(_evaluate)(task, template, resampling, msr_, config, internal is not None)
        for config in configs
    )
    scores = np.array([s for s, _ in results], dtype=float)
    rows = []
    for config, (score, epochs) in zip(configs, results):
        row = {**config, msr_.id: score}
        if internal is not None:
            row["epochs"] = epochs
        rows.append(row)
    columns = [d.name for d in dims] + [msr_.id] + (["epochs"] if internal is not None else [])
    archive = pd.DataFrame(rows, columns=columns)
    if np.isnan(scores).all():
        raise ParameterError(
            f"tune(): every configuration scored NaN on '{msr_.id}'; nothing to choose from"
        )
    best = int(np.nanargmin(scores) if msr_.minimize else np.nanargmax(scores))
    best_params = dict(configs[best])
    tuned = None
    if internal is not None:
        tuned = {"epochs": int(results[best][1])}  # type: ignore[arg-type]
        best_params["epochs"] = tuned["epochs"]
    return TuningResult(
        archive=archive,
        best_params=best_params,
        best_score=float(scores[best]),
        measure=msr_,
        learner=original,
        task=task,
        internal_tuned_values=tuned,
    )
