"""``learner.save(path)`` / ``mlrpy.load(path)``: one file, written atomically.

The file holds the learner's class and constructor parameters, the network's ``state_dict``,
the callback states and the rest of ``learner.model``. Loading rebuilds the network from the
parameters, so a file can be loaded onto another device with ``map_location``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from typing import Any

import torch

from mlrpy.errors import MlrpyError
from mlrpy.io import atomic_write

__all__ = ["FORMAT_VERSION", "IncompatibleFileError", "load", "save"]

#: Bumped whenever the file layout changes incompatibly.
FORMAT_VERSION = 1
_FITTED = ("n_features_in_", "feature_names_in_", "classes_", "_label_encoder")


class IncompatibleFileError(MlrpyError, ValueError):
    """A file that is not an mlrpy learner, or was written by an incompatible mlrpy version."""


def save(learner: Any, path: str | os.PathLike[str]) -> None:
    """Save a trained learner to ``path`` (see :meth:`LearnerTorch.save`)."""
    from mlrpy import __version__

    model = learner.model
    meta = {f.name: getattr(model, f.name) for f in dataclasses.fields(model) if f.name != "network"}
    payload = {
        "mlrpy_format": FORMAT_VERSION,
        "mlrpy_version": __version__,
        "class": f"{type(learner).__module__}:{type(learner).__qualname__}",
        "params": learner.get_params(deep=False),
        "network_state": model.network.state_dict(),
        "model": meta,
        "fitted": {name: getattr(learner, name) for name in _FITTED if hasattr(learner, name)},
    }
    atomic_write(path, lambda f: torch.save(payload, f))


def load(path: str | os.PathLike[str], map_location: Any = None) -> Any:
    """Load a learner saved with ``learner.save(path)``.

    Args:
        path: the file.
        map_location: where to put the tensors (``"cpu"``, ``"cuda"``, a ``torch.device``);
            as in ``torch.load``.

    Raises:
        IncompatibleFileError: the file is not an mlrpy learner or its format is unknown.

    Example:
        >>> import tempfile, os
        >>> import mlrpy
        >>> learner = mlrpy.lrn("classif.mlp", epochs=1, random_state=0).train(mlrpy.tsk("iris"))
        >>> path = os.path.join(tempfile.mkdtemp(), "model.pt")
        >>> learner.save(path)
        >>> mlrpy.load(path).model.epochs
        1
    """
    from mlrpy import __version__
    from mlrpy.learners.model import TorchModel

    # the file pickles the learner's parameters (callbacks, optimizer descriptors), so it must
    # be trusted like any pickle
    payload = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(payload, dict) or "mlrpy_format" not in payload:
        raise IncompatibleFileError(f"'{path}' is not an mlrpy learner file")
    if payload["mlrpy_format"] != FORMAT_VERSION:
        raise IncompatibleFileError(
            f"'{path}' was written by mlrpy {payload.get('mlrpy_version')} in file format "
            f"{payload['mlrpy_format']}; this mlrpy ({__version__}) reads format {FORMAT_VERSION}. "
            f"Load it with the mlrpy version that wrote it and retrain or re-save."
        )
    module, _, qualname = payload["class"].partition(":")
    cls: Any = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    learner = cls(**payload["params"])
    for name, value in payload["fitted"].items():
        setattr(learner, name, value)
    meta = payload["model"]
    n_outputs = learner._n_outputs()
    network = learner._build_network(meta["n_features"], n_outputs)
    network.load_state_dict(payload["network_state"])
    if map_location is not None:
        network.to(map_location if not callable(map_location) else "cpu")
    network.eval()
    learner.model_ = TorchModel(network=network, **meta)
    return learner
