"""``python -m mlrpy``: the ``mlrpy`` command (see :mod:`mlrpy.cli`)."""

from mlrpy.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
