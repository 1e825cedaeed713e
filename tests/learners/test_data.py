"""TensorLoader: every row once per epoch, batches aligned with their index, and shuffling
that draws exactly what a hand-written loop draws (so mlrpy can train identical weights)."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy.learners.data import TensorLoader


def _data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.arange(n * 3, dtype=torch.float32).reshape(n, 3)
    return x, torch.arange(n) * 10


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), shuffle=st.booleans())
def test_each_epoch_yields_every_row_once_in_aligned_batches(n: int, batch_size: int, shuffle: bool) -> None:
    x, y = _data(n)
    loader = TensorLoader(x, y, batch_size, shuffle=shuffle)

    for _ in range(2):  # a second pass works the same (fresh permutation, cached positions)
        batches = list(loader)
        assert len(batches) == len(loader) == -(-n // batch_size)
        assert [len(b.index) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
        seen = torch.cat([b.index for b in batches])
        assert sorted(seen.tolist()) == list(range(n))
        if not shuffle:
            assert seen.tolist() == list(range(n))
        for b in batches:
            assert torch.equal(b.x, x[b.index]) and torch.equal(b.y, y[b.index])


def test_shuffled_order_is_one_randperm_per_epoch_from_the_global_rng() -> None:
    x, y = _data(50)
    loader = TensorLoader(x, y, batch_size=8, shuffle=True)

    torch.manual_seed(3)
    orders = [torch.cat([b.index for b in loader]) for _ in range(2)]
    torch.manual_seed(3)
    expected = [torch.randperm(50) for _ in range(2)]

    assert all(torch.equal(a, b) for a, b in zip(orders, expected))
    assert not torch.equal(orders[0], orders[1])


def test_prediction_batches_have_no_targets() -> None:
    x, _ = _data(5)

    batches = list(TensorLoader(x, None, batch_size=2))

    assert [b.y for b in batches] == [None, None, None]
    assert torch.equal(torch.cat([b.x for b in batches]), x)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 200), batch_size=st.integers(1, 40), width=st.sampled_from([1, 3, 2048]))
def test_shuffled_batches_hold_their_rows_whether_gathered_per_chunk_or_per_batch(
    n: int, batch_size: int, width: int
) -> None:
    # narrow rows are gathered many batches at a time, wide ones (2048 floats) one batch at a
    # time: either way each batch holds exactly the rows, targets and weights of its index
    x = torch.arange(n * width, dtype=torch.float32).reshape(n, width)
    y, w = torch.arange(n) * 10, torch.arange(n, dtype=torch.float32) / 2
    batches = list(TensorLoader(x, y, batch_size, shuffle=True, weight=w))

    assert [len(b.index) for b in batches] == [len(i) for i in torch.arange(n).split(batch_size)]
    assert sorted(torch.cat([b.index for b in batches]).tolist()) == list(range(n))
    for b in batches:
        assert torch.equal(b.x, x[b.index]) and torch.equal(b.y, y[b.index])
        assert b.weight is not None and torch.equal(b.weight, w[b.index])
