"""The ``mlrpy`` command line (mlrpy.cli), called in-process except for ``python -m mlrpy``."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import mlrpy
from mlrpy.cli import main, parse_set, parse_value

# small, fast and deterministic training runs
FAST = [
    "--task",
    "iris",
    "--learner",
    "classif.mlp",
    "--seed",
    "1",
    "--set",
    "epochs=3",
    "--set",
    "batch_size=16",
    "--set",
    "neurons=(8,)",
    "--set",
    "device=cpu",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_header_history_and_test_score(capsys):
    code, out, err = run(capsys, "train", *FAST, "--callbacks", "history,progress", "--set", "opt.lr=0.01")
    assert code == 0, err
    assert "task:      iris" in out
    assert "learner:   classif.mlp" in out
    assert "progress(digits=3, bars=True)" in out
    assert "opt.lr=0.01" in out
    assert "seed:      1" in out
    # the history table: a header with train.loss and one row per epoch
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if "train.loss" in line and "epoch" in line)
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == ["1", "2", "3"]
    m = re.search(r"test score \(30 rows\): classif\.acc = (\d\.\d{4})", out)
    assert m is not None, out
    assert 0.0 <= float(m.group(1)) <= 1.0


def test_train_default_split_and_measure_override(capsys):
    code, out, err = run(
        capsys,
        "train",
        *FAST,
        "--callbacks",
        "history",
        "--ratio",
        "0.5",
        "--measure",
        "classif.acc,classif.ce",
    )
    assert code == 0, err
    assert "75 train / 75 test rows" in out
    assert re.search(r"classif\.acc = \d\.\d{4}, classif\.ce = \d\.\d{4}", out)


def test_train_without_history_has_no_table(capsys):
    code, out, err = run(capsys, "train", *FAST, "--callbacks", "")
    assert code == 0, err
    assert "callbacks: (none)" in out
    assert "train.loss" not in out
    assert "test score" in out


def test_train_regression_uses_rmse(capsys):
    code, out, err = run(
        capsys,
        "train",
        "--task",
        "diabetes",
        "--learner",
        "regr.mlp",
        "--seed",
        "2",
        "--callbacks",
        "history",
        "--set",
        "epochs=1",
        "--set",
        "device=cpu",
    )
    assert code == 0, err
    assert re.search(r"regr\.rmse = \d+\.\d{4}", out)


def test_set_reaches_callback_parameter(capsys):
    code, out, err = run(
        capsys,
        "train",
        *FAST,
        "--callbacks",
        "progress",
        "--set",
        "cb.progress.digits=2",
        "--set",
        "cb.progress.bars=false",
    )
    assert code == 0, err
    assert "progress(digits=2, bars=False)" in out
    summaries = re.findall(r"^Epoch \d+/3: train\.loss=(\S+)$", out, flags=re.M)
    assert len(summaries) == 3
    assert all(re.fullmatch(r"\d+\.\d\d", s) for s in summaries), summaries


def test_seed_makes_runs_reproducible(capsys):
    _, out1, _ = run(capsys, "train", *FAST, "--callbacks", "history")
    _, out2, _ = run(capsys, "train", *FAST, "--callbacks", "history")
    strip = lambda s: re.sub(r"in \d+\.\ds", "", s)  # noqa: E731  (timings differ)
    assert strip(out1) == strip(out2)


def test_unknown_callback_key_exits_2_with_suggestion(capsys):
    code, _, err = run(capsys, "train", *FAST, "--callbacks", "history,progres")
    assert code == 2
    assert err.startswith("error: ")
    assert "Did you mean 'progress'?" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--set", "foo"], "expected NAME=VALUE"),
        (["--set", "=3"], "expected NAME=VALUE"),
        (["--set", "neuron=3"], "Did you mean 'neurons'?"),
        (["--set", "cb.progress.digitz=2", "--callbacks", "progress"], "digits"),
        (["--set", "cb.progress.digits=99", "--callbacks", "progress"], "cb.progress.digits"),
        (["--set", "epochs=-1"], "epochs"),
        (["--task", "irsi"], "Did you mean 'iris'?"),
        (["--learner", "classif.mpl"], "Did you mean 'classif.mlp'"),
        (["--learner", "regr.mlp"], "regr"),
        (["--measure", "regr.rmse"], "regr.rmse"),
        (["--measure", "classif.accc"], "classif.acc"),
    ],
)
def test_user_errors_exit_2_with_one_line(capsys, argv, fragment):
    code, _, err = run(capsys, "train", *FAST, *argv)
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert fragment in err
    assert "Traceback" not in err


def test_bad_ratio_is_a_usage_error(capsys):
    code, _, err = run(capsys, "train", *FAST, "--ratio", "1.5")
    assert code == 2
    assert "--ratio" in err


def test_parse_set_values():
    assert parse_set(
        [
            "epochs=20",
            "neurons=(32,32)",
            "opt.lr=1e-3",
            "activation=relu",
            "shuffle=False",
            "validate=none",
            "epochs=5",
        ]
    ) == {
        "epochs": 5,  # the last value wins
        "neurons": (32, 32),
        "opt.lr": 1e-3,
        "activation": "relu",
        "shuffle": False,
        "validate": None,
    }
    assert parse_value("a=b") == "a=b"
    assert parse_value("'quoted'") == "quoted"


def test_callbacks_lists_registry(capsys):
    code, out, _ = run(capsys, "callbacks")
    assert code == 0
    header = out.splitlines()[0].split()
    assert header[:4] == ["key", "label", "stages", "parameters"]
    for key in mlrpy.mlr_callbacks:
        assert re.search(rf"^\s*{key}\s", out, flags=re.M), key
    assert re.search(r"^\s*history\s+History\s", out, flags=re.M)


def test_callbacks_shows_one_callback(capsys):
    code, out, _ = run(capsys, "callbacks", "history")
    assert code == 0
    assert "<TorchCallback:history> History" in out
    stages = re.findall(r"^\s+\d+\. (on_\w+)$", out, flags=re.M)
    assert stages == mlrpy.t_clbk("history").stages
    assert stages == [s for s in mlrpy.STAGES if s in stages]  # firing order
    assert "one row per epoch" in out


def test_callbacks_shows_parameter_table(capsys):
    code, out, _ = run(capsys, "callbacks", "progress")
    assert code == 0
    assert re.search(r"^\s*digits\s+int\s+0\s+16\s+3\s", out, flags=re.M), out
    assert "cb.progress.<name>" in out


def test_callbacks_unknown_id(capsys):
    code, _, err = run(capsys, "callbacks", "histroy")
    assert code == 2
    assert "Did you mean 'history'?" in err


def test_tasks_and_learners(capsys):
    code, out, _ = run(capsys, "tasks")
    assert code == 0 and re.search(r"^\s*iris\s+Iris", out, flags=re.M)
    code, out, _ = run(capsys, "learners")
    assert code == 0 and "classif.mlp" in out and "regr.mlp" in out


def test_no_command_prints_help(capsys):
    code, out, _ = run(capsys)
    assert code == 2
    assert "train" in out and "callbacks" in out


def test_version_in_process(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"mlrpy {mlrpy.__version__}"


def test_python_m_mlrpy_version():
    proc = subprocess.run(
        [sys.executable, "-m", "mlrpy", "--version"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"mlrpy {mlrpy.__version__}"
