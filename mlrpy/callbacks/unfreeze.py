"""``unfreeze``: train only some weights at first and unfreeze others at given epochs or
batches; plus the parameter selectors ``select_*``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from mlrpy.callbacks._man import man_with_example
from mlrpy.callbacks.base import CallbackSet
from mlrpy.callbacks.descriptor import TorchCallback
from mlrpy.callbacks.registry import mlr_callbacks
from mlrpy.dictionary import suggest
from mlrpy.errors import ParameterError

__all__ = [
    "CallbackSetUnfreeze",
    "Select",
    "select_all",
    "select_grep",
    "select_invert",
    "select_name",
    "select_none",
    "unfreeze",
]

EXAMPLE = 't_clbk("unfreeze", starting_weights=select_name("4.weight"), unfreeze=[(3, select_all())])'


# -- selectors ----------------------------------------------------------------------------------
class Select:
    """A parameter selector: called with the network's parameter names (in
    ``named_parameters()`` order), returns the selected ones. Picklable and comparable."""

    def __call__(self, param_names: list[str]) -> list[str]:
        raise NotImplementedError

    def _args(self) -> tuple[Any, ...]:
        return ()

    def __repr__(self) -> str:
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        return f"{name}({', '.join(repr(a) for a in self._args())})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._args() == other._args()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._args()))


class SelectAll(Select):
    def __call__(self, param_names: list[str]) -> list[str]:
        return list(param_names)


class SelectNone(Select):
    def __call__(self, param_names: list[str]) -> list[str]:
        return []


class SelectName(Select):
    def __init__(self, *names: str) -> None:
        if len(names) == 1 and isinstance(names[0], (list, tuple)):  # mlr3torch passes a vector
            names = tuple(names[0])
        bad = [n for n in names if not isinstance(n, str)]
        if not names or bad:
            raise ParameterError(
                f"select_name() takes one or more parameter names, or a list of them, got {names!r}"
            )
        self.names = tuple(names)

    def _args(self) -> tuple[Any, ...]:
        return self.names

    def __call__(self, param_names: list[str]) -> list[str]:
        unknown = [n for n in self.names if n not in param_names]
        if unknown:
            hint = suggest(unknown[0], param_names)
            raise ParameterError(
                f"{self!r}: the network has no parameter {', '.join(map(repr, unknown))}.{hint} "
                f"Parameters: {', '.join(param_names)}"
            )
        return [n for n in param_names if n in self.names]


class SelectGrep(Select):
    def __init__(self, pattern: str) -> None:
        try:
            self.regex = re.compile(pattern)
        except (re.error, TypeError) as err:
            raise ParameterError(f"select_grep(): invalid regular expression {pattern!r}: {err}") from None
        self.pattern = pattern

    def _args(self) -> tuple[Any, ...]:
        return (self.pattern,)

    def __call__(self, param_names: list[str]) -> list[str]:
        return [n for n in param_names if self.regex.search(n)]

    def __getstate__(self) -> dict[str, Any]:
        return {"pattern": self.pattern}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["pattern"])  # type: ignore[misc]


class SelectInvert(Select):
    def __init__(self, selector: Callable[[list[str]], list[str]]) -> None:
        if not callable(selector):
            raise ParameterError(f"select_invert() takes a selector, got {selector!r}")
        self.selector = selector

    def _args(self) -> tuple[Any, ...]:
        return (self.selector,)

    def __call__(self, param_names: list[str]) -> list[str]:
        chosen = set(self.selector(param_names))
        return [n for n in param_names if n not in chosen]


def select_all() -> Select:
    """Selects every parameter.

    Example:
        >>> from mlrpy.callbacks import select_all
        >>> select_all()(["0.weight", "0.bias"])
        ['0.weight', '0.bias']
    """
    return SelectAll()


def select_none() -> Select:
    """Selects no parameter (the only selector allowed to select nothing).

    Example:
        >>> from mlrpy.callbacks import select_none
        >>> select_none()(["0.weight", "0.bias"])
        []
    """
    return SelectNone()


def select_name(*names: str | list[str]) -> Select:
    """Selects the parameters with these exact names (an unknown name is an error); the names
    come as separate arguments or as one list (mlr3torch's form).

    Example:
        >>> from mlrpy.callbacks import select_name
        >>> select_name("0.bias")(["0.weight", "0.bias"])
        ['0.bias']
        >>> select_name(["0.weight", "0.bias"]) == select_name("0.weight", "0.bias")
        True
    """
    return SelectName(*names)  # type: ignore[arg-type]


def select_grep(pattern: str) -> Select:
    """Selects the parameters whose name matches the regular expression (``re.search``).

    Example:
        >>> from mlrpy.callbacks import select_grep
        >>> select_grep(r"\\.bias$")(["0.weight", "0.bias", "2.bias"])
        ['0.bias', '2.bias']
    """
    return SelectGrep(pattern)


def select_invert(selector: Callable[[list[str]], list[str]]) -> Select:
    """Selects the parameters ``selector`` does not select.

    Example:
        >>> from mlrpy.callbacks import select_invert, select_name
        >>> select_invert(select_name("0.bias"))(["0.weight", "0.bias"])
        ['0.weight']
    """
    return SelectInvert(selector)


# -- the callback -------------------------------------------------------------------------------
Selector = Callable[[list[str]], list[str]]


def _as_step(x: Any) -> Any:
    """Accept ``(when, selector)``, or a dict ``{"when"|"epoch"|"batch": n, "selector"|"weights": s}``."""
    if isinstance(x, dict):
        when_keys = [k for k in ("when", "epoch", "batch") if k in x]
        sel_keys = [k for k in ("selector", "weights") if k in x]
        extra = set(x) - {"when", "epoch", "batch", "selector", "weights"}
        if len(when_keys) != 1 or len(sel_keys) != 1 or extra:
            raise ValueError(
                f"an unfreeze step is (when, selector) or a dict with one of 'when'/'epoch'/'batch' "
                f"and one of 'selector'/'weights'; got {x!r}"
            )
        return (x[when_keys[0]], x[sel_keys[0]])
    return x


UnfreezeStep = Annotated[tuple[Annotated[int, Field(ge=1)], Selector], BeforeValidator(_as_step)]


class CallbackSetUnfreeze(CallbackSet):
    """Freezes parameters at the start and unfreezes them step by step (fine-tuning).

    At the start of the run only the parameters selected by ``starting_weights`` are
    trainable; the others get ``requires_grad_(False)``, so they receive no gradient and the
    optimizer leaves them unchanged. Each ``(when, selector)`` in ``unfreeze`` makes the
    selected parameters trainable at the start of epoch ``when`` (``unit="epoch"``) or of
    batch ``when`` counted over the whole run (``unit="batch"``, i.e. ``ctx.global_step``).
    When the run ends the original ``requires_grad`` flags are restored.

    Selectors are :func:`select_all`, :func:`select_none`, :func:`select_name`,
    :func:`select_grep`, :func:`select_invert`, or any function of the list of parameter
    names returning a sub-list. A selection that selects no parameter is an error (except
    :func:`select_none`), raised at the start of the run. A step of ``unfreeze`` may also be
    a dict with one of the keys ``epoch``/``batch``/``when`` and one of
    ``weights``/``selector`` (mlr3torch's form).

    Example:
        >>> from mlrpy import lrn, t_clbk, tsk
        >>> from mlrpy.callbacks import select_all, select_name
        >>> cb = t_clbk("unfreeze", starting_weights=select_name("4.weight", "4.bias"),
        ...             unfreeze=[(2, select_all())])
        >>> learner = lrn("classif.mlp", epochs=2, random_state=0, callbacks=[cb])
        >>> _ = learner.train(tsk("iris"))
        >>> cb.get_values()["unfreeze"]
        [(2, select_all())]
    """

    reads: ClassVar[tuple[str, ...]] = ("epoch", "global_step", "network")
    writes: ClassVar[tuple[str, ...]] = ("network",)

    def __init__(
        self,
        starting_weights: Annotated[
            Selector, Field(description="selector of the parameters trainable from the start")
        ] = SelectAll(),  # noqa: B008 - an immutable selector
        unfreeze: Annotated[
            list[UnfreezeStep],
            Field(description="(when, selector) pairs: unfreeze at the start of epoch or batch `when`"),
        ] = (),  # type: ignore[assignment]
        unit: Annotated[Literal["epoch", "batch"], Field(description="what `when` counts")] = "epoch",
    ) -> None:
        self.starting_weights = starting_weights
        self.unfreeze = list(unfreeze)
        self.unit = unit
        self._at: dict[int, list[Selector]] = {}
        for when, selector in self.unfreeze:
            self._at.setdefault(int(when), []).append(selector)
        self._params: dict[str, Any] = {}
        self._original: dict[str, bool] = {}

    def _select(self, selector: Selector, what: str) -> list[str]:
        names = list(self._params)
        chosen = selector(names)
        if not isinstance(chosen, (list, tuple)) or any(not isinstance(n, str) for n in chosen):
            raise ParameterError(
                f"Callback '{self.id}': selector {selector!r} ({what}) must return a list of "
                f"parameter names, got {chosen!r}"
            )
        unknown = [n for n in chosen if n not in self._params]
        if unknown:
            raise ParameterError(
                f"Callback '{self.id}': selector {selector!r} ({what}) returned names that are "
                f"not parameters of the network: {unknown}"
            )
        if not chosen and not isinstance(selector, SelectNone):
            raise ParameterError(
                f"Callback '{self.id}': selector {selector!r} ({what}) selects no parameter of the "
                f"network. Parameters: {', '.join(names)}"
            )
        return list(chosen)

    def _unfreeze_at(self, when: int) -> None:
        for selector in self._at.get(when, ()):
            for name in self._select(selector, f"unfreeze at {self.unit} {when}"):
                self._params[name].requires_grad_(True)

    def on_begin(self) -> None:
        network = self.ctx.network
        assert network is not None
        self._params = dict(network.named_parameters())
        self._original = {n: p.requires_grad for n, p in self._params.items()}
        trainable = set(self._select(self.starting_weights, "starting_weights"))
        for when, selector in self.unfreeze:  # fail now, not epochs later
            self._select(selector, f"unfreeze at {self.unit} {when}")
        for name, p in self._params.items():
            p.requires_grad_(name in trainable)
        done = self.ctx.epoch if self.unit == "epoch" else self.ctx.global_step  # > 0 when resuming
        for when in sorted(w for w in self._at if w <= done):
            self._unfreeze_at(when)

    def on_epoch_begin(self) -> None:
        if self.unit == "epoch" and self.ctx.epoch in self._at:
            self._unfreeze_at(self.ctx.epoch)

    def on_batch_begin(self) -> None:
        if self.unit == "batch" and self.ctx.global_step in self._at:
            self._unfreeze_at(self.ctx.global_step)

    def on_exit(self) -> None:
        for name, flag in self._original.items():
            self._params[name].requires_grad_(flag)


unfreeze = TorchCallback(
    "unfreeze",
    CallbackSetUnfreeze,
    label="Unfreezing Weights",
    man=man_with_example(CallbackSetUnfreeze, EXAMPLE),
)
mlr_callbacks.add(unfreeze)
