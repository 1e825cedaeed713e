"""``learner.save(path)`` / ``mlrpy.load(path, map_location=None, trusted=())``.

A saved learner is one file, written atomically: the learner's class and constructor
parameters, the network's ``state_dict``, the callback states and the rest of
``learner.model``. Loading rebuilds the network from the parameters and loads the weights into
it, so a file can be loaded onto another device with ``map_location``.

Why safetensors and JSON, not pickle
------------------------------------
Loading a file never runs code from it. A pickle (what ``torch.save`` writes) is a program
that the unpickler executes, so loading a crafted pickle runs whatever its author wrote; that
is why mlrpy no longer uses one. torch's ``weights_only=True`` loader restricts the unpickler to
an allowlist of types, but it still interprets pickle opcodes, needs numpy internals added to
its allowlist to read arrays, and has itself had a remote-code-execution bug
(CVE-2025-32434). mlrpy therefore writes a `safetensors` file instead (see
:mod:`mlrpy.fileformat`): tensors are raw bytes described by a JSON header, and everything else
(parameters, callback states, numpy arrays, the loop counters) is plain JSON in the same header.
Reading it parses JSON and copies bytes, and there is nothing to execute; the weights also open
with any safetensors tool. A SHA-256 checksum over the document and every tensor detects a
truncated, damaged or altered file (:class:`~mlrpy.errors.CorruptFileError`).

Classes are stored by name (``"module:qualname"``) and resolved only from an allowlist
(:mod:`mlrpy.trust`): mlrpy's registries, ``torch.nn``, ``torch.optim``,
``torch.optim.lr_scheduler`` and what the caller passes as ``trusted``. Descriptors are stored
as data: a ``t_opt()`` / ``t_loss()`` as its id, torch class and values; a ``TorchCallback`` as
its id, generator class (or scheduler class) and values; a registry measure by its key.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder

from mlrpy.callbacks import TorchCallback, as_lr_scheduler
from mlrpy.errors import CorruptFileError, IncompatibleFileError, MlrpyError, ParameterError
from mlrpy.fileformat import (
    FORMAT_VERSION,
    TAG,
    Decoder,
    Encoder,
    is_named,
    read_file,
    type_path,
    write_file,
)
from mlrpy.io import user_path
from mlrpy.measures import Measure, mlr_measures
from mlrpy.params import check_identifier
from mlrpy.trust import Allowlist

__all__ = ["FORMAT_VERSION", "IncompatibleFileError", "load", "save"]

KIND = "learner"
_FITTED = ("n_features_in_", "feature_names_in_", "classes_")


# -- writing ------------------------------------------------------------------------------------
def _reference(obj: Any, tag: str = "class") -> dict[str, Any]:
    return {TAG: tag, "path": type_path(obj)}


def _encode_callback(tc: TorchCallback, enc: Encoder, where: str) -> dict[str, Any]:
    node: dict[str, Any] = {
        TAG: "callback",
        "id": tc.id,
        "values": enc.encode(tc.param_values, f"{where}.values"),
        "weight": tc.weight,
        "label": tc.label,
    }
    scheduler_class = getattr(tc, "scheduler_class", None)
    if scheduler_class is not None:  # as_lr_scheduler(): its generator class is generated
        node["scheduler"] = _reference(scheduler_class)
        node["step_on_epoch"] = bool(getattr(tc, "step_on_epoch", True))
    else:
        node["generator"] = _reference(tc.generator)
        if tc._param_source is None:  # an explicit parameter set (inferred ones are rebuilt)
            node["param_set"] = _reference(tc.param_set)
    return node


def _encode_descriptor(desc: Any, tag: str, enc: Encoder, where: str) -> dict[str, Any]:
    node = {
        TAG: tag,
        "id": desc.id,
        "class": _reference(desc.torch_class),
        "values": enc.encode(desc.param_values, f"{where}.values"),
        "label": desc.label,
        "task_types": list(desc.task_types),
    }
    if desc._param_source is None:
        node["param_set"] = _reference(desc.param_set)
    return node


def _measure_key(measure: Measure) -> str | None:
    return next((k for k in mlr_measures if mlr_measures.get(k).fun is measure.fun), None)


def _encode_measure(m: Measure, enc: Encoder, where: str) -> dict[str, Any]:
    node: dict[str, Any] = {TAG: "measure", "key": _measure_key(m), "id": m.id, "label": m.label}
    if node["key"] is None:
        node.update(
            task_type=m.task_type, predict_type=m.predict_type, fun=_reference(m.fun, "function"),
            minimize=m.minimize, range=list(m.range),
        )
    return node


def encode_object(value: Any, enc: Encoder, where: str) -> Any:
    """:class:`~mlrpy.fileformat.Encoder` hook: descriptors, measures, classes and functions."""
    from mlrpy.learners.torch_objects import TorchLoss, TorchOptimizer

    if isinstance(value, TorchCallback):
        return _encode_callback(value, enc, where)
    if isinstance(value, TorchOptimizer):
        return _encode_descriptor(value, "optimizer", enc, where)
    if isinstance(value, TorchLoss):
        return _encode_descriptor(value, "loss", enc, where)
    if isinstance(value, Measure):
        return _encode_measure(value, enc, where)
    if isinstance(value, np.random.RandomState):
        return {TAG: "random_state", "state": enc.encode(value.get_state(), where)}
    if isinstance(value, torch.nn.modules.loss._Loss):
        return _encode_loss_object(value, enc, where)
    if isinstance(value, type):
        return _reference(value)
    if is_named(value):
        return _reference(value, "function")
    return NotImplemented


def _encode_loss_object(loss: torch.nn.Module, enc: Encoder, where: str) -> Any:
    """A torch loss object (``loss=nn.CrossEntropyLoss(label_smoothing=0.1)``) as its class,
    its settings (the plain attributes its constructor stored) and its buffers (``weight``,
    ``pos_weight``); rebuilt by calling the class without arguments and restoring both."""
    settings = {
        k: v for k, v in vars(loss).items()
        if not k.startswith("_") and k != "training" and (v is None or isinstance(v, (bool, int, float, str)))
    }
    buffers = {k: v for k, v in loss._buffers.items() if v is not None}
    return {
        TAG: "loss_object",
        "class": _reference(type(loss)),
        "settings": enc.encode(settings, f"{where}.settings"),
        "buffers": enc.encode(buffers, f"{where}.buffers"),
    }


def save(learner: Any, path: str | os.PathLike[str]) -> None:
    """Save a trained learner to ``path`` (see :meth:`LearnerTorch.save`)."""
    path = user_path(path, "save(path)")
    model = learner.model
    document = {
        "learner": type(learner),
        "params": learner.get_params(deep=False),
        "fitted": {name: getattr(learner, name) for name in _FITTED if hasattr(learner, name)},
        # the input layout (numeric and embedded categorical columns) as plain lists
        "feature_info": (
            None if getattr(learner, "feature_info_", None) is None
            else dataclasses.asdict(learner.feature_info_)
        ),
        "model": {f.name: getattr(model, f.name) for f in dataclasses.fields(model) if f.name != "network"},
        "network": model.network.state_dict(),
    }
    write_file(path, KIND, document, encode_object)


# -- reading ------------------------------------------------------------------------------------
class _ObjectDecoder:
    """:class:`~mlrpy.fileformat.Decoder` hook resolving names through an :class:`Allowlist`."""

    def __init__(self, allow: Allowlist) -> None:
        self.allow = allow

    def __call__(self, tag: str, node: dict[str, Any], dec: Decoder) -> Any:
        if tag in ("class", "function"):
            return self.allow.resolve(str(node["path"]))
        if tag == "callback":
            return self._callback(node, dec)
        if tag in ("optimizer", "loss"):
            return self._descriptor(tag, node, dec)
        if tag == "loss_object":
            return self._loss_object(node, dec)
        if tag == "measure":
            return self._measure(node, dec)
        if tag == "random_state":
            state = np.random.RandomState()
            state.set_state(dec.decode(node["state"]))
            return state
        return NotImplemented

    def _callback(self, node: dict[str, Any], dec: Decoder) -> TorchCallback:
        callback_id = str(node["id"])
        check_identifier(callback_id, "Callback id")
        if "scheduler" in node:
            tc = as_lr_scheduler(dec.decode(node["scheduler"]), bool(node["step_on_epoch"]), callback_id)
        else:
            path = str(node["generator"]["path"])
            generator = dec.decode(node["generator"])
            prototype = self.allow.callbacks.get(path)
            if prototype is not None:
                tc = prototype.clone()
                tc.id = callback_id
                tc.param_values = {}
            else:
                param_set = dec.decode(node["param_set"]) if node.get("param_set") else None
                tc = TorchCallback(callback_id, generator, param_set=param_set, label=node.get("label"))
        tc.weight = node.get("weight")
        tc.set_values(**dec.decode(node["values"]))
        return tc

    def _loss_object(self, node: dict[str, Any], dec: Decoder) -> torch.nn.Module:
        cls = dec.decode(node["class"])
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.modules.loss._Loss)):
            raise ValueError(f"loss class {type_path(cls)} is not a torch loss")
        try:
            loss = cls()
        except TypeError as err:  # a loss whose constructor needs arguments
            raise ValueError(f"loss class {type_path(cls)} needs constructor arguments: {err}") from err
        for name, value in dec.decode(node["settings"]).items():
            setattr(loss, name, value)
        for name, tensor in dec.decode(node["buffers"]).items():
            loss._buffers[name] = tensor
        return loss

    def _descriptor(self, tag: str, node: dict[str, Any], dec: Decoder) -> Any:
        from mlrpy.learners.torch_objects import TorchLoss, TorchOptimizer, mlr_losses, mlr_optimizers

        cls = dec.decode(node["class"])
        base, registry, descriptor_class = (
            (torch.optim.Optimizer, mlr_optimizers, TorchOptimizer)
            if tag == "optimizer"
            else (torch.nn.Module, mlr_losses, TorchLoss)
        )
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise ValueError(f"{tag} class {type_path(cls)} is not a {base.__name__}")
        key = str(node["id"])
        if key in registry and registry.get(key).torch_class is cls:
            desc = registry.get(key)
        else:
            param_set = dec.decode(node["param_set"]) if node.get("param_set") else None
            extra = {} if tag == "optimizer" else {"task_types": tuple(node.get("task_types", ()))}
            desc = descriptor_class(cls, key, param_set=param_set, label=node.get("label"), **extra)
        return desc.set_values(**dec.decode(node["values"]))

    def _measure(self, node: dict[str, Any], dec: Decoder) -> Measure:
        if node.get("key") is not None:
            return mlr_measures.get(str(node["key"]), id=node["id"], label=node["label"])
        return Measure(
            id=node["id"], task_type=node["task_type"], predict_type=node["predict_type"],
            fun=dec.decode(node["fun"]), minimize=bool(node["minimize"]),
            range=tuple(node["range"]), label=node["label"],
        )


def _placement(map_location: Any) -> Callable[[torch.Tensor, str], torch.Tensor] | None:
    """``map_location`` as in ``torch.load``: a device, a ``{saved: new}`` dict or a function."""
    if map_location is None:
        target: Callable[[str], Any] = lambda saved: saved  # noqa: E731
    elif isinstance(map_location, (str, torch.device)):
        device = torch.device(map_location)
        target = lambda saved: device  # noqa: E731
    elif isinstance(map_location, dict):
        mapping = {str(k): v for k, v in map_location.items()}
        target = lambda saved: mapping.get(saved, saved)  # noqa: E731
    elif callable(map_location):
        fn = map_location
        target = lambda saved: getattr(fn(torch.UntypedStorage(0), saved), "device", "cpu")  # noqa: E731
    else:
        raise ParameterError(
            f"map_location must be None, a device ('cpu', 'cuda:0', torch.device), a dict or a "
            f"function, got {map_location!r}"
        )

    def place(tensor: torch.Tensor, saved: str) -> torch.Tensor:
        device = target(saved)
        if str(device) == "cpu":
            return tensor
        try:
            return tensor.to(device)
        except (RuntimeError, AssertionError) as err:
            raise ParameterError(
                f"cannot put the tensors saved on {saved} on {device} ({err}); pass "
                f"map_location='cpu' (or another available device)"
            ) from None

    return place


def _as_trusted(trusted: Any) -> Iterable[Any]:
    return [trusted] if isinstance(trusted, (str, type)) or not isinstance(trusted, Iterable) else trusted


def load(path: str | os.PathLike[str], map_location: Any = None, trusted: Iterable[Any] = ()) -> Any:
    """Load a learner saved with ``learner.save(path)``; no code from the file runs.

    Args:
        path: the file (``~`` is expanded).
        map_location: where to put the tensors: ``None`` (where they were saved), a device
            (``"cpu"``, ``"cuda:0"``, a ``torch.device``), a ``{saved: new}`` dict, or a
            function ``(storage, saved_location)`` returning a storage, as in ``torch.load``.
        trusted: classes, functions, ``TorchCallback`` objects or ``"module:qualname"``
            strings the file may name besides mlrpy's registries, ``torch.nn``,
            ``torch.optim`` and ``torch.optim.lr_scheduler`` (your own module class,
            callback, optimizer or measure function).

    Raises:
        UntrustedFileError: the file names a class or function that is not allowlisted
            (nothing was imported).
        CorruptFileError: the file is truncated, altered, or not an mlrpy file.
        IncompatibleFileError: it is a checkpoint, or in a file format this mlrpy does not read.

    Example:
        >>> import tempfile, os
        >>> import mlrpy
        >>> learner = mlrpy.lrn("classif.mlp", epochs=1, random_state=0).train(mlrpy.tsk("iris"))
        >>> path = os.path.join(tempfile.mkdtemp(), "model.mlrpy")
        >>> learner.save(path)
        >>> mlrpy.load(path).model.epochs
        1
    """
    from mlrpy.learners import LearnerTorch, TorchModel
    from mlrpy.learners.features import FeatureInfo

    path = user_path(path, "load(path)")
    allow = Allowlist(_as_trusted(trusted))
    document = read_file(
        path,
        KIND,
        place=_placement(map_location),
        decode_object=_ObjectDecoder(allow),
        check_document=lambda doc: allow.check(doc, path),
    )
    try:
        cls = document["learner"]
        if not (isinstance(cls, type) and issubclass(cls, LearnerTorch)):
            raise TypeError(f"{type_path(cls)} is not a learner class")
        learner = cls(**document["params"])
        for name, value in document["fitted"].items():
            setattr(learner, name, value)
        if document.get("feature_info") is not None:
            learner.feature_info_ = FeatureInfo(**document["feature_info"])
        if getattr(learner, "classes_", None) is not None:
            learner._label_encoder = LabelEncoder()
            learner._label_encoder.classes_ = learner.classes_
        names = {f.name for f in dataclasses.fields(TorchModel)}
        meta = {k: v for k, v in document["model"].items() if k in names and k != "network"}
        state = document["network"]
        network = learner._build_network(meta["n_features"], learner._n_outputs())
        network.load_state_dict(state)
    except MlrpyError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CorruptFileError(
            f"'{path}' does not hold a usable learner: {type(err).__name__}: {err}"
        ) from None
    devices = {t.device for t in state.values()}
    if len(devices) == 1:
        network.to(devices.pop())
    network.eval()
    learner.model_ = TorchModel(network=network, **meta)
    return learner
