"""Optimizer descriptors: Adam and AdamW pick torch's fused kernel unless told otherwise."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrpy import lrn, t_opt


class Net(torch.nn.Module):
    def __init__(self, n_features: int, n_outputs: int) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_features, 8), torch.nn.ReLU(), torch.nn.Linear(8, n_outputs)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def hand_written_fit(X: np.ndarray, y: np.ndarray, fused: bool | None) -> torch.nn.Module:
    """The loop a user writes, consuming torch's RNG as mlrpy does: seed, network, randperm."""
    torch.manual_seed(0)
    x_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    net = Net(X.shape[1], 3)
    opt = torch.optim.Adam(net.parameters(), lr=0.01, fused=fused)
    for _ in range(3):
        perm = torch.randperm(len(x_t))
        for start in range(0, len(x_t), 16):
            idx = perm[start : start + 16]
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(net(x_t[idx]), y_t[idx]).backward()
            opt.step()
    return net


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 5), dtype=np.float32)
    return X, (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 1)


@pytest.mark.parametrize("key", ["adam", "adamw"])
def test_adam_family_uses_the_fused_kernel_by_default(key):
    net = torch.nn.Linear(3, 2)
    assert t_opt(key).generate(net.parameters()).defaults["fused"] is True
    assert t_opt(key, fused=False).generate(net.parameters()).defaults["fused"] is False
    # a class given directly gets the same treatment as its registry key
    assert t_opt(torch.optim.Adam).generate(net.parameters()).defaults["fused"] is True


@pytest.mark.parametrize("fused", [None, False])
def test_learner_trains_the_weights_of_the_hand_written_loop(data, fused):
    """Default (fused) and opt.fused=False each match torch bit for bit with the same kernel."""
    X, y = data
    learner = lrn(
        "classif.module", module=Net, epochs=3, batch_size=16, random_state=0, num_threads=1,
        **{"opt.lr": 0.01, "opt.fused": fused},
    ).fit(X, y)
    assert learner.model.optimizer["param_groups"][0]["fused"] is (fused is None)
    expected = hand_written_fit(X, y, fused=True if fused is None else None)
    for ours, theirs in zip(learner.model.network.parameters(), expected.parameters()):
        assert torch.equal(ours, theirs)


def test_fused_is_left_to_torch_where_it_could_fail():
    net = torch.nn.Linear(3, 2)
    # torch refuses fused together with foreach; an explicit foreach wins over the auto choice
    opt = t_opt("adam", foreach=True).generate(net.parameters())
    assert opt.defaults["fused"] is None and opt.defaults["foreach"] is True
    # SGD's and Adagrad's fused kernels reject sparse gradients, which their default takes
    assert not t_opt("sgd").generate(net.parameters()).defaults.get("fused")
    assert not t_opt("adagrad").generate(net.parameters()).defaults.get("fused")
    # no fused kernel for parameters on the meta device
    meta = torch.nn.Linear(3, 2, device="meta")
    assert not t_opt("adam").generate(meta.parameters()).defaults["fused"]
    # an explicit request is passed through unchanged
    assert t_opt("sgd", fused=True).generate(net.parameters()).defaults["fused"] is True


def test_auto_fused_adam_steps_under_a_grad_scaler():
    """mixed_precision's GradScaler hands the scale to fused kernels itself (CPU path)."""
    net = torch.nn.Linear(4, 2)
    opt = t_opt("adam", lr=0.1).generate(net.parameters())
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    before = net.weight.detach().clone()
    scaler.scale(net(torch.ones(3, 4)).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert opt.defaults["fused"] is True
    assert not torch.equal(before, net.weight)
    assert torch.isfinite(net.weight).all()


_dtypes = st.sampled_from([torch.float32, torch.float64, torch.bfloat16, torch.int64])
_group_specs = st.lists(st.lists(_dtypes, min_size=1, max_size=3), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(specs=_group_specs, as_groups=st.booleans(), container=st.sampled_from(["list", "iter", "tensor"]))
def test_generate_keeps_every_parameter_and_fuses_only_floating_ones(specs, as_groups, container):
    groups = [[torch.zeros(2, dtype=dtype) for dtype in spec] for spec in specs]
    flat = [t for group in groups for t in group]
    if not as_groups:  # one iterable of tensors, as from network.parameters()
        params: object = iter(flat)
    else:
        def pack(ts: list[torch.Tensor]) -> object:
            if container == "tensor" and len(ts) == 1:
                return ts[0]  # torch accepts a lone tensor as a group's params
            return iter(ts) if container == "iter" else ts

        params = [{"params": pack(ts), "lr": 0.1 * (i + 1)} for i, ts in enumerate(groups)]
    opt = t_opt("adam").generate(params)
    got = [p for group in opt.param_groups for p in group["params"]]
    assert len(got) == len(flat) and all(a is b for a, b in zip(got, flat))
    assert bool(opt.defaults["fused"]) == all(t.is_floating_point() for t in flat)
