"""Small mixed-type tables shared by the table tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def mixed_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """One column of every feature type the tabular learners accept."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"], ordered=True),
            "count": rng.integers(0, 5, n),
            "flag": rng.random(n) > 0.5,
        }
    )


def xor_target(frame: pd.DataFrame) -> np.ndarray:
    """A label only a model that uses the categorical column can get right."""
    return np.where((frame["colour"] == "red").to_numpy() ^ frame["flag"].to_numpy(), "yes", "no")
