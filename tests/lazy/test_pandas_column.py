"""A lazy tensor as a pandas column and a task feature: rows are taken by reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import DataError, LazyTensor, LazyTensorDtype, as_lazy_tensor, as_task_classif, lrn, rsmp, tsk
from mlrpy.columns import feature_type


@pytest.fixture
def lt() -> LazyTensor:
    return as_lazy_tensor(torch.arange(24.0).reshape(6, 4))


def column(frame: pd.DataFrame, name: str = "x") -> LazyTensor:
    values = frame[name].array
    assert isinstance(values, LazyTensor)
    return values


def test_a_dataframe_keeps_the_column_lazy_by_construction_and_assignment(lt):
    df = pd.DataFrame({"x": lt, "y": list("aabbcc")})
    df["z"] = lt.map(torch.neg)
    assert str(df["x"].dtype) == "lazy_tensor" and isinstance(df["z"].dtype, LazyTensorDtype)
    assert column(df).source is lt.source and column(df, "z").source is lt.source
    assert torch.equal(df["z"].iloc[1], -lt[1])


def test_iloc_loc_take_concat_and_copy_keep_references(lt):
    df = pd.DataFrame({"x": lt, "y": list("aabbcc")})
    for subset, rows in [
        (df.iloc[[4, 1]], [4, 1]),
        (df.loc[[2, 3]], [2, 3]),
        (df.take([5, 0]), [5, 0]),
        (df[df["y"] == "b"], [2, 3]),
        (pd.concat([df.iloc[:1], df.iloc[3:4]]), [0, 3]),
        (df.copy(), list(range(6))),
    ]:
        assert column(subset).source is lt.source
        assert torch.equal(column(subset).materialize(), lt.materialize(rows))


def test_concatenating_different_sources_loads_each_from_its_own(lt):
    other = as_lazy_tensor(torch.zeros(2, 4)).map(lambda x: x + 1)
    both = pd.concat([pd.Series(lt[:2]), pd.Series(other)], ignore_index=True).array
    assert isinstance(both, LazyTensor) and len(both) == 4
    assert torch.equal(both.materialize(), torch.cat([lt.materialize([0, 1]), torch.ones(2, 4)]))


def test_concatenating_frames_without_the_column_adds_missing_rows_and_keeps_references(lt):
    with_column = pd.DataFrame({"x": lt[:2]})
    without = pd.DataFrame({"other": [1.0]})
    both = pd.concat([with_column, without], ignore_index=True)
    assert both["x"].isna().tolist() == [False, False, True] and column(both).source is lt.source
    other = pd.DataFrame({"x": as_lazy_tensor(torch.zeros(1, 4))})
    mixed = pd.concat([with_column, without, other], ignore_index=True)
    assert mixed["x"].isna().tolist() == [False, False, True, False]
    assert torch.equal(mixed["x"].iloc[3], torch.zeros(4)) and torch.equal(mixed["x"].iloc[1], lt[1])


def test_reindexing_makes_missing_rows_that_isna_sees(lt):
    series = pd.Series(lt).reindex([0, 10, 2])
    assert series.isna().tolist() == [False, True, False]
    assert series.dropna().array.source is lt.source and series.iloc[1] is None


def test_equality_compares_references_without_loading(lt):
    assert (lt == lt.copy()).all()
    assert not (lt == lt.map(torch.neg)).any()
    assert (lt[[0, 1]] == lt[[0, 2]]).tolist() == [True, False]
    assert (pd.Series(lt) == pd.Series(lt)).all()


def test_setting_rows_takes_references_or_missing_only(lt):
    copy = lt.copy()
    copy[0] = lt[[5]]
    copy[1] = None
    assert torch.equal(copy[0], lt[5]) and copy[1] is None
    assert torch.equal(lt[0], torch.arange(4.0))  # the original keeps its rows
    with pytest.raises(DataError, match="same source"):
        copy[2] = torch.zeros(4)


def test_the_task_feature_type_is_lazy_tensor():
    df = pd.DataFrame({"x": as_lazy_tensor(np.ones((4, 2))), "a": [1.0, 2, 3, 4], "y": list("abab")})
    assert feature_type(df["x"]) == "lazy_tensor"
    types = as_task_classif(df, target="y").feature_types
    assert dict(zip(types["id"], types["type"])) == {"x": "lazy_tensor", "a": "numeric"}


@pytest.mark.parametrize("face", ["fit", "train"])
def test_tabular_learners_refuse_a_lazy_column_naming_it(face):
    task = tsk("lazy_iris")
    learner = lrn("classif.mlp", epochs=1)
    with pytest.raises(DataError, match=r"column 'x' \(lazy_tensor\)"):
        if face == "train":
            learner.train(task)
        else:
            learner.fit(task.data(cols=["x"]), task.truth())


def test_filtering_a_task_and_resampling_keep_references():
    task = tsk("digits_images")
    source = column(task.data(), "image").source
    task.filter(list(range(0, 100, 3)))
    assert column(task.data(), "image").source is source
    resampling = rsmp("holdout").instantiate(task)
    train = task.data(rows=resampling.train_set(0), cols=["image"])
    assert column(train, "image").source is source


@pytest.mark.parametrize(
    ("key", "feature", "shape", "n_classes"), [("lazy_iris", "x", (4,), 3), ("digits_images", "image", (1, 8, 8), 10)]
)
def test_the_lazy_built_in_tasks(key, feature, shape, n_classes):
    task = tsk(key)
    assert task.feature_names == [feature] and task.target == "class"
    assert task.feature_types["type"].tolist() == ["lazy_tensor"]
    assert len(task.class_names) == n_classes
    values = column(task.data(), feature)
    assert values.shape == shape
    tensor = values.materialize()
    assert tensor.shape == (task.nrow, *shape) and tensor.dtype == torch.float32


def test_digits_images_are_the_digits_scaled_to_0_1():
    images = column(tsk("digits_images").data(), "image").materialize()
    pixels = tsk("digits").data(cols=tsk("digits").feature_names).to_numpy()
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    assert np.allclose(images.reshape(len(images), 64).numpy(), pixels / 16.0)


def test_series_map_stays_lazy_and_a_series_converts_back(lt):
    series = pd.Series(lt)
    mapped = series.map(torch.neg)
    assert isinstance(mapped.array, LazyTensor) and mapped.array.source is lt.source
    assert torch.equal(mapped.iloc[3], -lt[3])
    assert as_lazy_tensor(series) is series.array


def test_a_list_of_tensors_becomes_a_lazy_column_with_missing_values():
    values = pd.array([torch.ones(2), None, torch.zeros(2)], dtype="lazy_tensor")
    assert isinstance(values, LazyTensor) and values.isna().tolist() == [False, True, False]
    assert torch.equal(values[2], torch.zeros(2))


def test_the_repr_of_a_lazy_tensor_does_not_fail_on_a_missing_file(tmp_path):
    df = pd.DataFrame({"x": as_lazy_tensor([tmp_path / "gone.png"])})
    assert "lazy_tensor" in str(df.dtypes) and "unknown" in repr(df["x"].array)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), max_size=6), min_size=1, max_size=3))
def test_repeated_iloc_on_a_frame_takes_the_composed_rows_by_reference(selections):
    data = torch.arange(12.0).reshape(6, 2)
    lt = as_lazy_tensor(data)
    frame = pd.DataFrame({"x": lt, "row": np.arange(6)})
    for rows in selections:
        frame = frame.iloc[[r for r in rows if r < len(frame)]]
    assert column(frame).source is lt.source
    expected = data[frame["row"].tolist()] if len(frame) else torch.empty(0, 2)
    assert torch.equal(column(frame).materialize(), expected)
