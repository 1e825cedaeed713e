"""Shared fixtures: small, deterministic data so the suite stays fast on 2 cores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlrpy


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def iris_xy() -> tuple[np.ndarray, np.ndarray]:
    task = mlrpy.tsk("iris")
    X = task.data(cols=task.feature_names).to_numpy()
    X = (X - X.mean(0)) / X.std(0)
    order = np.random.default_rng(0).permutation(len(X))  # iris is sorted by class
    return X[order].astype(np.float32), task.truth()[order]


def make_trace_callback(id: str = "trace", stages=mlrpy.STAGES + mlrpy.PREDICT_STAGES):
    """A callback that records every stage it sees into a shared list (its state)."""

    log: list[str] = []

    def make_stage(name):
        def stage(self):
            log.append(name)

        return stage

    tc = mlrpy.torch_callback(id, **{s: make_stage(s) for s in stages})
    return tc, log
