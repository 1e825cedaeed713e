"""Typed exceptions: every user mistake maps to one of these.

Each class also derives from the built-in exception a Python user would catch
(``KeyError``, ``ValueError``, ``TypeError``, ``RuntimeError``), so ``except ValueError``
keeps working.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError

__all__ = [
    "CallbackDefinitionError",
    "CallbackStageError",
    "CheckpointError",
    "CorruptFileError",
    "DataError",
    "DistributedError",
    "DivergenceError",
    "IncompatibleFileError",
    "MlrpyError",
    "NotFittedError",
    "ParameterError",
    "UnknownKeyError",
    "UnstorableValueError",
    "UntrustedFileError",
]


class MlrpyError(Exception):
    """Base class of every error raised by mlrpy itself."""


class UnknownKeyError(MlrpyError, KeyError):
    """A registry key, parameter name or column that does not exist.

    ``KeyError`` quotes its message when printed; this subclass prints it as written.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CallbackDefinitionError(MlrpyError, TypeError):
    """A callback definition that cannot work (misspelled stage, bad signature, ...)."""


class ParameterError(MlrpyError, ValueError):
    """A hyperparameter value that fails its schema, or a name that is not a parameter."""


class DataError(MlrpyError, ValueError):
    """Training or prediction data of the wrong shape, dtype, columns or content."""


class CallbackStageError(MlrpyError, RuntimeError):
    """An exception raised inside a callback's stage method; chained to the original."""

    def __init__(self, callback_id: str, stage: str, original: BaseException) -> None:
        self.callback_id = callback_id
        self.stage = stage
        self.original = original
        super().__init__(
            f"Callback '{callback_id}' failed in stage '{stage}': "
            f"{type(original).__name__}: {original}"
        )

    def __reduce__(self):  # keep the error picklable for joblib workers
        return (type(self), (self.callback_id, self.stage, self.original))


class DistributedError(MlrpyError, RuntimeError):
    """A worker of a data-parallel run (``strategy="ddp"``) failed: it raised, or it was
    killed. The message names the rank (and the callback and stage where there was one); the
    worker's own exception, where it could be sent back, is chained as ``__cause__``."""

    def __init__(self, message: str, rank: int | None = None) -> None:
        super().__init__(message)
        self.rank = rank


class CheckpointError(MlrpyError, RuntimeError):
    """A checkpoint folder or file that cannot be written, read or resumed from."""


class DivergenceError(MlrpyError, FloatingPointError):
    """Training produced a NaN or infinite loss, or a network with non-finite weights."""


class CorruptFileError(MlrpyError, ValueError):
    """A model file or checkpoint that is truncated, altered or not an mlrpy file at all
    (its content does not match the SHA-256 checksum it carries, or it has none)."""


class IncompatibleFileError(MlrpyError, ValueError):
    """An mlrpy file of another kind (a checkpoint given to ``load``) or written in a file
    format this mlrpy version does not read."""


class UntrustedFileError(MlrpyError, ValueError):
    """A model file naming classes or functions that are not allowlisted; nothing was imported.

    Loading resolves names only from mlrpy's registries, ``torch.nn``, ``torch.optim``,
    ``torch.optim.lr_scheduler`` and what the caller passes as ``trusted``.
    """

    def __init__(self, message: str, names: list[str] | None = None) -> None:
        super().__init__(message)
        self.names = list(names or [])

    def __reduce__(self):  # keep the error picklable for joblib workers
        return (type(self), (self.args[0], self.names))


class UnstorableValueError(MlrpyError, TypeError):
    """A value that a model file or checkpoint cannot hold: files store data (numbers,
    strings, lists, dicts, arrays, tensors) and classes or functions by name, nothing else."""
