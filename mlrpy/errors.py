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
    "DataError",
    "DivergenceError",
    "MlrpyError",
    "NotFittedError",
    "ParameterError",
    "UnknownKeyError",
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


class CheckpointError(MlrpyError, RuntimeError):
    """A checkpoint folder or file that cannot be written, read or resumed from."""


class DivergenceError(MlrpyError, FloatingPointError):
    """Training produced a NaN or infinite loss, or a network with non-finite weights."""
