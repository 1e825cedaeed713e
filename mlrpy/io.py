"""Atomic file writes: a failing or interrupted write never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place.

    The rename is atomic on POSIX and Windows, so readers see either the old file or the
    complete new one. The temporary file is removed if ``write`` raises.

    Example:
        >>> import tempfile, pathlib
        >>> from mlrpy.io import atomic_write
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.bin"
        >>> _ = atomic_write(target, lambda f: f.write(b"done"))
        >>> target.read_bytes()
        b'done'
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"Cannot write to '{path}': it is a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with_suppress_unlink(tmp)
        raise
    return path


def with_suppress_unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
