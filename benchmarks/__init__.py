"""Benchmarks for mlrpy (issue 6): mlrpy vs a hand-written PyTorch loop vs skorch.

Run ``python -m benchmarks`` (or ``python benchmarks/run.py``) from the repository root;
``python -m benchmarks --help`` lists the options and ``benchmarks/README.md`` explains the
rows and holds the latest results.
"""
