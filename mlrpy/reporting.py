"""Progress bars and log messages of long work (resample, benchmark, tune).

mlrpy reports through the standard :mod:`logging` module, under the logger ``"mlrpy"``
(modules log to children such as ``"mlrpy.tuning"``): configure it like any other, e.g.
``logging.basicConfig(level=logging.INFO)`` to see what ``tune`` evaluates. Nothing is
printed except where printing is the point (the ``progress`` callback,
``learner.show_training_loop()``, the command line).

:func:`run_jobs` runs :func:`joblib.delayed` calls through :class:`joblib.Parallel` and shows
a tqdm bar with an ETA on stderr while results come in. ``progress=None`` shows it only when
stderr is a terminal; ``True`` always; ``False`` never.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

from joblib import Parallel
from tqdm.auto import tqdm

from mlrpy.errors import ParameterError

__all__ = ["logger", "progress_bar", "run_jobs", "shows_progress"]

logger = logging.getLogger("mlrpy")


def shows_progress(progress: bool | None) -> bool:
    """Whether a bar is shown: ``progress``, or for ``None`` whether stderr is a terminal.

    Example:
        >>> from mlrpy.reporting import shows_progress
        >>> shows_progress(False), shows_progress(True)
        (False, True)
    """
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty()) if callable(isatty) else False
    if not isinstance(progress, bool):
        raise ParameterError(f"progress must be True, False or None (auto), got {progress!r}")
    return progress


def progress_bar(total: int, desc: str, progress: bool | None) -> Any:
    """A tqdm bar on stderr, counting to ``total``; a disabled one when not shown."""
    return tqdm(total=total, desc=desc, disable=not shows_progress(progress), file=sys.stderr,
                dynamic_ncols=True)


def run_jobs(jobs: Iterable[Any], n_jobs: int | None, progress: bool | None, desc: str) -> list[Any]:
    """The results of ``jobs`` (:func:`joblib.delayed` calls), in order, with a progress bar.

    Example:
        >>> from joblib import delayed
        >>> from mlrpy.reporting import run_jobs
        >>> run_jobs([delayed(abs)(-1), delayed(abs)(-2)], n_jobs=None, progress=False, desc="abs")
        [1, 2]
    """
    jobs = list(jobs)
    results = []
    with progress_bar(len(jobs), desc, progress) as bar:
        for result in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
            results.append(result)
            bar.update(1)
    return results
