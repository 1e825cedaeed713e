"""LazyTensor: rows loaded when used, subsets that refer to the same source, maps in order."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import DataError, LazyTensor, as_lazy_tensor


class Squares(torch.utils.data.Dataset):
    """A map-style Dataset of ``(x, y)`` items that counts its loads."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.loads: list[int] = []

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        self.loads.append(i)
        return torch.full((2,), float(i * i)), i % 2


def test_a_tensor_gives_its_rows_as_elements():
    data = torch.arange(12.0).reshape(4, 3)
    lt = as_lazy_tensor(data)
    assert isinstance(lt, LazyTensor) and isinstance(lt, torch.utils.data.Dataset)
    assert len(lt) == 4 and lt.shape == (3,)
    assert torch.equal(lt[2], data[2]) and torch.equal(lt[-1], data[3])
    assert torch.equal(lt.materialize(), data)


def test_an_array_is_referenced_not_copied():
    data = np.zeros((3, 2), dtype=np.float32)
    lt = as_lazy_tensor(data)
    data[1] = 7.0  # the lazy tensor sees later changes: it holds a reference
    assert lt[1].tolist() == [7.0, 7.0]


def test_a_dataset_is_read_only_when_elements_are_loaded():
    ds = Squares(5)
    lt = as_lazy_tensor(ds)
    subset = lt[[4, 1]]
    assert ds.loads == [] and len(subset) == 2
    assert subset.materialize().tolist() == [[16.0, 16.0], [1.0, 1.0]]
    assert ds.loads == [4, 1]


@pytest.mark.parametrize("bad", [["a", 1], "images/a.png", [{"a": 1}], torch.tensor(1.0)])
def test_what_cannot_be_a_lazy_tensor_is_refused_with_the_reason(bad):
    with pytest.raises(DataError, match="as_lazy_tensor"):
        as_lazy_tensor(bad)


def test_map_returns_a_new_tensor_and_leaves_the_original_alone():
    lt = as_lazy_tensor(torch.ones(3, 2))
    plus = lt.map(lambda x: x + 1)
    assert plus is not lt and lt.maps == () and len(plus.maps) == 1
    assert lt[0].tolist() == [1.0, 1.0] and plus[0].tolist() == [2.0, 2.0]
    assert plus.source is lt.source


def test_map_can_change_the_element_shape():
    lt = as_lazy_tensor(torch.ones(3, 4)).map(lambda x: x.reshape(2, 2))
    assert lt.shape == (2, 2) and lt.materialize().shape == (3, 2, 2)


def test_materialize_names_the_rows_whose_shapes_differ():
    varying = LazyTensor._from_sequence([torch.ones(2), torch.ones(2), torch.ones(3)])
    assert varying.shape is None
    with pytest.raises(DataError, match=r"rows 0 and 2 have different shapes \(2,\) and \(3,\)"):
        varying.materialize()
    assert varying.materialize([0, 1]).shape == (2, 2)


def test_a_missing_row_is_na_and_cannot_be_loaded():
    lt = as_lazy_tensor(torch.ones(2, 2)).take([0, -1], allow_fill=True)
    assert lt.isna().tolist() == [False, True] and lt[1] is None
    with pytest.raises(DataError, match="row 1 is missing"):
        lt.materialize()


def test_a_dataloader_reads_a_lazy_tensor_in_batches():
    lt = as_lazy_tensor(torch.arange(10.0).reshape(5, 2)).map(lambda x: -x)
    batches = list(torch.utils.data.DataLoader(lt, batch_size=2))
    assert [tuple(b.shape) for b in batches] == [(2, 2), (2, 2), (1, 2)]
    assert torch.equal(torch.cat(batches), -torch.arange(10.0).reshape(5, 2))


rows_and_picks = st.integers(1, 12).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.integers(0, n - 1), max_size=8),
        st.lists(st.integers(0, 7), max_size=8),
    )
)


@settings(max_examples=60, deadline=None)
@given(rows_and_picks)
def test_taking_rows_twice_is_taking_the_composed_rows_and_keeps_the_source(case):
    n, first, second = case
    data = torch.arange(n * 2.0).reshape(n, 2)
    lt = as_lazy_tensor(data)
    once = lt[np.asarray(first, dtype=int)]
    second = [i for i in second if i < len(first)]
    twice = once[np.asarray(second, dtype=int)]
    assert twice.source is lt.source
    expected = data[[first[i] for i in second]] if second else torch.empty(0, 2)
    assert torch.equal(twice.materialize(), expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10), st.integers(-12, 12), st.integers(-12, 12), st.sampled_from([None, 1, 2, -1]))
def test_slices_and_masks_select_what_they_select_on_a_tensor(n, start, stop, step):
    data = torch.arange(float(n))[:, None]
    lt = as_lazy_tensor(data)
    sliced = lt[start:stop:step]
    assert sliced.source is lt.source
    assert sliced.materialize().flatten().tolist() == data.flatten().tolist()[start:stop:step]
    mask = (np.arange(n) % 2) == 0
    assert lt[mask].materialize().flatten().tolist() == data.flatten().tolist()[::2]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["add", "double", "neg"]), max_size=5), st.lists(st.integers(0, 4), max_size=5))
def test_maps_apply_in_the_order_they_were_added_whatever_rows_are_taken(names, rows):
    fns = {"add": lambda x: x + 1, "double": lambda x: x * 2, "neg": lambda x: -x}
    data = torch.arange(5.0)[:, None]
    lt = as_lazy_tensor(data)
    for name in names:
        lt = lt.map(fns[name])
    picked = lt[np.asarray(rows, dtype=int)]
    expected = data[rows]
    for name in names:
        expected = fns[name](expected)
    assert len(picked.maps) == len(names)
    assert torch.equal(picked.materialize(), expected.reshape(len(rows), 1))
