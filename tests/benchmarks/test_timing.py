"""The interleaving and the statistics behind every ratio the benchmark reports."""

from __future__ import annotations

import argparse
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.cli import _sections
from benchmarks.timing import interleaved, pair_ratios, quartiles


def test_variants_take_turns_and_each_starts_a_round_equally_often() -> None:
    calls: list[str] = []
    variants = {name: (lambda name=name: calls.append(name)) for name in "ABC"}

    timings, _ = interleaved(variants, repeats=6, device="cpu")

    rounds = [calls[i : i + 3] for i in range(0, len(calls), 3)]
    assert rounds == [list("ABC"), list("BCA"), list("CAB")] * 2
    assert all(len(t.wall) == len(t.cpu) == 6 for t in timings.values())


def test_quick_variants_get_more_rounds_up_to_the_cap() -> None:
    clock = itertools.count()
    variants = {"a": lambda: next(clock), "b": lambda: next(clock)}

    timings, last = interleaved(variants, repeats=2, device="cpu", min_seconds=60.0, max_repeats=9)

    assert [len(t.wall) for t in timings.values()] == [9, 9]  # never reaches 60 s: stops at the cap
    assert set(last) == {"a", "b"}


def test_pair_ratios_divide_within_each_round() -> None:
    mlrpy = {"wall": [1.1, 2.2, 0.5]}
    raw = {"wall": [1.0, 2.0, 0.5]}

    assert pair_ratios(mlrpy, raw) == pytest.approx([1.1, 1.1, 1.0])


@given(st.lists(st.floats(0.5, 2.0), min_size=2, max_size=40))
def test_quartiles_cut_off_a_quarter_at_each_end(values: list[float]) -> None:
    q1, q3 = quartiles(values)

    assert min(values) <= q1 <= q3 <= max(values)
    assert 4 * sum(v <= q1 for v in values) >= len(values)
    assert 4 * sum(v >= q3 for v in values) >= len(values)


def test_quartiles_of_a_single_value_are_undefined() -> None:
    q1, q3 = quartiles([1.0])

    assert q1 != q1 and q3 != q3  # nan: one pair has no spread to report


@pytest.mark.parametrize("text", ["z", "", "a,x"])
def test_unknown_sections_are_rejected_naming_the_valid_letters(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="abcdefghijklm"):
        _sections(text)


def test_sections_are_run_in_report_order_whatever_order_they_are_given() -> None:
    assert _sections("h, b a") == "abh"
