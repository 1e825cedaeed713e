"""Properties every built-in callback must have; the list of built-ins comes from the registry,
so a new one is checked without touching this file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from mlrpy import lrn, t_clbk, torch_callback, tsk
from tests.callbacks.support import builtin, builtin_keys

HERE = Path(__file__).resolve().parent
PLAIN_SCALARS = (bool, int, float, str, type(None), np.generic)


def non_plain(x: Any, where: str = "state") -> list[str]:
    """Where ``x`` holds something other than dicts, lists, tuples, numbers, strings, bools,
    None, torch tensors and numpy arrays (of plain dtypes)."""
    if isinstance(x, dict):
        return [p for k, v in x.items() for p in non_plain(k, f"{where} key") + non_plain(v, f"{where}[{k!r}]")]
    if isinstance(x, (list, tuple)):
        return [p for i, v in enumerate(x) for p in non_plain(v, f"{where}[{i}]")]
    if isinstance(x, np.ndarray):
        return [] if x.dtype != object else [f"{where}: numpy array of Python objects"]
    if isinstance(x, (torch.Tensor, *PLAIN_SCALARS)):
        return []
    return [f"{where}: {type(x).__module__}.{type(x).__qualname__}"]


def test_the_registry_lists_the_builtins():
    assert {"history", "checkpoint", "early_stopping", "lr_step"} <= set(builtin_keys())


@pytest.mark.parametrize("key", builtin_keys())
def test_each_builtin_has_its_test_file(key):
    assert (HERE / f"test_{key}.py").is_file(), f"add tests/callbacks/test_{key}.py for the built-in '{key}'"


@pytest.mark.parametrize("key", builtin_keys())
def test_state_is_plain_data(key, tmp_path):
    """Saved states load without unpickling arbitrary objects: mid-run (what checkpoints save)
    and at the end (``model.callbacks``)."""
    mid_run: list[Any] = []

    def on_epoch_end(self):
        mid_run.extend(cb.state_dict() for cb in self.ctx.callbacks if cb.id == key)

    probe = torch_callback("state_probe", weight=5000, on_epoch_end=on_epoch_end)
    tc = builtin(key, tmp_path)
    learner = lrn("classif.mlp", epochs=2, batch_size=50, random_state=0, validate=0.3,
                  measures_valid=["classif.acc"], callbacks=[tc, probe])
    learner.train(tsk("iris"))
    states = [*mid_run, learner.model.callbacks.get(key)]
    if tc.generator.has_state():
        assert states[-1] is not None, f"'{key}' keeps state but saved none"
    for state in states:
        assert non_plain(state) == [], f"'{key}' state is not plain data"


@pytest.mark.parametrize("key", builtin_keys())
def test_parameters_are_declared_once_and_documented(key):
    tc = t_clbk(key)
    doc = tc.generator.__doc__ or ""
    assert "Example:" in doc and ">>>" in doc
    assert not re.search(r"^\s*Args:\s*$", doc, re.M), f"'{key}': the docstring restates its parameters"
    man = tc.man
    for name, field in tc.param_set.model_fields.items():
        assert field.description, f"'{key}': parameter '{name}' has no description in its signature"
        assert re.search(rf"^    {name} \(.*\): {re.escape(field.description)}$", man, re.M), name
        assert not re.search(rf"^\s+{name}: ", doc, re.M), f"'{key}': the docstring restates '{name}'"
