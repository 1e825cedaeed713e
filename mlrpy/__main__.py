"""``python -m mlrpy``: the ``mlrpy`` command (see :mod:`mlrpy.cli`)."""

from mlrpy.cli import main

raise SystemExit(main())
