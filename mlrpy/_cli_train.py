"""The ``train`` and ``predict`` commands of ``mlrpy`` (the parser and entry point are in
:mod:`mlrpy.cli`)."""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlrpy._cli_table import fit_table

__all__ = ["CliError", "cmd_predict", "cmd_train", "parse_set", "parse_value"]

_DEFAULT_MEASURES = {"classif": "classif.acc", "regr": "regr.rmse"}
_WORDS = {"true": True, "false": False, "none": None, "null": None}


class CliError(Exception):
    """A user error detected by the command line layer itself."""


# -- helpers ---------------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """A ``--set`` value: a Python literal if it parses as one, else the raw string.

    ``true``/``false``/``none``/``null`` (any case) are accepted as ``True``/``False``/``None``.

    Example:
        >>> parse_value("0.01"), parse_value("(32, 32)"), parse_value("relu"), parse_value("false")
        (0.01, (32, 32), 'relu', False)
    """
    if text.strip().lower() in _WORDS:
        return _WORDS[text.strip().lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_set(pairs: Sequence[str]) -> dict[str, Any]:
    """Turn ``["epochs=20", "opt.lr=0.01"]`` into ``{"epochs": 20, "opt.lr": 0.01}``.

    A name given more than once keeps its last value (so later options override earlier ones).

    Raises:
        CliError: an item without ``=`` or with an empty name.

    Example:
        >>> parse_set(["epochs=20", "neurons=(32,32)", "cb.progress.digits=2"])
        {'epochs': 20, 'neurons': (32, 32), 'cb.progress.digits': 2}
    """
    out: dict[str, Any] = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or any(c.isspace() for c in key):
            raise CliError(
                f"--set {item!r}: expected NAME=VALUE, e.g. --set epochs=20 or --set cb.progress.digits=2"
            )
        out[key] = parse_value(value.strip())  # the last of repeated names wins
    return out


def split_list(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def one_line(err: BaseException) -> str:
    if isinstance(err, KeyError) and type(err).__str__ is KeyError.__str__ and err.args:
        msg = str(err.args[0])  # a plain KeyError quotes its message
    else:
        msg = str(err) or type(err).__name__
    return " ".join(msg.split())


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _fmt_values(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_fmt_value(v)}" for k, v in values.items())


# -- train -----------------------------------------------------------------------------------
def _check_param_names(learner: Any, params: dict[str, Any]) -> None:
    """Unknown plain names get a suggestion (dotted ones are checked by the learner)."""
    from mlrpy.dictionary import suggest

    valid = learner.get_params(deep=True)
    for key in params:
        if "." not in key and key not in valid:
            plain = [k for k in valid if "." not in k]
            raise CliError(
                f"--set: '{key}' is not a parameter of learner '{learner.id}'.{suggest(key, plain)} "
                f"Parameters: {', '.join(plain)}"
            )


def _resolve_task(args: argparse.Namespace) -> tuple[Any, list[str]]:
    """The task from ``--data``/``--target`` or ``--task``, and header lines saying where it came from."""
    import mlrpy
    from mlrpy._cli_data import task_from_csv

    if args.data is None:
        for option, value in (("--target", args.target), ("--task-type", args.task_type)):
            if value is not None:
                raise CliError(f"{option} needs --data FILE.csv (a built-in --task has its own target)")
        task = mlrpy.tsk(args.task or "iris")
        size = f"{task.nrow} rows, {len(task.feature_names)} features"
        return task, [f"task:      {task.id} ({type(task).__name__}, {size})"]
    if args.task is not None:
        raise CliError("give either --task (a built-in task) or --data (a CSV file), not both")
    if args.target is None:
        raise CliError("--data needs --target COLUMN, the column to predict")
    task, how = task_from_csv(args.data, args.target, args.task_type)
    size = f"{task.nrow} rows, {len(task.feature_names)} features"
    return task, [
        f"task:      {task.id} ({type(task).__name__} from {args.data}, {size})",
        f"target:    {task.target}: {task.task_type}, {how}",
    ]


def _seed(args: argparse.Namespace, learner: Any) -> tuple[int, str]:
    seed = args.seed
    random_state = learner.get_params(deep=False).get("random_state")
    if seed is None and isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        seed = int(random_state)
    note = ""
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        note = f" (drawn; rerun with --seed {seed})"
    if random_state is None and "random_state" in learner.get_params(deep=False):
        learner.set_params(random_state=seed)
    return seed, note


def _history_summary(history: pd.DataFrame) -> str:
    """One line about the recorded history, for when every epoch was printed while training."""
    column = next((c for c in ("valid.loss", "train.loss") if c in history.columns), None)
    losses = history[column].to_numpy(dtype=float) if column else np.array([])
    recorded = ~np.isnan(losses)
    if not recorded.any():
        return f"{len(history)} epochs recorded"
    epochs = history["epoch"].to_numpy() if "epoch" in history.columns else np.arange(1, len(history) + 1)
    losses, epochs = losses[recorded], epochs[recorded]
    best = int(np.argmin(losses))
    return (
        f"{len(history)} epochs; {column} {losses[0]:.4f} -> {losses[-1]:.4f}, "
        f"lowest {losses[best]:.4f} at epoch {epochs[best]}"
    )


def cmd_train(args: argparse.Namespace) -> int:
    """Train on the holdout training rows, print what happened and the test score."""
    import mlrpy
    from mlrpy.callbacks import CallbackSetHistory, CallbackSetProgress, as_torch_callbacks
    from mlrpy.measures import msr
    from mlrpy.resampling import rsmp

    params = parse_set(args.set)
    task, task_lines = _resolve_task(args)
    callbacks = mlrpy.t_clbks(split_list(args.callbacks))
    learner = mlrpy.lrn(args.learner or f"{task.task_type}.mlp", callbacks=callbacks)
    if learner.task_type != task.task_type:
        raise CliError(
            f"learner '{learner.id}' is for {learner.task_type} tasks, but task '{task.id}' is "
            f"{task.task_type}; see 'mlrpy learners' and 'mlrpy tasks'"
        )
    _check_param_names(learner, params)
    learner.set_params(**params)

    measures = [msr(k) for k in split_list(args.measure) or [_DEFAULT_MEASURES[task.task_type]]]
    for m in measures:
        if m.task_type != task.task_type:
            raise CliError(
                f"--measure '{m.id}' is for {m.task_type} tasks, but task '{task.id}' is {task.task_type}"
            )
    seed, seed_note = _seed(args, learner)
    if args.ratio < 1:
        split = rsmp("holdout", ratio=args.ratio, seed=seed).instantiate(task)
        train_rows, test_rows = split.train_set(0), split.test_set(0)
        split_line = f"holdout ratio={args.ratio:g}: {len(train_rows)} train / {len(test_rows)} test rows"
    else:
        train_rows, test_rows = list(task.row_ids), []
        split_line = f"all {len(train_rows)} rows for training (--ratio 1: no test score)"

    attached = as_torch_callbacks(learner.callbacks)
    cb_desc = [f"{tc.id}({_fmt_values(tc.get_values())})" if tc.get_values() else tc.id for tc in attached]
    print("\n".join(task_lines))
    print(f"learner:   {learner.id} ({type(learner).__name__})")
    if params:
        print(f"settings:  {_fmt_values(params)}")
    print(f"callbacks: {', '.join(cb_desc) if cb_desc else '(none)'}")
    print(f"split:     {split_line}")
    random_state = learner.get_params(deep=False).get("random_state")
    print(f"seed:      {seed}{seed_note}; learner random_state={random_state!r}")
    print(flush=True)  # the header shows before training output

    start = time.perf_counter()
    learner.train(task, row_ids=train_rows)
    elapsed = time.perf_counter() - start
    model = learner.model

    # the progress callback prints every epoch as it ends; the history table would repeat it
    epochs_printed = any(issubclass(tc.generator, CallbackSetProgress) for tc in attached)
    histories = [
        (tc.id, pd.DataFrame(model.callbacks[tc.id]))  # the state is plain columns: name -> array
        for tc in attached
        if issubclass(tc.generator, CallbackSetHistory) and isinstance(model.callbacks.get(tc.id), dict)
    ]
    if epochs_printed:
        print()
    else:
        for key, history in histories:
            print(f"history ({key}):\n{fit_table(history, max_rows=args.max_rows)}\n")
    print(f"trained:   {model.epochs} epochs in {elapsed:.1f}s (seed {model.seed})")
    if epochs_printed:
        for key, history in histories:
            print(f"{key + ':':<10} {_history_summary(history)}")
    if test_rows:
        scores = learner.predict(task, row_ids=test_rows).score(measures)
        print(f"test:      {len(test_rows)} rows: " + ", ".join(f"{k} = {v:.4f}" for k, v in scores.items()))
    if args.save:
        learner.save(args.save)
        print(f"saved:     {args.save} (mlrpy predict --model {args.save} --data FILE.csv; or mlrpy.load)")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Predict the rows of a CSV file with a saved learner; write a CSV of predictions."""
    import mlrpy
    from mlrpy._cli_data import prediction_frame, read_csv
    from mlrpy.io import atomic_write

    if not os.path.isfile(args.model):
        raise CliError(f"--model: no such file '{args.model}' (save one with 'mlrpy train --save PATH')")
    learner = mlrpy.load(args.model, map_location=args.device)
    frame = prediction_frame(learner, read_csv(args.data), proba=args.proba)
    if args.output is None:
        frame.to_csv(sys.stdout, index=False)
        return 0
    atomic_write(args.output, lambda f: f.write(frame.to_csv(index=False).encode("utf-8")))
    print(f"wrote {len(frame)} predictions of {learner.id} to {args.output}")
    return 0
