"""Every path parameter expands ``~`` and refuses empty paths and URLs."""

from __future__ import annotations

import os
import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlrpy
from mlrpy import ParameterError, lrn, t_clbk, tsk
from mlrpy.io import user_path


@pytest.fixture
def home(tmp_path, monkeypatch):
    """``~`` is tmp_path/home and the working directory is tmp_path/cwd."""
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    return home


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_tilde_is_expanded_in_every_path_parameter(home):
    pytest.importorskip("tensorboard")
    callbacks = [
        t_clbk("checkpoint", path="~/ckpt"),
        t_clbk("csv_logger", path="~/log/history.csv"),
        t_clbk("tb", path="~/tb"),
    ]
    learner = lrn("classif.mlp", epochs=2, random_state=0, callbacks=callbacks, resume=True).train(tsk("iris"))
    learner.save("~/models/m.mlrpy")
    assert mlrpy.load("~/models/m.mlrpy").model.epochs == 2
    files = _files(home)
    assert {"ckpt/checkpoint_00001.pt", "ckpt/checkpoint_00002.pt", "log/history.csv", "models/m.mlrpy"} <= set(files)
    assert any(f.startswith("tb/events.out.tfevents") for f in files)
    assert _files(home.parent / "cwd") == []  # no literal "~" folder
    # resume with an explicit folder, also with "~"
    again = lrn("classif.mlp", epochs=3, random_state=0, resume="~/ckpt",
                callbacks=[t_clbk("checkpoint", path="~/ckpt")]).train(tsk("iris"))
    assert again.model.epochs == 3 and (home / "ckpt" / "checkpoint_00003.pt").exists()


BAD_PATHS = ["", "   ", "s3://bucket/model.pt", "gs://b/x", "https://example.com/m.pt", "file:///tmp/m.pt"]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_empty_paths_and_urls_are_refused_and_nothing_is_created(home, bad):
    cwd = home.parent / "cwd"
    learner = lrn("classif.mlp", epochs=1, random_state=0).train(tsk("iris"))
    with pytest.raises(ParameterError, match=r"save\(path\)"):
        learner.save(bad)
    with pytest.raises(ParameterError, match=r"load\(path\)"):
        mlrpy.load(bad)
    with pytest.raises(ParameterError, match="resume"):
        lrn("classif.mlp", epochs=1, resume=bad).train(tsk("iris"))
    for key in ("checkpoint", "csv_logger", "tb"):
        with pytest.raises(ParameterError, match="path"):
            lrn("classif.mlp", epochs=1, callbacks=[t_clbk(key, path=bad)]).train(tsk("iris"))
    assert _files(cwd) == [] and list(cwd.iterdir()) == []  # no ./s3:/bucket


def test_url_message_says_what_to_do():
    with pytest.raises(ParameterError, match="'s3://b/x.pt' is a URL; mlrpy reads and writes local files only"):
        user_path("s3://b/x.pt", "save(path)")
    with pytest.raises(ParameterError, match="save\\(path\\) is empty"):
        user_path("", "save(path)")
    with pytest.raises(ParameterError, match="must be a str or pathlib.Path, got int"):
        user_path(3, "save(path)")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(r"[a-z][a-z0-9+.-]{1,10}", fullmatch=True), st.text(max_size=20))
def test_any_url_scheme_is_refused(scheme, rest):
    with pytest.raises(ParameterError, match="is a URL"):
        user_path(f"{scheme}://{rest}", "path")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(st.characters(blacklist_characters="/\0~:", blacklist_categories=("Cs",)), min_size=1,
                        max_size=8), min_size=1, max_size=4))
def test_local_paths_pass_unchanged(parts):
    text = os.path.join(*parts)
    if not text.strip():
        return
    assert user_path(text, "path") == pathlib.Path(text)
    assert user_path(pathlib.Path(text), "path") == pathlib.Path(text)
