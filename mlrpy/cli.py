"""The ``mlrpy`` command: train a learner with callbacks on a built-in task, browse registries.

Examples::

    mlrpy train --task iris --learner classif.mlp --callbacks history,progress \\
        --set epochs=20 --set opt.lr=0.01 --set cb.progress.digits=2
    mlrpy callbacks                # the callback registry
    mlrpy callbacks history        # one callback: printout, stages, parameters, docs
    mlrpy tasks
    mlrpy learners
    mlrpy --version

User mistakes (unknown keys, malformed ``--set``, invalid values) print one line
``error: ...`` to stderr and exit with status 2; ``--traceback`` shows the full traceback
instead.
"""

from __future__ import annotations

import argparse
import ast
import math
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["build_parser", "main", "parse_set"]

#: Exit status for user errors (as argparse uses for bad command lines).
EXIT_USAGE = 2
#: Exit status after Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130

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


def _split_list(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def _one_line(err: BaseException) -> str:
    if isinstance(err, KeyError) and type(err).__str__ is KeyError.__str__ and err.args:
        msg = str(err.args[0])  # a plain KeyError quotes its message
    else:
        msg = str(err) or type(err).__name__
    return " ".join(msg.split())


def _table(df: pd.DataFrame, digits: int = 4, max_rows: int | None = None) -> str:
    if df.empty:
        return "(empty)"
    return df.round(digits).to_string(index=False, max_rows=max_rows)


def _cell(value: Any) -> Any:
    """Display form of a parameter-table cell: no NaN/None noise, whole bounds as ints."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


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


def cmd_train(args: argparse.Namespace) -> int:
    """Train on the holdout training rows, print what happened and the test score."""
    import mlrpy
    from mlrpy.callbacks import CallbackSetHistory, as_torch_callbacks
    from mlrpy.measures import msr
    from mlrpy.resampling import rsmp

    params = parse_set(args.set)
    task = mlrpy.tsk(args.task)
    callbacks = mlrpy.t_clbks(_split_list(args.callbacks))
    learner = mlrpy.lrn(args.learner, callbacks=callbacks)
    if learner.task_type != task.task_type:
        raise CliError(
            f"learner '{learner.id}' is for {learner.task_type} tasks, but task '{task.id}' is "
            f"{task.task_type}; see 'mlrpy learners' and 'mlrpy tasks'"
        )
    _check_param_names(learner, params)
    learner.set_params(**params)

    measure_keys = _split_list(args.measure) or [_DEFAULT_MEASURES[task.task_type]]
    measures = [msr(k) for k in measure_keys]
    for m in measures:
        if m.task_type != task.task_type:
            raise CliError(
                f"--measure '{m.id}' is for {m.task_type} tasks, but task '{task.id}' is {task.task_type}"
            )

    seed = args.seed
    random_state = learner.get_params(deep=False).get("random_state")
    if seed is None and isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        seed = int(random_state)
    seed_note = ""
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        seed_note = f" (drawn; rerun with --seed {seed})"
    if random_state is None and "random_state" in learner.get_params(deep=False):
        learner.set_params(random_state=seed)
        random_state = seed

    split = rsmp("holdout", ratio=args.ratio, seed=seed).instantiate(task)
    train_rows, test_rows = split.train_set(0), split.test_set(0)

    attached = as_torch_callbacks(learner.callbacks)
    cb_desc = [f"{tc.id}({_fmt_values(tc.get_values())})" if tc.get_values() else tc.id for tc in attached]
    print(
        f"task:      {task.id} ({type(task).__name__}, {task.nrow} rows, {len(task.feature_names)} features)",
    )
    print(f"learner:   {learner.id} ({type(learner).__name__})")
    if params:
        print(f"settings:  {_fmt_values(params)}")
    print(f"callbacks: {', '.join(cb_desc) if cb_desc else '(none)'}")
    print(
        f"split:     holdout ratio={args.ratio:g}: {len(train_rows)} train / {len(test_rows)} test rows",
    )
    print(f"seed:      {seed}{seed_note}; learner random_state={random_state!r}")
    print(flush=True)  # the header shows before training output

    start = time.perf_counter()
    learner.train(task, row_ids=train_rows)
    elapsed = time.perf_counter() - start
    model = learner.model
    print(f"\ntrained {model.epochs} epochs in {elapsed:.1f}s (seed {model.seed})")

    for tc in attached:
        state = model.callbacks.get(tc.id)
        if issubclass(tc.generator, CallbackSetHistory) and isinstance(state, dict):
            print(f"\nhistory ({tc.id}):")
            print(_table(pd.DataFrame(state), max_rows=args.max_rows))

    scores = learner.predict(task, row_ids=test_rows).score(measures)
    print(
        f"\ntest score ({len(test_rows)} rows): " + ", ".join(f"{k} = {v:.4f}" for k, v in scores.items()),
    )
    return 0


# -- registries ------------------------------------------------------------------------------
def cmd_callbacks(args: argparse.Namespace) -> int:
    """List the callback registry, or describe one callback."""
    import mlrpy
    from mlrpy.params import param_table

    if args.id is None:
        frame = mlrpy.mlr_callbacks.as_frame()
        cols = [c for c in ("key", "label", "stages", "parameters") if c in frame.columns]
        print(_table(frame[cols]))
        print("\nDetails: mlrpy callbacks <key>")
        return 0

    tc = mlrpy.t_clbk(args.id)
    print(repr(tc))
    print("\nStages (in firing order):")
    for i, stage in enumerate(tc.stages, 1):
        print(f"  {i:>2}. {stage}")
    if not tc.stages:
        print("  (none)")
    print("\nParameters:")
    table = param_table(tc.param_set, tc.param_values)
    if table.empty:
        print("  (none)")
    else:
        table = table.astype(object)
        for col in ("lower", "upper"):
            table[col] = [_cell(v) for v in table[col]]
        table["description"] = [f.description or "" for f in tc.param_set.model_fields.values()]
        print(table.to_string(index=False))
    doc = (tc.man or "").strip().split("\n\n")[0]
    if doc:
        print("\n" + " ".join(doc.split()))
    print(f"\nParameters on a learner: cb.{tc.id}.<name>")
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    """List the task registry."""
    import mlrpy

    print(_table(mlrpy.mlr_tasks.as_frame()))
    return 0


def cmd_learners(args: argparse.Namespace) -> int:
    """List the learner registry."""
    import mlrpy

    print(_table(mlrpy.mlr_learners.as_frame()))
    return 0


# -- parser and entry point ------------------------------------------------------------------
def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mlrpy`` command."""
    from mlrpy import __version__

    parser = argparse.ArgumentParser(
        prog="mlrpy",
        description="PyTorch learners with a parameterised callback registry (mlr3torch for Python).",
    )
    parser.add_argument("--version", action="version", version=f"mlrpy {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback on errors (for debugging)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train a learner on a built-in task and report what happened",
        description=(
            "Split TASK with a holdout resampling, train LEARNER with CALLBACKS on the training "
            "rows, print the history and score the test rows."
        ),
        epilog=(
            "example: mlrpy train --task iris --learner classif.mlp --callbacks history,progress "
            "--set epochs=20 --set opt.lr=0.01 --set cb.progress.digits=2"
        ),
    )
    train.add_argument("--task", default="iris", help="task key, see 'mlrpy tasks' (default: iris)")
    train.add_argument(
        "--learner", default="classif.mlp", help="learner key, see 'mlrpy learners' (default: classif.mlp)"
    )
    train.add_argument(
        "--callbacks",
        default="history,progress",
        help="comma-separated callback keys, see 'mlrpy callbacks' (default: history,progress; '' for none)",
    )
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter (repeatable): epochs=20, neurons=(32,32), opt.lr=0.01, "
        "cb.<callback id>.<param>=VALUE; values are Python literals or plain strings",
    )
    train.add_argument(
        "--ratio", type=_ratio, default=0.8, help="share of rows used for training (default: 0.8)"
    )
    train.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the split, and of the learner unless random_state is set "
        "(default: random_state if set, else drawn and printed)",
    )
    train.add_argument(
        "--measure",
        default=None,
        help="comma-separated measure keys for the test score (default: classif.acc / regr.rmse)",
    )
    train.add_argument(
        "--max-rows", type=int, default=60, help="history rows shown before truncating (default: 60)"
    )
    train.set_defaults(func=cmd_train)

    cbs = sub.add_parser("callbacks", help="list the callback registry or describe one callback")
    cbs.add_argument("id", nargs="?", default=None, help="a callback key: show its details")
    cbs.set_defaults(func=cmd_callbacks)

    sub.add_parser("tasks", help="list the built-in tasks").set_defaults(func=cmd_tasks)
    sub.add_parser("learners", help="list the learners").set_defaults(func=cmd_learners)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mlrpy`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CliError, KeyError, ValueError, TypeError, ImportError) as err:
        if args.traceback:
            raise
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as err:  # keep the promise of one line; a real bug still says what it was
        from mlrpy.errors import MlrpyError

        if args.traceback or not isinstance(err, MlrpyError):
            raise
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
