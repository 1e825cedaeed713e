"""The fingerprint of a training run, so that resuming cannot mix two runs.

A checkpoint records what defines its run: the number of training rows, SHA-256 hashes of the
training inputs and targets, the class labels, the seed, and every learner parameter except
``epochs``, ``resume`` and ``callbacks`` (dotted ``opt.`` / ``loss.`` / ``module.`` values
included; callbacks are matched by id instead). Parameters are compared on a data-only
description (classes by name, arrays by hash), so a fingerprint survives the round trip
through a file exactly. It is computed only when a run checkpoints or resumes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePath
from typing import Any

import numpy as np
import torch

from mlrpy.fileformat import is_named, type_path

__all__ = ["describe", "fingerprint_differences", "learner_parameters", "run_fingerprint"]

#: Plain parameters whose descriptor owns a group of dotted ones.
_GROUPS = (("optimizer", "opt."), ("loss", "loss."), ("module", "module."))

#: Learner parameters that may change between an interrupted run and its resumption.
RESUMABLE_CHANGES = ("epochs", "resume", "callbacks")


def _array_digest(value: Any) -> dict[str, Any] | None:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().to("cpu").contiguous()
        raw: Any = tensor.reshape(-1).view(torch.uint8).numpy()
        dtype, shape = str(tensor.dtype), list(tensor.shape)
    elif isinstance(value, np.ndarray) and not value.dtype.hasobject:
        raw, dtype, shape = np.ascontiguousarray(value).tobytes(), value.dtype.str, list(value.shape)
    else:
        return None
    return {"dtype": dtype, "shape": shape, "sha256": hashlib.sha256(raw).hexdigest()}


def describe(value: Any) -> Any:
    """A stable, JSON-able description of a parameter value.

    Example:
        >>> import torch
        >>> from mlrpy.fingerprint import describe
        >>> describe((64, 64)), describe(torch.nn.ReLU), describe({"b": 1.5, "a": None})
        ([64, 64], 'torch.nn.modules.activation:ReLU', {'a': None, 'b': 1.5})
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): describe(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (set, frozenset)):
        return sorted((describe(v) for v in value), key=_canonical)
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        return [describe(v) for v in value.tolist()]
    digest = _array_digest(value)
    if digest is not None:
        return digest
    if isinstance(value, PurePath):
        return str(value)
    if is_named(value):
        return type_path(value)
    out: dict[str, Any] = {"type": type_path(value)}
    for attr in ("id", "torch_class", "generator", "fun"):
        if hasattr(value, attr):
            out[attr] = describe(getattr(value, attr))
    if hasattr(value, "get_values"):
        out["values"] = describe(value.get_values())
    return out


def _canonical(described: Any) -> str:
    return json.dumps(described, sort_keys=True, allow_nan=True)


def learner_parameters(learner: Any) -> dict[str, Any]:
    """The learner's parameters that define a run, described (see :func:`describe`)."""
    params = learner.get_params(deep=True)
    # "adam", torch.optim.Adam and t_opt("adam") are one optimizer (loss=None is the default
    # loss): compare the descriptors they resolve to; their values are the dotted parameters
    descriptors = learner.deep_descriptors() if hasattr(learner, "deep_descriptors") else {}
    for name, prefix in (("optimizer", "opt."), ("loss", "loss.")):
        if prefix in descriptors:
            desc = descriptors[prefix]
            params[name] = f"{desc.id} ({type_path(desc.torch_class)})"
    return {
        name: describe(value)
        for name, value in sorted(params.items())
        if name not in RESUMABLE_CHANGES and not name.startswith("cb.")
    }


def run_fingerprint(ctx: Any) -> dict[str, Any]:
    """The fingerprint of the run in ``ctx`` (its training loader, learner and seed)."""
    loader = ctx.loader_train
    x, y = getattr(loader, "x", None), getattr(loader, "y", None)
    classes = getattr(ctx.learner, "classes_", None)
    return {
        "rows": getattr(loader, "n_rows", len(x) if x is not None else None),
        # a dict input (several network inputs): one digest per entry
        "data": {k: _array_digest(x[k]) for k in sorted(x)} if isinstance(x, dict) else _array_digest(x),
        "target": _array_digest(y),
        "classes": None if classes is None else describe(list(np.asarray(classes).tolist())),
        "seed": ctx.seed,
        "params": {} if ctx.learner is None else learner_parameters(ctx.learner),
    }


def _show(described: Any) -> str:
    text = repr(described) if isinstance(described, str) else _canonical(described)
    return text if len(text) <= 80 else text[:77] + "..."


def fingerprint_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints, as ``"<what>: <saved> vs <now>"`` phrases."""
    out = []
    if saved.get("rows") != current.get("rows"):
        out.append(f"the number of training rows: {saved.get('rows')} vs {current.get('rows')}")
    else:
        if _canonical(saved.get("data")) != _canonical(current.get("data")):
            out.append("the training data differ")
        if _canonical(saved.get("target")) != _canonical(current.get("target")):
            out.append("the training targets differ")
    if _canonical(saved.get("classes")) != _canonical(current.get("classes")):
        out.append(f"the class labels: {_show(saved.get('classes'))} vs {_show(current.get('classes'))}")
    if saved.get("seed") != current.get("seed"):
        out.append(f"seed: {saved.get('seed')} vs {current.get('seed')}")
    before, now = saved.get("params", {}), current.get("params", {})
    differing = [
        name for name in sorted(set(before) | set(now))
        if name not in before or name not in now or _canonical(before[name]) != _canonical(now[name])
    ]
    # another optimizer (loss, module) has other dotted parameters: naming it is enough
    implied = tuple(prefix for group, prefix in _GROUPS if group in differing)
    for name in differing:
        if not name.startswith(implied):
            shown = ["(not a parameter)" if name not in p else _show(p[name]) for p in (before, now)]
            out.append(f"{name}: {shown[0]} vs {shown[1]}")
    return out
