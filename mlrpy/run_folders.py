"""Where runs checkpoint: the folders of a learner and the subfolders given to each run.

A learner checkpoints to (or resumes from) the folders of its ``checkpoint`` callbacks and
its ``resume`` parameter. When one learner is trained many times, each run gets its own
subfolder, so no two runs write to one folder: ``iter_<i>`` per resampling iteration
(:func:`~mlrpy.resample.resample`, :func:`~mlrpy.benchmark.benchmark`), ``config_<j>`` per
tuning configuration and ``best`` for the final model (:func:`~mlrpy.tuning.tune`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlrpy.callbacks import CallbackSetCheckpoint, as_torch_callbacks
from mlrpy.callbacks.checkpoint import resolve_path
from mlrpy.learners import LearnerTorch

__all__ = ["checkpoint_folders", "iteration_params", "subfolder_params"]


def checkpoint_folders(learner: Any) -> dict[str, Path]:
    """The folders ``learner`` checkpoints to or resumes from, by the parameter naming them.

    Keys are ``"cb.<id>.path"`` for every checkpoint callback with a path (a callable path is
    called once, here) and ``"resume"`` when ``resume`` is a folder. mlrpy learners nested in
    another learner (a Pipeline step, the learner of an auto tuner) count too, their keys
    prefixed as in ``get_params`` (``"mlp__cb.checkpoint.path"``).

    Example:
        >>> from mlrpy import lrn, t_clbk
        >>> from mlrpy.run_folders import checkpoint_folders
        >>> learner = lrn("classif.mlp", callbacks=[t_clbk("checkpoint", path="runs/a")],
        ...               resume="runs/a")
        >>> {k: v.as_posix() for k, v in checkpoint_folders(learner).items()}
        {'cb.checkpoint.path': 'runs/a', 'resume': 'runs/a'}
    """
    owners = {"": learner}
    if not isinstance(learner, LearnerTorch) and callable(getattr(learner, "get_params", None)):
        owners.update({
            f"{key}__": value for key, value in learner.get_params(deep=True).items()
            if isinstance(value, LearnerTorch)
        })
    folders: dict[str, Path] = {}
    for prefix, owner in owners.items():
        if not isinstance(owner, LearnerTorch):
            continue
        for tc in as_torch_callbacks(owner.callbacks):
            path = tc.get_values().get("path")
            if issubclass(tc.generator, CallbackSetCheckpoint) and path is not None:
                folders[prefix + tc.key_prefix + "path"] = resolve_path(path)
        if isinstance(owner.resume, (str, os.PathLike)):
            folders[prefix + "resume"] = Path(owner.resume)
    return folders


def subfolder_params(folders: dict[str, Path], name: str) -> dict[str, str]:
    """The parameters moving every folder of :func:`checkpoint_folders` to its subfolder ``name``.

    Example:
        >>> from pathlib import Path
        >>> from mlrpy.run_folders import subfolder_params
        >>> subfolder_params({"resume": Path("runs")}, "config_3") == {"resume": str(Path("runs/config_3"))}
        True
    """
    return {key: str(folder / name) for key, folder in folders.items()}


def iteration_params(folders: dict[str, Path], i: int) -> dict[str, str]:
    """The parameters giving iteration ``i`` its own subfolder ``iter_<i>`` of each folder.

    ``folders`` comes from :func:`checkpoint_folders`; pass the result to ``set_params`` of
    the iteration's learner.

    Example:
        >>> from pathlib import Path
        >>> from mlrpy.run_folders import iteration_params
        >>> iteration_params({"resume": Path("runs")}, 2) == {"resume": str(Path("runs/iter_2"))}
        True
    """
    return subfolder_params(folders, f"iter_{i}")
