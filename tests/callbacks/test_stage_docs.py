"""Every stage is documented, in the code and in docs/design.md, and fires in the listed order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mlrpy
from mlrpy.callbacks import ALL_STAGES, PREDICT_STAGES, STAGE_DOCS, STAGES
from tests.conftest import make_trace_callback

DESIGN = Path(__file__).resolve().parents[2] / "docs" / "design.md"
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)


def stage_names_in(text: str) -> list[str]:
    """Stage names in ``text``, each at its first occurrence, in order of appearance."""
    seen: list[str] = []
    for name in re.findall(r"\bon_[a-z_]+\b", text):
        if name in ALL_STAGES and name not in seen:
            seen.append(name)
    return seen


def first_order(trace: list[str]) -> list[str]:
    return list(dict.fromkeys(trace))


def test_stage_tuples_are_public_and_consistent():
    assert mlrpy.STAGES == STAGES
    assert mlrpy.PREDICT_STAGES == PREDICT_STAGES
    assert ALL_STAGES == STAGES + PREDICT_STAGES
    assert len(set(ALL_STAGES)) == len(ALL_STAGES)
    # the validation stages are a run of STAGES, in the same order, right after on_before_valid
    start = STAGES.index("on_before_valid") + 1
    assert STAGES[start : start + len(mlrpy.EVALUATE_STAGES)] == mlrpy.EVALUATE_STAGES


def test_stage_docs_cover_exactly_the_stages_in_order():
    # no stage without documentation, and no documentation left behind for a removed stage
    assert list(STAGE_DOCS) == list(ALL_STAGES)


@pytest.mark.parametrize("stage", ALL_STAGES)
def test_every_stage_has_a_description(stage):
    text = STAGE_DOCS.get(stage, "")
    assert isinstance(text, str) and text.strip(), f"STAGE_DOCS[{stage!r}] is empty or missing"


@pytest.mark.parametrize("stage", ALL_STAGES)
def test_design_page_mentions_every_stage(stage):
    text = DESIGN.read_text(encoding="utf-8")
    assert re.search(rf"(?<!\w){stage}(?!\w)", text), f"docs/design.md does not mention {stage}"


@pytest.mark.parametrize(
    ("first_stage", "expected"), [("on_begin", STAGES), ("on_predict_begin", PREDICT_STAGES)]
)
def test_design_diagram_lists_the_stages_in_firing_order(first_stage, expected):
    blocks = [b for b in _FENCE.findall(DESIGN.read_text(encoding="utf-8")) if first_stage in b]
    assert blocks, f"docs/design.md has no diagram (code block) containing {first_stage}"
    assert stage_names_in(blocks[0]) == list(expected)


def test_stages_fire_in_the_listed_order(iris_xy):
    X, y = iris_xy
    tc, log = make_trace_callback()
    learner = mlrpy.lrn("classif.mlp", epochs=2, batch_size=50, validate=0.3, callbacks=[tc],
                        random_state=0).fit(X, y)
    assert first_order(log) == list(STAGES)
    log.clear()
    learner.predict(X[:5])
    assert first_order(log) == list(PREDICT_STAGES)
