"""Local files: checked user paths and atomic, durable writes.

Every path a user gives mlrpy (``save``, ``load``, ``resume``, the ``checkpoint``,
``csv_logger`` and ``tb`` callbacks) goes through :func:`user_path`, and every file mlrpy
writes goes through :func:`atomic_write`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from mlrpy.errors import ParameterError

__all__ = ["atomic_write", "fsync_folder", "remove_temporaries", "user_path"]

# "s3://", "gs://", "https://", "file://", ...; two letters at least, so "C://x" stays a drive
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_TMP_SUFFIX = ".tmp"


def user_path(path: Any, what: str) -> Path:
    """``path`` as a local :class:`~pathlib.Path` with ``~`` expanded.

    Args:
        path: a string or ``os.PathLike``.
        what: how the error names the parameter (``"save(path)"``, ``"cb.checkpoint.path"``).

    Raises:
        ParameterError: ``path`` is empty, not a path, or a URL (``s3://...``): mlrpy reads
            and writes local files only.

    Example:
        >>> import os
        >>> from mlrpy.io import user_path
        >>> str(user_path("~/runs", "path")) == os.path.join(os.path.expanduser("~"), "runs")
        True
        >>> user_path("s3://bucket/model.pt", "save(path)")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mlrpy.errors.ParameterError: save(path) = 's3://bucket/model.pt' is a URL; mlrpy reads ...
    """
    if isinstance(path, Path):
        text = str(path)
    elif isinstance(path, (str, os.PathLike)):
        text = os.fspath(path)
        if isinstance(text, bytes):
            raise ParameterError(f"{what} must be a str or pathlib.Path, got bytes {path!r}")
    else:
        raise ParameterError(f"{what} must be a str or pathlib.Path, got {type(path).__name__}: {path!r}")
    if not text.strip():
        raise ParameterError(f"{what} is empty; give a file or folder path")
    if _URL.match(text):
        raise ParameterError(
            f"{what} = {text!r} is a URL; mlrpy reads and writes local files only: use a local "
            f"path (and copy the file with your storage client)"
        )
    return Path(text).expanduser()


def _writer_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else, or cannot be asked: leave it
    return True


def remove_temporaries(folder: Path, name_pattern: str) -> list[str]:
    """Delete the temporary files that interrupted :func:`atomic_write` calls left in ``folder``
    for target names matching the regular expression ``name_pattern``; returns their names.

    A temporary file carries its writer's process id; only those of processes that no longer
    exist are removed, so a concurrent write (another thread or a live process) keeps its file.
    """
    if not folder.is_dir():
        return []
    pattern = re.compile(
        r"^\." + f"(?:{name_pattern})" + r"\.(?P<pid>[0-9]+)-[0-9a-f]{16}" + re.escape(_TMP_SUFFIX) + "$"
    )
    removed = []
    for entry in folder.iterdir():
        match = pattern.match(entry.name)
        if match and not _writer_alive(int(match["pid"])):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry.name)
    return removed


def fsync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (new, renamed, deleted files) to disk.

    A rename is atomic but lives in the folder's metadata: until the folder is synced, a power
    loss can undo it. Windows cannot open folders for syncing and commits renames itself.
    """
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any] | bytes) -> Path:
    """Write ``path`` through a temporary file beside it, then rename it into place.

    ``write`` is the content (``bytes``) or a function writing to the open binary file. The
    file is flushed to disk before the rename and the folder after it, so readers (and a
    machine after a power loss) see either the old file or the complete new one. The temporary
    file is removed if writing fails; temporaries of the same target that a killed process
    left behind are removed by the next write (a live writer's are left alone).

    Example:
        >>> import tempfile, pathlib
        >>> from mlrpy.io import atomic_write
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.bin"
        >>> _ = atomic_write(target, b"done")
        >>> target.read_bytes()
        b'done'
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"Cannot write to '{path}': it is a directory")
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    remove_temporaries(folder, re.escape(path.name))
    tmp = folder / f".{path.name}.{os.getpid()}-{secrets.token_hex(8)}{_TMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(write, bytes):
                f.write(write)
            else:
                write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_folder(folder)
    return path
