"""Benchmarks for mlrpy: mlrpy against hand-written PyTorch loops and skorch.

Run ``python -m benchmarks`` from the repository root; ``python -m benchmarks --help`` lists
the options and ``benchmarks/README.md`` explains the sections and holds the latest results.

Modules: ``task`` (network, data, settings), ``variants`` (the loops being compared),
``timing`` (interleaved repeats and their statistics), ``sections`` (the timed sections),
``memory`` and ``gpu`` (the subprocess memory and device-sync checks), ``ddp`` and
``hand_ddp`` (data-parallel training: mlrpy against a hand-written script), ``report`` and
``chart`` (the Markdown report and the PNG), ``cli`` (the command line).
"""
