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
from mlrpy.params import ParamModel, describe_parameters
from tests.callbacks.support import builtin_keys

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "callbacks.md"
REGENERATE = "python -m mlrpy.callbacks.docs > docs/callbacks.md"



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


def test_every_key_has_a_row_and_a_section():
    text = render()
    for key in mlr_callbacks:
        assert f"| [`{key}`](#{key}) |" in text
        assert f'<a id="{key}"></a>\n\n## `{key}`: ' in text


def test_every_parameter_is_rendered_from_the_schema():
    text = render()
    tc = t_clbk("early_stopping")
    section = text[text.index("## `early_stopping`"):]
    section = section[: section.index("<a id=")]
    patience = next(p for p in describe_parameters(tc.param_set) if p["name"] == "patience")
    assert patience == {"name": "patience", "type": "int", "required": False, "default": 1, "bounds": ">= 1",
                        "description": tc.param_set.model_fields["patience"].description}
    assert f"- `patience` (`int`, default `1`, >= 1): {patience['description']}" in section
    assert "- `monitor` (`str | None`, default `None`): " in section
    assert "Example: `t_clbk(\"early_stopping\")`" in section
    step = text[text.index("## `lr_step`"):]
    assert "- `step_size` (`int`, required, >= 1): epochs between two decays" in step


@pytest.mark.parametrize("key", builtin_keys())
def test_builtin_is_registered_with_a_schema_and_a_working_example(key):
    tc = t_clbk(key)
    assert tc.id == key
    assert issubclass(tc.param_set, ParamModel)
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
    # without callbacks only the history, which every run records, is in the loop
    history_stages = ("on_epoch_begin", "on_epoch_end")
    assert all(f"  {stage}: history [0]\n" in out for stage in history_stages)
    assert out.count(": -") == len(mlrpy.STAGES) + len(mlrpy.PREDICT_STAGES) - len(history_stages)


def test_show_training_loop_reports_duplicate_ids():
    with pytest.raises(mlrpy.ParameterError, match="unique"):
        lrn("classif.mlp", callbacks=["history", "history"]).show_training_loop()
