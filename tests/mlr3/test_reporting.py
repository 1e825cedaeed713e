"""Progress bars of resample, benchmark and tune; the library prints only where printing is the point."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mlrpy
from mlrpy import lrn, rsmp, tsk
from mlrpy.benchmark import benchmark, benchmark_grid
from mlrpy.errors import ParameterError
from mlrpy.resample import resample
from mlrpy.tuning import tune


@pytest.fixture(scope="module")
def iris():
    return tsk("iris")


def featureless():
    return lrn("classif.torch_featureless", epochs=1, random_state=0)


def test_progress_bar_counts_iterations_with_an_eta(iris, capsys):
    resample(iris, featureless(), rsmp("cv", folds=3, seed=1), progress=True)
    err = capsys.readouterr().err
    assert "resample classif.torch_featureless" in err and "3/3" in err
    assert re.search(r"\d\d:\d\d<\d\d:\d\d", err)  # elapsed<remaining


def test_progress_bar_of_benchmark_and_tune(iris, capsys):
    benchmark(benchmark_grid(iris, [featureless(), featureless()], rsmp("cv", folds=2, seed=1)),
              progress=True)
    err = capsys.readouterr().err
    assert "benchmark" in err and "4/4" in err
    tune(featureless(), iris, rsmp("holdout", seed=1), "classif.ce", {"opt.lr": [0.1, 0.2]}, progress=True)
    err = capsys.readouterr().err
    assert "tune" in err and "2/2" in err


def test_no_bar_when_stderr_is_not_a_terminal_or_when_off(iris, capsys):
    resample(iris, featureless(), rsmp("holdout", seed=1))  # pytest's stderr is no terminal
    resample(iris, featureless(), rsmp("holdout", seed=1), progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(ParameterError, match="progress must be True, False or None"):
        resample(iris, featureless(), rsmp("holdout", seed=1), progress="yes")


def test_only_the_printing_parts_of_the_package_print():
    allowed = {"cli.py", "_cli_train.py", "_cli_table.py", "_cli_data.py", "callbacks/progress.py",
               "callbacks/profiler.py", "learners/internal_callbacks.py"}
    root = Path(mlrpy.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0].strip()
            if code.startswith((">>>", "...")):  # docstring examples
                continue
            if re.search(r"(?<![\w.])print\(", code) and rel not in allowed:
                offenders.append(f"{rel}:{n}")
    assert offenders == []
