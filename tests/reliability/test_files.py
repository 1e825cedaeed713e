"""Model files and checkpoints: loading never runs code, names resolve from an allowlist only,
and damaged files are detected."""

from __future__ import annotations

import functools
import json
import pathlib
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import mlrpy
from mlrpy import (
    CorruptFileError,
    IncompatibleFileError,
    ParameterError,
    UnstorableValueError,
    UntrustedFileError,
    as_lr_scheduler,
    lrn,
    msr,
    t_clbk,
    t_opt,
    tsk,
)
from mlrpy.callbacks.checkpoint import checkpoint_files
from mlrpy.fileformat import _checksum
from tests.callbacks.test_definitions import CallbackSetDecoratedLogger, custom_logger
from tests.learners.test_learners import Net


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained learner and the bytes of its file."""
    learner = lrn("classif.mlp", epochs=2, neurons=(8,), random_state=0, callbacks=["history"]).train(tsk("iris"))
    path = tmp_path_factory.mktemp("saved") / "model.mlrpy"
    learner.save(path)
    return learner, path.read_bytes()


def _write(tmp_path, data, name="model.mlrpy"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _rewrite(path, edit_document=None, edit_metadata=None):
    """Change a file's document and sign it again, as an attacker could: the checksum detects
    damage, the allowlist stops hostile content."""
    data = path.read_bytes()
    tensors = st_load(data)
    with safe_open(str(path), "pt") as f:
        metadata = dict(f.metadata())
    document = json.loads(metadata["mlrpy.document"])
    if edit_document is not None:
        edit_document(document)
    metadata["mlrpy.document"] = json.dumps(document)
    if edit_metadata is not None:
        edit_metadata(metadata)
    metadata["mlrpy.sha256"] = _checksum(metadata, tensors)
    path.write_bytes(st_save(tensors, metadata=metadata))
    return path


@pytest.fixture
def booby_trap(tmp_path, monkeypatch):
    """A module that leaves a marker file when imported, and a pickle that does when loaded."""
    marker = tmp_path / "code_ran"
    (tmp_path / "evil_mod.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\nclass Boom: pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    class Payload:
        def __reduce__(self):
            return (pathlib.Path.write_text, (marker, "unpickled"))

    yield marker, Payload
    sys.modules.pop("evil_mod", None)  # a test that trusts it imports it


# -- no code runs ---------------------------------------------------------------------------------
def test_a_pickle_never_runs(tmp_path, booby_trap):
    marker, Payload = booby_trap
    torch.save({"something": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CorruptFileError, match="evil.pt' is not an mlrpy learner file"):
        mlrpy.load(tmp_path / "evil.pt")
    torch.save({"mlrpy_format": 1, "model": Payload()}, tmp_path / "old.pt")  # looks like format 1
    with pytest.raises(IncompatibleFileError, match="format 1 \\(a pickle\\).*can run any code"):
        mlrpy.load(tmp_path / "old.pt")
    assert not marker.exists()


def test_a_pickled_checkpoint_is_skipped_without_running(tmp_path, booby_trap):
    marker, Payload = booby_trap
    folder = tmp_path / "run"
    callbacks = ["history", t_clbk("checkpoint", path=str(folder))]
    lrn("classif.mlp", epochs=2, random_state=0, callbacks=callbacks).train(tsk("iris"))
    torch.save({"mlrpy_checkpoint": 1, "x": Payload()}, folder / "checkpoint_00003.pt")
    with pytest.warns(RuntimeWarning, match="Skipping unreadable checkpoint.*checkpoint_00003.pt.*format 1"):
        learner = lrn("classif.mlp", epochs=4, random_state=0, callbacks=callbacks, resume=True).train(tsk("iris"))
    assert learner.model.epochs == 4 and not marker.exists()


def test_untrusted_names_are_listed_and_nothing_is_imported(tmp_path, saved, booby_trap):
    marker, _ = booby_trap

    def hostile(doc):
        doc["learner"]["path"] = "evil_mod:Boom"
        doc["params"]["activation"] = {"__mlrpy__": "function", "path": "os:system"}

    path = _rewrite(_write(tmp_path, saved[1]), hostile)
    with pytest.raises(UntrustedFileError, match="not trusted: evil_mod:Boom, os:system. Nothing was imported") as info:
        mlrpy.load(path)
    assert info.value.names == ["evil_mod:Boom", "os:system"] and isinstance(info.value, ValueError)
    assert not marker.exists() and "evil_mod" not in sys.modules
    with pytest.raises(CorruptFileError, match="Boom is not a learner class"):  # trusted, but not a learner
        mlrpy.load(path, trusted=["evil_mod:Boom", "os:system"])


def test_a_name_in_a_checkpoint_is_never_resolved(tmp_path, booby_trap):
    marker, _ = booby_trap
    folder = tmp_path / "run"
    callbacks = ["history", t_clbk("checkpoint", path=str(folder))]
    lrn("classif.mlp", epochs=2, random_state=0, callbacks=callbacks).train(tsk("iris"))

    def hostile(doc):
        doc["callbacks"]["history"]["state"] = {"__mlrpy__": "class", "path": "evil_mod:Boom"}

    _rewrite(folder / "checkpoint_00002.pt", hostile)
    with pytest.warns(RuntimeWarning, match="checkpoint_00002.pt' is malformed.*unknown value tag 'class'"):
        lrn("classif.mlp", epochs=3, random_state=0, callbacks=callbacks, resume=True).train(tsk("iris"))
    assert not marker.exists() and "evil_mod" not in sys.modules


# -- user classes load when trusted ------------------------------------------------------------------
def test_user_module_class_loads_when_trusted(tmp_path, iris_xy):
    X, y = iris_xy
    learner = lrn("classif.module", module=Net, epochs=2, random_state=0, **{"module.hidden": 5}).fit(X, y)
    learner.save(tmp_path / "m.mlrpy")
    with pytest.raises(UntrustedFileError, match="tests.learners.test_learners:Net"):
        mlrpy.load(tmp_path / "m.mlrpy")
    for trusted in ([Net], ["tests.learners.test_learners:Net"], Net):
        back = mlrpy.load(tmp_path / "m.mlrpy", trusted=trusted)
        np.testing.assert_array_equal(back.predict_proba(X), learner.predict_proba(X))
        assert back.get_params()["module.hidden"] == 5


def test_local_classes_and_custom_descriptors_round_trip(tmp_path, iris_xy):
    X, y = iris_xy

    class LocalNet(Net):
        pass

    class MySGD(torch.optim.SGD):
        pass

    learner = lrn(
        "classif.module", module=LocalNet, epochs=2, random_state=np.random.RandomState(3),
        optimizer=t_opt(MySGD, lr=0.05), validate=0.2,
        callbacks=[custom_logger, CallbackSetDecoratedLogger, as_lr_scheduler(torch.optim.lr_scheduler.ExponentialLR),
                   t_clbk("history_2")],
        measures_valid=["classif.acc", msr("classif.ce", id="ce2")],
        **{"cb.lr_exponential.gamma": 0.5, "cb.custom_logger.alpha": 0.3},
    ).fit(X, y)
    learner.save(tmp_path / "m.mlrpy")
    with pytest.raises(UntrustedFileError) as info:
        mlrpy.load(tmp_path / "m.mlrpy")
    assert sorted(info.value.names) == sorted([
        "tests.reliability.test_files:test_local_classes_and_custom_descriptors_round_trip.<locals>.LocalNet",
        "tests.reliability.test_files:test_local_classes_and_custom_descriptors_round_trip.<locals>.MySGD",
        "tests.callbacks.test_definitions:CallbackSetCustomLogger",
        "tests.callbacks.test_definitions:CallbackSetDecoratedLogger.generator",
    ])
    back = mlrpy.load(tmp_path / "m.mlrpy", trusted=[LocalNet, MySGD, custom_logger, CallbackSetDecoratedLogger])
    np.testing.assert_array_equal(back.predict_proba(X), learner.predict_proba(X))
    params, original = back.get_params(), learner.get_params()
    for key in ("opt.lr", "cb.lr_exponential.gamma", "cb.custom_logger.alpha", "cb.decorated_logger.alpha"):
        assert params[key] == original[key], key
    assert back.optimizer.torch_class is MySGD and back.module is LocalNet
    assert back.measures_valid[0] == "classif.acc" and back.measures_valid[1].id == "ce2"
    assert back.random_state.get_state()[1].tolist() == learner.random_state.get_state()[1].tolist()
    assert [tc.id for tc in back.callbacks] == ["custom_logger", "decorated_logger", "lr_exponential", "history_2"]
    assert back.callbacks[0].generate().__class__ is custom_logger.generator
    pd.testing.assert_frame_equal(pd.DataFrame(back.model.callbacks["history_2"]), pd.DataFrame(learner.model.callbacks["history_2"]))
    assert back.model.callbacks["custom_logger"] == learner.model.callbacks["custom_logger"]


def test_unstorable_parameter_names_itself_and_writes_nothing(tmp_path, iris_xy):
    X, y = iris_xy
    learner = lrn("classif.module", module=functools.partial(Net, hidden=3), epochs=1, random_state=0).fit(X, y)
    with pytest.raises(UnstorableValueError, match="params.module is a functools:partial"):
        learner.save(tmp_path / "m.mlrpy")
    assert list(tmp_path.iterdir()) == []


def test_trusted_must_be_classes_functions_callbacks_or_paths(tmp_path, saved):
    path = _write(tmp_path, saved[1])
    for bad in ([3], ["no_colon"]):
        with pytest.raises(ParameterError, match="trusted"):
            mlrpy.load(path, trusted=bad)


# -- integrity --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [b"", b"hello, I am a text file\n", bytes(range(256)) * 4, b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "],
    ids=["empty", "text", "binary", "safetensors_without_mlrpy"],
)
def test_files_that_are_not_models_are_corrupt_files(tmp_path, content):
    path = _write(tmp_path, content)
    with pytest.raises(CorruptFileError, match=f"'{path}' is not an mlrpy learner file"):
        mlrpy.load(path)


def test_truncated_file(tmp_path, saved):
    for size in (5, 100, len(saved[1]) // 2, len(saved[1]) - 1):
        path = _write(tmp_path, saved[1][:size])
        with pytest.raises(CorruptFileError, match=str(path)):
            mlrpy.load(path)


def test_flipped_byte_inside_a_tensor(tmp_path, saved):
    path = _write(tmp_path, saved[1])
    data = bytearray(saved[1])
    header_size = int.from_bytes(data[:8], "little")
    begin, end = json.loads(data[8 : 8 + header_size])["network.0.weight"]["data_offsets"]
    data[8 + header_size + (begin + end) // 2] ^= 0x01  # one bit of one weight
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match="does not match its SHA-256 checksum"):
        mlrpy.load(path)


def test_missing_tensor_or_key(tmp_path, saved):
    path = _write(tmp_path, saved[1])
    tensors = st_load(saved[1])
    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
    del tensors["network.0.bias"]
    path.write_bytes(st_save(tensors, metadata=metadata))
    with pytest.raises(CorruptFileError, match="checksum"):
        mlrpy.load(path)
    # signed again after removing a key: still not a usable learner
    path = _rewrite(_write(tmp_path, saved[1]), lambda doc: doc.pop("network"))
    with pytest.raises(CorruptFileError, match="does not hold a usable learner: KeyError"):
        mlrpy.load(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.floats(0, 1, exclude_max=True), flip=st.integers(1, 255))
def test_any_changed_byte_is_detected(tmp_path, saved, position, flip):
    data = bytearray(saved[1])
    data[int(position * len(data))] ^= flip
    path = _write(tmp_path, bytes(data))
    with pytest.raises((CorruptFileError, IncompatibleFileError), match=str(path)):
        mlrpy.load(path)


def test_unknown_format_and_wrong_kind(tmp_path, saved):
    path = _rewrite(_write(tmp_path, saved[1]), edit_metadata=lambda m: m.update({"mlrpy.format": "999"}))
    with pytest.raises(IncompatibleFileError, match="format 999; this mlrpy reads format 2"):
        mlrpy.load(path)
    folder = tmp_path / "run"
    lrn("classif.mlp", epochs=1, callbacks=[t_clbk("checkpoint", path=str(folder))]).train(tsk("iris"))
    with pytest.raises(IncompatibleFileError, match="is an mlrpy checkpoint file, not a learner file"):
        mlrpy.load(folder / "checkpoint_00001.pt")


def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    def learner(folder, epochs):
        return lrn("classif.mlp", epochs=epochs, batch_size=16, random_state=1, p=0.2, resume=True,
                   callbacks=["history", t_clbk("checkpoint", path=str(folder))])

    learner(tmp_path / "run", 3).train(tsk("iris"))
    newest = checkpoint_files(tmp_path / "run")[-1][1]
    newest.write_bytes(newest.read_bytes()[:-10])
    with pytest.warns(RuntimeWarning, match="Skipping unreadable checkpoint.*checkpoint_00003.pt.*damaged"):
        resumed = learner(tmp_path / "run", 5).train(tsk("iris"))
    straight = learner(tmp_path / "straight", 5).train(tsk("iris"))
    for a, b in zip(resumed.model.network.parameters(), straight.model.network.parameters()):
        assert torch.equal(a, b)
    pd.testing.assert_frame_equal(pd.DataFrame(resumed.model.callbacks["history"]), pd.DataFrame(straight.model.callbacks["history"]))
    assert checkpoint_files(tmp_path / "run")[-1][1].read_bytes()  # epoch 3 was written again, whole


# -- devices ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "map_location", [None, "cpu", torch.device("cpu"), {"cpu": "cpu"}, lambda storage, location: storage]
)
def test_map_location(tmp_path, saved, map_location):
    learner, data = saved
    back = mlrpy.load(_write(tmp_path, data), map_location=map_location)
    assert next(back.model.network.parameters()).device.type == "cpu"
    for a, b in zip(back.model.network.parameters(), learner.model.network.parameters()):
        assert torch.equal(a, b)


def test_bad_map_location(tmp_path, saved):
    with pytest.raises(ParameterError, match="map_location"):
        mlrpy.load(_write(tmp_path, saved[1]), map_location=3)


def test_fitted_attributes_round_trip(tmp_path, saved):
    learner, data = saved
    back = mlrpy.load(_write(tmp_path, data))
    assert back.feature_info_ == learner.feature_info_ and back.feature_info_.numeric == list(learner.feature_names_in_)
    np.testing.assert_array_equal(back.classes_, learner.classes_)
    np.testing.assert_array_equal(back._label_encoder.transform(["virginica"]), [2])
    assert back.n_features_in_ == 4 and back.model.feature_names == learner.model.feature_names
