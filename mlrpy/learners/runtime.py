"""Where and how a run executes: the device, torch's thread count, and the tasks that the
callbacks of a scikit-learn ``fit`` see."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch

from mlrpy.errors import ParameterError
from mlrpy.tasks import TaskClassif, TaskRegr

__all__ = ["array_tasks", "feature_names", "resolve_device", "seed_torch", "torch_threads"]


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads, restoring the previous count afterwards;
    ``None`` leaves torch's setting alone."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _available_devices() -> list[str]:
    found = ["cpu"]
    found += [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if _mps_available():
        found.append("mps")
    return found


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def resolve_device(device: str | torch.device) -> torch.device:
    """The ``torch.device`` a run uses; a device this machine lacks is a ParameterError.

    ``"auto"`` picks CUDA, then MPS, then the CPU.

    Example:
        >>> from mlrpy.learners.runtime import resolve_device
        >>> resolve_device("cpu")
        device(type='cpu')
        >>> resolve_device("cuda:99")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mlrpy.errors.ParameterError: device='cuda:99' is not available on this machine ...
    """
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ParameterError(f"device={device!r} is not a device ({err}); use 'auto' or 'cpu'") from None
    if chosen.type == "cuda":
        available = torch.cuda.is_available() and (chosen.index or 0) < torch.cuda.device_count()
    elif chosen.type == "mps":
        available = _mps_available()
    else:
        available = chosen.type == "cpu"
    if not available:
        raise ParameterError(
            f"device={str(chosen)!r} is not available on this machine (available: "
            f"{', '.join(_available_devices())}); use 'auto' (the best available) or 'cpu'"
        )
    return chosen


def seed_torch(seed: int, device: torch.device) -> None:
    """Seed the generators a run on ``device`` draws from: the CPU's, and the device's own.

    Unlike ``torch.manual_seed`` this leaves the other accelerators' generators alone, which
    the run does not fork and so must not change, and it skips their lazy seeding calls
    (~0.4 ms of every fit, measurable for small fits).
    """
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        with torch.cuda.device(device.index or 0):
            torch.cuda.manual_seed(seed)
    elif device.type != "cpu":
        torch.manual_seed(seed)


def feature_names(learner: Any) -> list[str]:
    """The training columns' names: a DataFrame's, else ``x0``, ``x1``, ..."""
    names = [str(c) for c in getattr(learner, "feature_names_in_", [])]
    return names or [f"x{i}" for i in range(learner.n_features_in_)]


def _task_from_arrays(learner: Any, X: np.ndarray, y: np.ndarray, id: str) -> Any:
    names = feature_names(learner)
    target = next(t for t in ("target", "y", ".target") if t not in names)
    frame = pd.DataFrame(X, columns=names, copy=False)
    frame[target] = y
    task_class = TaskClassif if learner.task_type == "classif" else TaskRegr
    return task_class(id, frame, target=target)


def array_tasks(
    learner: Any,
    X_train: np.ndarray,
    y: Any,
    train_positions: np.ndarray | None,
    valid_positions: np.ndarray | None,
    validation_data: Any,
    X_valid: np.ndarray | None,
) -> tuple[Any, Any]:
    """Tasks over the training and validation rows of ``fit(X, y)``, so that callbacks read
    ``ctx.task_train`` / ``ctx.task_valid`` in the scikit-learn face as after ``train(task)``.

    ``X_train`` holds the training rows only; ``y`` all labels, before a held-out split at
    ``train_positions`` / ``valid_positions``. Both tasks are views of one task over all rows,
    so a validation part with a single class is still a valid task.
    """
    y = np.asarray(y)
    if train_positions is not None and valid_positions is not None:
        X_all = np.empty((len(y), X_train.shape[1]), dtype=X_train.dtype)
        X_all[train_positions], X_all[valid_positions] = X_train, np.asarray(X_valid)
        task = _task_from_arrays(learner, X_all, y, "train")
        return task.clone().filter(train_positions.tolist()), task.clone().filter(valid_positions.tolist())
    if validation_data is None or X_valid is None:
        return _task_from_arrays(learner, X_train, y, "train"), None
    y_valid = np.asarray(validation_data[1]).ravel()
    if learner.task_type == "regr":
        y_valid = y_valid.astype(np.float64)
    n = len(X_train)
    task = _task_from_arrays(
        learner, np.concatenate([X_train, np.asarray(X_valid)]), np.concatenate([y, y_valid]), "train"
    )
    return task.clone().filter(list(range(n))), task.clone().filter(list(range(n, len(task.row_ids))))
