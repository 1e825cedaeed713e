"""The shards of a data-parallel run: exactly torch's DistributedSampler, computed as tensors."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DistributedSampler

from mlrpy.learners.data import TensorLoader
from mlrpy.learners.parallel import ShardSampler


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), world=st.integers(1, 5), shuffle=st.booleans(), seed=st.integers(0, 2**31 - 1),
       epoch=st.integers(0, 50), data=st.data())
def test_shard_sampler_yields_what_distributed_sampler_yields(n, world, shuffle, seed, epoch, data):
    rank = data.draw(st.integers(0, world - 1))
    ours = ShardSampler(range(n), num_replicas=world, rank=rank, shuffle=shuffle, seed=seed)
    torchs = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=shuffle, seed=seed)
    ours.set_epoch(epoch)
    torchs.set_epoch(epoch)
    assert ours.order().tolist() == list(torchs) == list(ours)
    assert len(ours) == len(torchs)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 60), world=st.integers(1, 4), batch_size=st.integers(1, 9), epoch=st.integers(0, 9))
def test_the_ranks_loaders_cover_every_row_each_epoch(n, world, batch_size, epoch):
    seen = []
    for rank in range(world):
        sampler = ShardSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=3)
        sampler.set_epoch(epoch)
        loader = TensorLoader(torch.arange(n).reshape(n, 1), torch.arange(n), batch_size, sampler=sampler)
        rows = [int(i) for batch in loader for i in batch.index]
        assert [int(v) for batch in loader for v in batch.x[:, 0]] == rows  # x follows index
        assert len(rows) == -(-n // world)
        seen += rows
    assert set(seen) == set(range(n))  # and no more than world - 1 rows twice (the padding)
    assert len(seen) - n == -(-n // world) * world - n
