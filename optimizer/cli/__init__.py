"""The ``coldchain`` command line: one module per command (``validate``, ``network``,
``solve``, ``check``, ``generate``, ``route``, ``locate``, ``lrp``, ``batch``).

:func:`main` runs it and returns the exit code (0 ok, 1 internal error, 2 input error,
3 infeasible); the library itself never prints.
"""

from optimizer.cli._app import app, c_stdout_to_stderr, main, run

__all__ = ["app", "c_stdout_to_stderr", "main", "run"]
