"""The forms of data a learner takes besides a 2-D table, turned into what the loops iterate.

``fit`` / ``predict`` / ``predict_proba`` / ``evaluate`` take:

- a 2-D table (array or DataFrame): the tabular path of :mod:`mlrpy.learners.inputs`;
- a **Dataset**: any ``torch.utils.data.Dataset`` with ``__len__`` and ``__getitem__(int)``
  (see :func:`~mlrpy.learners.loaders.is_dataset`) goes through the DataLoader path of
  :mod:`mlrpy.learners.loaders`. Its items are ``(x, y)`` pairs, or ``x`` alone with ``y``
  given to ``fit``; prediction ignores the items' targets. The targets are needed at ``fit``
  (the classes, a stratified held-out split) and read once: ``y`` if given, else the
  Dataset's ``targets`` attribute when it has one of the right length (torchvision's
  convention), else one pass over the items, which loads every input once too;
- an **N-D array or tensor** (more than 2 dimensions, first = rows, e.g. images
  ``(n, c, h, w)``), kept in memory and sliced like a table;
- a **dict** of arrays or tensors with the same number of rows, for a network whose
  ``forward`` takes several inputs: each batch's ``x`` is a dict and the network is called
  ``network(**batch.x)``;
- a **table with lazy tensor columns**, read as a Dataset (see :mod:`mlrpy.lazy.frames`).

Only learners with ``accepts_tensors = True`` (the ``module`` learners) take N-D arrays and
dicts; every learner takes a Dataset whose inputs fit its network (a tabular network: 1-D
rows). The width a network is built for (``n_features``) is the size of the first
dimension of one row: columns of a table, channels of an image; ``None`` for dicts.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import sparse

from mlrpy.errors import DataError, ParameterError
from mlrpy.lazy.frames import has_lazy_columns
from mlrpy.learners.encoding import TableEncoder
from mlrpy.learners.features import FeatureInfo
from mlrpy.learners.inputs import (
    check_features,
    check_target,
    holdout_positions,
    keep_label_types,
    lazy_dataset,
    sample_weights,
)
from mlrpy.learners.loaders import IndexedDataset, is_dataset, split_item

__all__ = [
    "RunData",
    "apply_ingress",
    "check_forward_args",
    "dataset_targets",
    "input_kind",
    "model_inputs",
    "prepare_inputs",
]


@dataclass
class RunData:
    """The training (and validation) data of one run, the seed and the tasks callbacks see.

    ``x_*`` is a tensor or dict of tensors on the device, or an :class:`IndexedDataset`;
    ``y_*`` the encoded targets on the device."""

    x_train: Any
    y_train: torch.Tensor
    x_valid: Any
    y_valid: torch.Tensor | None
    seed: int
    device: torch.device
    task_train: Any
    task_valid: Any
    #: builds ``(task_train, task_valid)`` from the arrays when a callback first reads them
    make_tasks: Callable[[], tuple[Any, Any]] | None = None
    #: sample weights of the training rows; ``None`` trains unweighted
    weight_train: torch.Tensor | None = None
    #: the encoder's state (``TableEncoder.to_dict()``) when the table has categorical columns
    encoding: dict[str, Any] | None = None
    #: the width the network is built for (see the module docstring)
    n_features: int | None = None
    #: the names of a dict input (``network(**batch.x)``), and where they come from
    input_names: list[str] | None = None
    input_origin: str = "input dict"

    @classmethod
    def on_device(
        cls, device: torch.device, y_train: torch.Tensor, y_valid: torch.Tensor | None,
        weights: np.ndarray | None, **fields: Any,
    ) -> RunData:
        """The targets and weights moved to ``device`` (inputs: see ``make_loader``)."""
        return cls(
            device=device,
            y_train=y_train.to(device),
            y_valid=None if y_valid is None else y_valid.to(device),
            weight_train=None if weights is None else torch.from_numpy(weights.astype(np.float32)).to(device),
            **fields,
        )


def input_kind(X: Any) -> str:
    """``"dataset"``, ``"dict"``, ``"array"`` (more than 2 dimensions), ``"lazy"`` or ``"table"``.

    Example:
        >>> import numpy as np
        >>> from mlrpy.learners.sources import input_kind
        >>> input_kind(np.zeros((4, 3, 8, 8))), input_kind({"a": np.zeros(4)}), input_kind(np.zeros((4, 2)))
        ('array', 'dict', 'table')
    """
    if is_dataset(X):
        return "dataset"
    if isinstance(X, Mapping) and not sparse.issparse(X):  # a DOK matrix is a dict too
        return "dict"
    if isinstance(X, (np.ndarray, torch.Tensor)) and X.ndim > 2:
        return "array"
    return "lazy" if has_lazy_columns(X) else "table"


def _check_accepted(learner: Any, kind: str, X: Any) -> None:
    if kind in ("array", "dict") and not getattr(learner, "accepts_tensors", False):
        got = f"an array of shape {tuple(X.shape)}" if kind == "array" else "a dict of inputs"
        raise DataError(
            f"Learner '{learner.id}' takes 2-D tables (or a Dataset of 1-D rows), got {got}; "
            f"N-D arrays and dicts of inputs need a network that takes them: use "
            f"'{learner.task_type}.module'"
        )


def _tensor(learner: Any, value: Any, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        out = value.detach()
    else:
        array = np.asarray(value)
        if array.dtype.kind not in "fiub":
            raise DataError(
                f"Learner '{learner.id}': input {name} must hold numbers, got dtype {array.dtype}"
            )
        # a copy when the array is read-only or strided: torch.from_numpy needs neither
        out = torch.from_numpy(np.array(array, copy=not (array.flags.writeable and array.flags.c_contiguous)))
    if out.ndim == 0:
        raise DataError(f"Learner '{learner.id}': input {name} is a scalar; the first dimension must be rows")
    return out.float() if out.dtype == torch.float64 else out


def _as_tensors(learner: Any, X: Any) -> torch.Tensor | dict[str, torch.Tensor]:
    """An N-D array or a dict of arrays as tensors (float64 → float32); dict entries must
    have string keys and equal numbers of rows."""
    if not isinstance(X, Mapping):
        return _tensor(learner, X, "X")
    if not X or not all(isinstance(k, str) for k in X):
        raise DataError(
            f"Learner '{learner.id}': a dict input needs at least one entry and string keys (the "
            f"network's forward argument names), got keys {list(X)}"
        )
    out = {k: _tensor(learner, v, repr(k)) for k, v in X.items()}
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) > 1:
        raise DataError(
            f"Learner '{learner.id}': the entries of a dict input must have the same number of "
            f"rows, got {lengths}"
        )
    return out


def _n_rows(x: Any) -> int:
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def _row_width(row: Any) -> int | None:
    """``n_features`` of one row: the size of its first dimension (1 for a scalar)."""
    if isinstance(row, Mapping):
        return None
    shape = tuple(getattr(row, "shape", np.shape(row)))
    return int(shape[0]) if shape else 1


def _label(learner: Any, item: Any, i: int) -> Any:
    label = split_item(item)[1]
    if label is None:
        raise DataError(
            f"Learner '{learner.id}': Dataset item {i} is not an (x, y) pair, so it has no "
            f"target; pass y to fit() or make the items (x, y) pairs"
        )
    one = isinstance(label, (torch.Tensor, np.ndarray)) and np.prod(label.shape, dtype=int) == 1
    return label.item() if one else label


def dataset_targets(learner: Any, dataset: Any, y: Any) -> np.ndarray:
    """One target per item of ``dataset``: ``y`` if given, else ``dataset.targets`` if it has
    one per item, else read from the items (one pass, loading every item once)."""
    n = len(dataset)
    if y is None:
        y = getattr(dataset, "targets", None)
        if y is None or len(y) != n:
            y = [_label(learner, dataset[i], i) for i in range(n)]
        elif isinstance(y, torch.Tensor):
            y = y.numpy()
    return check_target(learner, keep_label_types(y), n)


def _split(x: Any, positions: np.ndarray) -> Any:
    if isinstance(x, IndexedDataset):
        return IndexedDataset(x.dataset, [x.source_index(int(p)) for p in positions])
    index = torch.from_numpy(np.asarray(positions, dtype=np.int64))
    if isinstance(x, dict):
        return {k: v.index_select(0, index) for k, v in x.items()}
    return x.index_select(0, index)


def apply_ingress(learner: Any, X: Any) -> Any:
    """A DataFrame as the dict of inputs ``learner.ingress`` describes (forward argument name →
    columns); anything else unchanged. Each entry is a float32 ``(n, len(columns))`` tensor,
    or, for one column whose cells hold arrays, those arrays stacked (lazy columns: a Dataset)."""
    ingress = getattr(learner, "ingress", None)
    if ingress is None and has_lazy_columns(X):
        return lazy_dataset(learner, X, None)
    if ingress is None or not isinstance(X, pd.DataFrame):
        return X
    if not isinstance(ingress, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (list, tuple)) and v for k, v in ingress.items()
    ):
        raise ParameterError(
            f"Learner '{learner.id}': 'ingress' must map forward argument names to non-empty "
            f"lists of column names, got {ingress!r}"
        )
    missing = [c for cols in ingress.values() for c in cols if c not in X.columns]
    if missing:
        raise DataError(
            f"Learner '{learner.id}': the ingress columns {missing} are not in the data, which "
            f"has {[str(c) for c in X.columns]}"
        )
    if has_lazy_columns(X):
        return lazy_dataset(learner, X, ingress)
    out = {}
    for name, cols in ingress.items():
        block = X[list(cols)]
        if len(cols) == 1 and block.dtypes.iloc[0] == np.dtype(object):
            out[name] = _tensor(learner, np.stack([np.asarray(v) for v in block.iloc[:, 0]]), repr(name))
            continue
        other = [c for c in cols if not pd.api.types.is_numeric_dtype(block[c])]
        if other:
            raise DataError(
                f"Learner '{learner.id}': ingress '{name}' needs numeric columns, but {other} are not"
            )
        # a read-only view (pandas copy-on-write) is copied: torch warns about non-writable memory
        out[name] = torch.from_numpy(np.require(block.to_numpy(dtype=np.float32), requirements="W"))
    return out


def ingress_columns(learner: Any) -> list[str]:
    """Every column the ingress reads, each once, in order."""
    return list(dict.fromkeys(c for cols in learner.ingress.values() for c in cols))


def check_forward_args(learner: Any, network: torch.nn.Module, names: list[str], origin: str) -> None:
    """Raise unless ``network.forward`` takes exactly the keyword arguments ``names`` (all of its
    required ones, and no name it lacks); :class:`ParameterError` for an ingress, else
    :class:`DataError`."""
    params = [
        p for p in inspect.signature(network.forward).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    takes_any = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(network.forward).parameters.values())
    accepted = [p.name for p in params]
    unknown = [] if takes_any else [n for n in names if n not in accepted]
    missing = [p.name for p in params if p.default is p.empty and p.name not in names]
    if unknown or missing:
        error = ParameterError if origin == "ingress" else DataError
        raise error(
            f"Learner '{learner.id}': the network's forward({', '.join(accepted)}) does not match "
            f"the {origin} names {names}: not forward arguments: {unknown}; forward arguments "
            f"without a value: {missing}"
        )


def _encoder(learner: Any) -> TableEncoder | None:
    model = getattr(learner, "model_", None)
    encoding = None if model is None else model.encoding
    return None if encoding is None else TableEncoder.from_dict(encoding)


def model_inputs(
    learner: Any, X: Any, y: Any = None, with_target: bool = False
) -> tuple[Any, torch.Tensor | None]:
    """Data after training (validation data, ``evaluate``, ``predict``) as the loops take it:
    the inputs (a tensor, a dict of tensors or an :class:`IndexedDataset`) and, with
    ``with_target``, the encoded targets (read from a Dataset when ``y`` is ``None``)."""
    X = apply_ingress(learner, X)
    kind = input_kind(X)
    _check_accepted(learner, kind, X)
    if kind == "table":
        x: Any = torch.from_numpy(check_features(learner, X, reset=False, encoder=_encoder(learner)))
    elif kind == "dataset":
        x = IndexedDataset(X)
    else:
        x = _as_tensors(learner, X)
    if not with_target:
        return x, None
    n = len(x) if kind in ("table", "dataset") else _n_rows(x)
    if kind == "dataset":
        y_arr = dataset_targets(learner, X, y)
    else:
        y_arr = check_target(learner, keep_label_types(y), n)
    return x, learner._encode_target(np.asarray(y_arr).ravel(), fit=False)


def prepare_inputs(
    learner: Any,
    X: Any,
    y: Any,
    validation_data: Any,
    sample_weight: Any,
    seed: int,
    device: torch.device,
    fit_target: bool,
) -> RunData:
    """``fit``'s data for a Dataset, an N-D array or a dict (ingress tables included): the
    checks, the learner's input record, the held-out split and the tensors on ``device``."""
    origin = "input dict"
    names: list[str] = []
    if isinstance(X, pd.DataFrame) and (getattr(learner, "ingress", None) is not None or has_lazy_columns(X)):
        origin = "ingress" if getattr(learner, "ingress", None) is not None else "lazy tensor column"
        names = ingress_columns(learner) if origin == "ingress" else [str(c) for c in X.columns]
        X = apply_ingress(learner, X)
    kind = input_kind(X)
    _check_accepted(learner, kind, X)
    x: Any = IndexedDataset(X) if kind == "dataset" else _as_tensors(learner, X)
    n = len(x) if kind == "dataset" else _n_rows(x)
    if n == 0:
        raise DataError(f"Learner '{learner.id}': the training set is empty")
    row: Any
    if kind == "dataset":
        row = split_item(X[0])[0]
        if not getattr(learner, "accepts_tensors", False) and np.ndim(row) != 1:
            raise DataError(
                f"Learner '{learner.id}' takes a Dataset of 1-D rows, but item 0 has an input of "
                f"shape {tuple(np.shape(row))}; use '{learner.task_type}.module' for other shapes"
            )
        y_arr = dataset_targets(learner, X, y)
    else:
        row = {k: v[0] for k, v in x.items()} if isinstance(x, dict) else x[0]
        y_arr = check_target(learner, keep_label_types(y), n)
    n_features = _row_width(row)
    _record_inputs(learner, n_features, names)
    weights = sample_weights(learner, sample_weight, n)
    y_enc = learner._encode_target(np.asarray(y_arr).ravel(), fit=fit_target)
    if weights is not None:
        learner._check_weighted_target(y_enc, weights)
    x_valid: Any = None
    y_valid = None
    if validation_data is not None:
        if is_dataset(validation_data):
            validation_data = (validation_data, None)
        x_valid, y_valid = model_inputs(learner, validation_data[0], validation_data[1], with_target=True)
    elif isinstance(learner.validate, float):
        train, valid = holdout_positions(learner, y_enc, seed)
        x_valid, y_valid = _split(x, valid), y_enc[torch.from_numpy(valid)]
        x, y_enc = _split(x, train), y_enc[torch.from_numpy(train)]
        if weights is not None:
            weights = sample_weights(learner, weights[train], len(train))
    input_names = sorted(row) if isinstance(row, Mapping) else None
    return RunData.on_device(
        device, y_enc, y_valid, weights,
        x_train=x,  # make_loader moves in-memory inputs to the device
        x_valid=x_valid,
        seed=seed,
        task_train=None,
        task_valid=None,
        n_features=n_features,
        input_names=list(learner.ingress) if origin == "ingress" else input_names,
        input_origin=origin,
    )


def _record_inputs(learner: Any, n_features: int | None, names: list[str]) -> None:
    """What ``fit`` records about inputs that are not a table: the width, and the columns an
    ingress reads (which ``predict(task)`` selects)."""
    learner.__dict__.pop("feature_names_in_", None)
    learner.n_features_in_ = len(names) if names else (n_features or 0)
    if names:
        learner.feature_names_in_ = np.asarray(names, dtype=object)
    learner.feature_info_ = FeatureInfo.all_numeric(
        names or [f"x{i}" for i in range(n_features or 0)]
    )
