"""The ``mlrpy`` command line (mlrpy.cli), called in-process except for ``python -m mlrpy``."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlrpy
from mlrpy._cli_data import MAX_CLASSES_INFERRED, infer_task_type
from mlrpy._cli_table import fit_table, format_cell
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


def test_train_prints_header_epochs_once_and_test_score(capsys):
    code, out, err = run(capsys, "train", *FAST, "--callbacks", "history,progress", "--set", "opt.lr=0.01")
    assert code == 0, err
    assert "task:      iris" in out
    assert "learner:   classif.mlp" in out
    assert "progress(digits=3, bars=True)" in out
    assert "opt.lr=0.01" in out
    assert "seed:      1" in out
    # progress prints each epoch's loss; the history is summarised, not printed again as a table
    epoch_lines = re.findall(r"^Epoch (\d)/3: train\.loss=(\d\.\d+)$", out, flags=re.M)
    assert [e for e, _ in epoch_lines] == ["1", "2", "3"]
    assert not re.search(r"^\s*epoch\s+train\.loss", out, flags=re.M), "history table repeats the epochs"
    m = re.search(r"^history:\s+3 epochs; train\.loss (\d\.\d{4}) -> (\d\.\d{4})", out, flags=re.M)
    assert m is not None, out
    assert abs(float(m.group(1)) - float(epoch_lines[0][1])) < 1e-3
    assert abs(float(m.group(2)) - float(epoch_lines[-1][1])) < 1e-3
    m = re.search(r"test:\s+30 rows: classif\.acc = (\d\.\d{4})", out)
    assert m is not None, out
    assert 0.0 <= float(m.group(1)) <= 1.0


def test_train_with_history_but_no_progress_prints_the_table(capsys):
    code, out, err = run(capsys, "train", *FAST, "--callbacks", "history")
    assert code == 0, err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if re.match(r"^\s*epoch\s+train\.loss$", line))
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == ["1", "2", "3"]
    assert not re.search(r"^Epoch \d", out, flags=re.M)


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
    assert "test:      30 rows" in out


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


# -- tables fit the terminal -----------------------------------------------------------------
@pytest.mark.parametrize("columns", [40, 60, 100])
def test_registry_tables_fit_the_terminal(capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    for command in (["callbacks"], ["learners"], ["tasks"], ["callbacks", "progress"]):
        code, out, _ = run(capsys, *command)
        assert code == 0
        table_lines = [line for line in out.splitlines() if "  " in line and not line.startswith("   ")]
        assert len(table_lines) > 2
        assert all(len(line) <= columns for line in table_lines), out
    # the key column stays whole, so every key can be read and copied
    code, out, _ = run(capsys, "callbacks")
    for key in mlrpy.mlr_callbacks:
        assert re.search(rf"^{key}\s", out, flags=re.M), key


def test_tables_are_not_cut_without_a_terminal(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    code, out, _ = run(capsys, "callbacks")  # captured output is not a terminal
    assert code == 0
    frame = mlrpy.mlr_callbacks.as_frame()
    assert "..." not in out
    for stages in frame["stages"]:
        assert stages in out


cells = st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=0, max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.tuples(cells, cells, st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=6),
    width=st.integers(20, 120),
)
def test_fit_table_lines_fit_the_width(data, width):
    frame = pd.DataFrame(data, columns=["key", "description", "value"])
    text = fit_table(frame, width=width)
    lines = text.splitlines()
    assert len(lines) == len(frame) + 1
    natural = [max(len(str(c)), *(len(format_cell(v)) for v in frame[c])) for c in frame.columns]
    gaps = 2 * (len(natural) - 1)
    if sum(min(n, 4) for n in natural) + gaps <= width:
        assert all(len(line) <= width for line in lines), text
    if sum(natural) + gaps <= width:  # nothing needs cutting
        assert [line.split("  ")[0].strip() for line in lines[1:]] == [
            " ".join(k.split()) for k in frame["key"]
        ]
        assert "..." not in text or any("..." in k + d for k, d in zip(frame["key"], frame["description"]))
    if natural[0] + sum(min(n, 4) for n in natural[1:]) + gaps <= width:
        for line, key in zip(lines[1:], frame["key"]):  # the key column is cut last
            assert line.startswith(" ".join(key.split())), text


def test_fit_table_shows_first_and_last_rows_with_max_rows():
    frame = pd.DataFrame({"epoch": range(1, 11), "train.loss": [1 / e for e in range(1, 11)]})
    lines = fit_table(frame, width=80, max_rows=4).splitlines()
    assert [line.split()[0] for line in lines] == ["epoch", "1", "2", "...", "9", "10"]


# -- training on a CSV file, saving, predicting ----------------------------------------------
@pytest.fixture(scope="module")
def csv_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv")
    iris = mlrpy.tsk("iris").backend.rename(columns={"class": "species"})
    iris.to_csv(folder / "iris.csv", index=False)
    iris.drop(columns="species").iloc[::10].to_csv(folder / "new_flowers.csv", index=False)
    diabetes = mlrpy.tsk("diabetes").backend.iloc[:120]
    diabetes.to_csv(folder / "diabetes.csv", index=False)
    coded = iris.assign(species=iris["species"].map({"setosa": 0, "versicolor": 1, "virginica": 2}))
    coded.to_csv(folder / "coded.csv", index=False)
    return folder


CSV_FAST = ["--seed", "1", "--callbacks", "", "--set", "epochs=2", "--set", "device=cpu"]


@pytest.mark.parametrize(
    ("file", "target", "extra", "expected"),
    [
        ("iris.csv", "species", [], "classif, inferred from non-numeric values"),
        ("diabetes.csv", "target", [], "regr, inferred from numeric values"),
        ("coded.csv", "species", [], "classif, inferred from integer values, 3 distinct"),
        ("coded.csv", "species", ["--task-type", "regr"], "regr, given by --task-type"),
    ],
)
def test_train_on_csv_infers_or_takes_the_task_type(capsys, csv_files, file, target, extra, expected):
    code, out, err = run(
        capsys, "train", "--data", str(csv_files / file), "--target", target, *extra, *CSV_FAST
    )
    assert code == 0, err
    assert f"target:    {target}: {expected}" in out
    task_type = expected.split(",")[0]
    assert f"learner:   {task_type}.mlp" in out  # the default learner follows the task type
    assert re.search(
        r"^test:\s+\d+ rows: " + {"classif": "classif.acc", "regr": "regr.rmse"}[task_type], out, re.M
    )


def test_saved_model_predicts_a_csv_like_the_learner(capsys, csv_files, tmp_path):
    model_path = tmp_path / "models" / "iris.pt"
    code, out, err = run(
        capsys,
        "train",
        "--data",
        str(csv_files / "iris.csv"),
        "--target",
        "species",
        "--ratio",
        "1",
        "--save",
        str(model_path),
        *CSV_FAST,
    )
    assert code == 0, err
    assert "no test score" in out and "test:" not in out
    assert f"saved:     {model_path}" in out

    output = tmp_path / "preds.csv"
    new = csv_files / "new_flowers.csv"
    code, out, err = run(
        capsys, "predict", "--model", str(model_path), "--data", str(new), "--output", str(output), "--proba"
    )
    assert code == 0, err
    assert f"wrote 15 predictions of classif.mlp to {output}" in out
    preds = pd.read_csv(output)
    learner = mlrpy.load(model_path)
    rows = pd.read_csv(new)
    assert preds["prediction"].tolist() == learner.predict(rows).tolist()
    prob_columns = [f"prob.{c}" for c in ("setosa", "versicolor", "virginica")]
    assert list(preds.columns) == ["prediction", *prob_columns]
    np.testing.assert_allclose(preds[prob_columns].to_numpy(), learner.predict_proba(rows), rtol=1e-6)
    np.testing.assert_allclose(preds[prob_columns].sum(axis=1), 1.0, rtol=1e-5)

    # without --output the CSV goes to standard output, and the target column is ignored
    code, out, err = run(capsys, "predict", "--model", str(model_path), "--data", str(csv_files / "iris.csv"))
    assert code == 0, err
    from_stdout = pd.read_csv(io.StringIO(out))
    assert list(from_stdout.columns) == ["prediction"]
    assert len(from_stdout) == 150


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["train", "--data", "{dir}/iris.csv"], "--data needs --target"),
        (["train", "--target", "species"], "--target needs --data"),
        (["train", "--task-type", "regr"], "--task-type needs --data"),
        (["train", "--task", "iris", "--data", "{dir}/iris.csv", "--target", "species"], "not both"),
        (["train", "--data", "{dir}/missing.csv", "--target", "y"], "no such file"),
        (["train", "--data", "{dir}/iris.csv", "--target", "specie"], "Did you mean 'species'?"),
        (["train", "--data", "{dir}/iris.csv", "--target", "species", "--learner", "regr.mlp"], "regr"),
        (["train", "--data", "{dir}/iris.csv", "--target", "species", "--task-type", "regr"], "numeric"),
        (["predict", "--model", "{dir}/none.pt", "--data", "{dir}/iris.csv"], "--model: no such file"),
        (["predict", "--model", "{model}", "--data", "{dir}/diabetes.csv"], "sepal_length"),
        (["predict", "--model", "{regr_model}", "--data", "{dir}/diabetes.csv", "--proba"], "--proba"),
    ],
)
def test_csv_user_errors_exit_2_with_one_line(capsys, csv_files, tmp_path, argv, fragment):
    models = {}
    for name, file, target in (("model", "iris.csv", "species"), ("regr_model", "diabetes.csv", "target")):
        if "{" + name + "}" in argv:
            models[name] = str(tmp_path / f"{name}.pt")
            code, _, err = run(
                capsys,
                "train",
                "--data",
                str(csv_files / file),
                "--target",
                target,
                "--save",
                models[name],
                *CSV_FAST,
            )
            assert code == 0, err
    argv = [a.format(dir=csv_files, **models) if "{" in a else a for a in argv]
    code, _, err = run(capsys, *argv, *(CSV_FAST if argv[0] == "train" else []))
    assert code == 2, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert fragment in err
    assert "Traceback" not in err


@settings(max_examples=40, deadline=None)
@given(distinct=st.integers(2, 30), size=st.integers(30, 60))
def test_integer_targets_are_classes_only_when_few_distinct(distinct, size):
    y = pd.Series(np.arange(size) % distinct)
    task_type, reason = infer_task_type(y)
    assert task_type == ("classif" if distinct <= MAX_CLASSES_INFERRED else "regr")
    assert f"{min(distinct, size)} distinct" in reason
    assert infer_task_type(y + 0.5)[0] == "regr"
    assert infer_task_type(y.astype(str))[0] == "classif"


def test_history_summary_names_the_epoch_with_the_lowest_validation_loss(capsys):
    code, out, err = run(capsys, "train", *FAST, "--callbacks", "history,progress", "--set", "validate=0.3")
    assert code == 0, err
    valid = [float(v) for v in re.findall(r"^Epoch \d/3: .*valid\.loss=(\S+)", out, flags=re.M)]
    assert len(valid) == 3
    m = re.search(r"^history:\s+3 epochs; valid\.loss \S+ -> \S+, lowest (\S+) at epoch (\d)$", out, flags=re.M)
    assert m is not None, out
    assert int(m.group(2)) == 1 + valid.index(min(valid))
    assert abs(float(m.group(1)) - min(valid)) < 1e-3
