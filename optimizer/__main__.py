"""``python -m optimizer`` runs the ``coldchain`` CLI."""

from optimizer.cli import main

raise SystemExit(main())
