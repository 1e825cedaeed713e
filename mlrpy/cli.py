"""The ``mlrpy`` command: train a learner with callbacks, predict from a saved model, browse
the registries.

Examples::

    mlrpy train --task iris --learner classif.mlp --callbacks history,progress \\
        --set epochs=20 --set opt.lr=0.01 --set cb.progress.digits=2
    mlrpy train --data measurements.csv --target species --save model.pt
    mlrpy predict --model model.pt --data new.csv --output predictions.csv --proba
    mlrpy callbacks                # the callback registry
    mlrpy callbacks history        # one callback: printout, stages, parameters, docs
    mlrpy tasks
    mlrpy learners
    mlrpy --version

User mistakes (unknown keys, malformed ``--set``, invalid values, unreadable files) print one
line ``error: ...`` to stderr and exit with status 2; ``--traceback`` shows the full traceback
instead. Tables fit the terminal's width.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from mlrpy._cli_table import fit_table
from mlrpy._cli_train import CliError, cmd_predict, cmd_train, one_line, parse_set, parse_value

__all__ = ["CliError", "build_parser", "main", "parse_set", "parse_value"]

#: Exit status for user errors (as argparse uses for bad command lines).
EXIT_USAGE = 2
#: Exit status after Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


# -- registries ------------------------------------------------------------------------------
def cmd_callbacks(args: argparse.Namespace) -> int:
    """List the callback registry, or describe one callback."""
    import mlrpy
    from mlrpy.params import param_table

    if args.id is None:
        frame = mlrpy.mlr_callbacks.as_frame()
        cols = [c for c in ("key", "label", "stages", "parameters") if c in frame.columns]
        print(fit_table(frame[cols]))
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
        table["description"] = [f.description or "" for f in tc.param_set.model_fields.values()]
        print(fit_table(table))
    doc = (tc.man or "").strip().split("\n\n")[0]
    if doc:
        print("\n" + " ".join(doc.split()))
    print(f"\nParameters on a learner: cb.{tc.id}.<name>")
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    """List the task registry."""
    import mlrpy

    print(fit_table(mlrpy.mlr_tasks.as_frame()))
    return 0


def cmd_learners(args: argparse.Namespace) -> int:
    """List the learner registry."""
    import mlrpy

    print(fit_table(mlrpy.mlr_learners.as_frame()))
    return 0


# -- parser and entry point ------------------------------------------------------------------
def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {text}")
    return value


def _add_train(sub: Any) -> None:
    train = sub.add_parser(
        "train",
        help="train a learner on a built-in task or a CSV file and report what happened",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Split the task (a built-in --task, or --data FILE.csv with --target COLUMN) with a\n"
            "holdout resampling, train LEARNER with CALLBACKS on the training rows, report the\n"
            "history and score the test rows; --save keeps the trained learner."
        ),
        epilog=(
            "examples:\n"
            "  mlrpy train --task iris --callbacks history,progress --set epochs=20 --set opt.lr=0.01\n"
            "  mlrpy train --task diabetes --learner regr.mlp --set cb.progress.digits=2\n"
            "  mlrpy train --data data.csv --target y --ratio 1 --save model.pt"
        ),
    )
    data = train.add_argument_group("data (a built-in task, or a CSV file)")
    data.add_argument("--task", default=None, help="task key, see 'mlrpy tasks' (default: iris)")
    data.add_argument("--data", default=None, metavar="FILE.csv", help="a CSV file with a header row")
    data.add_argument("--target", default=None, metavar="COLUMN", help="the target column of --data")
    data.add_argument(
        "--task-type",
        choices=("classif", "regr"),
        default=None,
        help="task type of --data (default: inferred from the target: text, booleans or integers "
        "with few distinct values are classes, other numbers a regression target)",
    )
    train.add_argument(
        "--learner", default=None, help="learner key, see 'mlrpy learners' (default: <task type>.mlp)"
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
        "--ratio",
        type=_ratio,
        default=0.8,
        help="share of rows used for training (default: 0.8; 1 trains on all rows, without a test score)",
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
    train.add_argument("--save", default=None, metavar="PATH", help="save the trained learner to PATH")
    train.add_argument(
        "--max-rows", type=int, default=60, help="history rows shown before truncating (default: 60)"
    )
    train.set_defaults(func=cmd_train)


def _add_predict(sub: Any) -> None:
    predict = sub.add_parser(
        "predict",
        help="predict the rows of a CSV file with a saved learner",
        description=(
            "Load a learner saved by 'mlrpy train --save' or learner.save(), predict each row of "
            "--data (columns matched by name; others, such as the target, are ignored) and write "
            "a CSV with a 'prediction' column (and 'prob.<class>' columns with --proba)."
        ),
    )
    predict.add_argument("--model", required=True, metavar="PATH", help="a saved learner")
    predict.add_argument("--data", required=True, metavar="FILE.csv", help="the rows to predict")
    predict.add_argument(
        "--output", default=None, metavar="FILE.csv", help="where to write (default: standard output)"
    )
    predict.add_argument("--proba", action="store_true", help="add class probabilities (classifiers)")
    predict.add_argument("--device", default="cpu", help="where the network runs (default: cpu)")
    predict.set_defaults(func=cmd_predict)


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
    _add_train(sub)
    _add_predict(sub)
    cbs = sub.add_parser("callbacks", help="list the callback registry or describe one callback")
    cbs.add_argument("id", nargs="?", default=None, help="a callback key: show its details")
    cbs.set_defaults(func=cmd_callbacks)
    sub.add_parser("tasks", help="list the built-in tasks").set_defaults(func=cmd_tasks)
    sub.add_parser("learners", help="list the learners").set_defaults(func=cmd_learners)
    return parser


def _silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # stdout is not a real file (e.g. captured)
        pass


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
    except BrokenPipeError:  # the reader went away (`mlrpy callbacks | head`): not an error to report
        _silence_stdout()
        return 1
    except (CliError, KeyError, ValueError, TypeError, ImportError, OSError) as err:
        if args.traceback:
            raise
        print(f"error: {one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as err:  # keep the promise of one line; a real bug still says what it was
        from mlrpy.errors import MlrpyError

        if args.traceback or not isinstance(err, MlrpyError):
            raise
        print(f"error: {one_line(err)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
