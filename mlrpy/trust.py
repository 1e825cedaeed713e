"""The allowlist of classes and functions a model file may name.

A file names classes and functions as ``"module:qualname"`` strings. Loading resolves them
from this allowlist only: the classes registered in mlrpy's registries (learners, callbacks,
optimizers, losses), the public classes of ``torch.nn``, ``torch.optim`` and
``torch.optim.lr_scheduler``, and what the caller passes as ``trusted``. Every name is checked
before anything is decoded, so a file naming anything else raises
:class:`~mlrpy.errors.UntrustedFileError` and nothing is imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import torch
import torch.optim.lr_scheduler

from mlrpy.callbacks import TorchCallback, mlr_callbacks
from mlrpy.errors import ParameterError, UntrustedFileError
from mlrpy.fileformat import TAG, is_named, type_path

__all__ = ["REFERENCE_TAGS", "Allowlist", "named_paths"]

#: Document tags whose ``"path"`` names a class or function.
REFERENCE_TAGS = ("class", "function")
_TORCH_NAMESPACES = (torch.nn, torch.optim, torch.optim.lr_scheduler)


def named_paths(document: Any) -> list[str]:
    """Every class or function path a document names, in order of appearance, unique."""
    found: dict[str, None] = {}
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if node.get(TAG) in REFERENCE_TAGS:
                found[str(node.get("path"))] = None
            stack.extend(reversed(list(node.values())))
    return list(found)


def _torch_classes() -> dict[str, Any]:
    out = {}
    for namespace in _TORCH_NAMESPACES:
        for obj in vars(namespace).values():
            if isinstance(obj, type) and obj.__module__.startswith("torch."):
                out[type_path(obj)] = obj
    return out


def _registry_classes() -> tuple[dict[str, Any], dict[str, TorchCallback]]:
    # the learner registry lives above the callbacks; importing it here (and not at module
    # level) keeps mlrpy.trust importable from anywhere in the package
    from mlrpy.learners import mlr_learners, mlr_losses, mlr_optimizers

    classes: dict[str, Any] = {}
    callbacks: dict[str, TorchCallback] = {}
    for key in mlr_learners:
        learner_class = type(mlr_learners.get(key))
        classes[type_path(learner_class)] = learner_class
    for key in mlr_callbacks:
        tc = mlr_callbacks.get(key)
        classes[type_path(tc.generator)] = tc.generator
        classes[type_path(tc.param_set)] = tc.param_set
        callbacks.setdefault(type_path(tc.generator), tc)
    for registry in (mlr_optimizers, mlr_losses):
        for key in registry:
            descriptor = registry.get(key)
            classes[type_path(descriptor.torch_class)] = descriptor.torch_class
            classes[type_path(descriptor.param_set)] = descriptor.param_set
    return classes, callbacks


class Allowlist:
    """What a file may name, given the caller's ``trusted`` entries.

    Args:
        trusted: classes, functions, ``TorchCallback`` objects (their generator class and
            parameter set) or ``"module:qualname"`` strings (imported only when a file names
            them).

    Example:
        >>> import torch
        >>> from mlrpy.trust import Allowlist
        >>> allow = Allowlist()
        >>> allow.resolve("torch.nn.modules.activation:ReLU") is torch.nn.ReLU
        True
        >>> allow.untrusted(["os:system", "torch.nn.modules.linear:Linear"])
        ['os:system']
    """

    def __init__(self, trusted: Iterable[Any] = ()) -> None:
        if isinstance(trusted, (str, type)) or not isinstance(trusted, Iterable):
            trusted = [trusted]
        self.classes = _torch_classes()
        registry_classes, self.callbacks = _registry_classes()
        self.classes.update(registry_classes)
        self.importable: set[str] = set()
        for entry in trusted:
            self._trust(entry)

    def _trust(self, entry: Any) -> None:
        if isinstance(entry, str):
            module, _, qualname = entry.partition(":")
            if not module or not qualname:
                raise ParameterError(
                    f"trusted: {entry!r} is not a 'module:qualname' string (e.g. 'mypackage.nets:Net')"
                )
            self.importable.add(entry)
        elif isinstance(entry, TorchCallback):
            self.classes[type_path(entry.generator)] = entry.generator
            self.classes[type_path(entry.param_set)] = entry.param_set
            self.callbacks[type_path(entry.generator)] = entry
        elif hasattr(entry, "torch_class") and hasattr(entry, "param_set"):  # t_opt() / t_loss()
            self.classes[type_path(entry.torch_class)] = entry.torch_class
            self.classes[type_path(entry.param_set)] = entry.param_set
        elif is_named(entry):
            self.classes[type_path(entry)] = entry
        else:
            raise ParameterError(
                f"trusted entries are classes, functions, TorchCallback objects or "
                f"'module:qualname' strings; got {type(entry).__name__}: {entry!r}"
            )

    def untrusted(self, paths: Iterable[str]) -> list[str]:
        """The paths that are neither allowlisted nor trusted."""
        return [p for p in paths if p not in self.classes and p not in self.importable]

    def check(self, document: Any, file: Any) -> None:
        """Raise :class:`UntrustedFileError` if ``document`` names anything not allowed."""
        bad = self.untrusted(named_paths(document))
        if bad:
            raise UntrustedFileError(
                f"'{file}' names classes or functions that are not trusted: {', '.join(bad)}. "
                f"Nothing was imported. Loading resolves names only from mlrpy's registries, "
                f"torch.nn, torch.optim and torch.optim.lr_scheduler; if you trust this file, pass "
                f"them: mlrpy.load(path, trusted=[...]) with the classes, functions or "
                f"'module:qualname' strings",
                names=bad,
            )

    def resolve(self, path: str) -> Any:
        """The object behind an allowed ``path``."""
        if path in self.classes:
            return self.classes[path]
        if path not in self.importable:
            raise UntrustedFileError(f"{path} is not trusted", names=[path])
        module_name, _, qualname = path.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as err:
            raise ParameterError(f"trusted entry {path!r} cannot be imported: {err}") from err
        self.classes[path] = obj
        return obj
