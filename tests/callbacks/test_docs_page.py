"""The built-ins as a whole: registry entries, docs/callbacks.md, one-line examples and
``learner.show_training_loop()``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mlrpy
from mlrpy import TorchCallback, lrn, mlr_callbacks, t_clbk
from mlrpy.callbacks import select_all, select_grep, select_invert, select_name, select_none
from mlrpy.callbacks._man import example_of
from mlrpy.callbacks.docs import render
from mlrpy.params import ParamModel

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "callbacks.md"
REGENERATE = "python -m mlrpy.callbacks.docs > docs/callbacks.md"

BUILTINS = [
    "csv_logger", "ema", "gradient_clip", "lr_cosine_annealing", "lr_lambda", "lr_monitor",
    "lr_multiplicative", "lr_one_cycle", "lr_reduce_on_plateau", "lr_step", "mixed_precision", "tb",
    "terminate_on_nan", "time_limit", "unfreeze",
]


def test_docs_file_is_up_to_date():
    assert DOCS.exists(), f"docs/callbacks.md is missing; generate it with: {REGENERATE}"
    assert DOCS.read_text(encoding="utf-8") == render(), (
        f"docs/callbacks.md is out of date with mlr_callbacks; regenerate it with: {REGENERATE}"
    )


def test_docs_module_runs_as_a_script():
    out = subprocess.run([sys.executable, "-m", "mlrpy.callbacks.docs"], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout == render()
    assert "Warning" not in out.stderr


def test_every_key_has_a_row():
    text = render()
    for key in mlr_callbacks:
        assert f"| `{key}` |" in text


@pytest.mark.parametrize("key", BUILTINS)
def test_builtin_is_registered_with_a_schema_docs_and_a_working_example(key):
    tc = t_clbk(key)
    assert tc.id == key
    assert issubclass(tc.param_set, ParamModel)
    doc = tc.generator.__doc__ or ""
    assert "Example:" in doc and ">>>" in doc
    if tc.param_set.model_fields:
        assert "Args:" in doc
    namespace = {"t_clbk": t_clbk, "select_all": select_all, "select_none": select_none,
                 "select_name": select_name, "select_grep": select_grep, "select_invert": select_invert}
    example = example_of(tc)
    assert example.startswith(f't_clbk("{key}"')
    built = eval(example, namespace)  # the documented one-liner really works
    assert isinstance(built, TorchCallback) and built.id == key


# -- show_training_loop -------------------------------------------------------------------------
def test_show_training_loop_lists_every_stage_in_call_order(capsys):
    learner = lrn("classif.mlp", callbacks=["mixed_precision", "history", t_clbk("lr_step", step_size=2),
                                            "progress"], patience=3, validate=0.2)
    learner.show_training_loop()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Training loop of 'classif.mlp' (callbacks in call order, [weight]):"
    body = dict(line.strip().split(": ", 1) for line in lines[1:] if ": " in line)
    assert list(body) == list(mlrpy.STAGES + mlrpy.PREDICT_STAGES)
    assert lines.index("Prediction:") == 1 + len(mlrpy.STAGES)
    assert body["on_begin"] == "lr_step [0], mixed_precision [100], early_stopping [1000]"
    assert body["on_epoch_begin"] == "history [0], lr_step [0], progress [0]"
    assert body["on_batch_begin"] == "mixed_precision [100]"
    assert body["on_after_forward"] == "-"
    assert body["on_epoch_end"] == "history [0], lr_step [0], progress [0], early_stopping [1000]"
    assert body["on_predict_begin"] == "progress [0]"
    assert body["on_predict_batch_begin"] == "-"


def test_show_training_loop_without_callbacks_and_with_unset_required_parameters(capsys):
    lrn("classif.mlp", callbacks=["tb"], validate="test").show_training_loop()
    out = capsys.readouterr().out
    assert "on_begin: tb [0]" in out and "on_batch_begin: -" in out and "on_after_backward: -" in out
    lrn("regr.mlp").show_training_loop()
    out = capsys.readouterr().out
    assert out.count(": -") == len(mlrpy.STAGES) + len(mlrpy.PREDICT_STAGES)


def test_show_training_loop_reports_duplicate_ids():
    with pytest.raises(mlrpy.ParameterError, match="unique"):
        lrn("classif.mlp", callbacks=["history", "history"]).show_training_loop()
