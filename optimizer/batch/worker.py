"""Worker entry point of :mod:`optimizer.batch`: run one task in this fresh process.

``python -m optimizer.batch.worker RESULT_PATH`` reads a task (JSON, :meth:`Task.to_json`)
on stdin, runs it with :func:`optimizer.batch.run.run_task` and writes the record as JSON to
``RESULT_PATH`` (temporary file + rename, so the parent never reads half a record). The
process exits on its own when its parent dies (checked every second), so a batch killed
with SIGKILL leaves no orphan solver running for long.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time


def _watch_parent(parent: int, period_s: float = 1.0) -> None:
    """Exit this process (code 70) as soon as its parent process is gone."""

    def loop() -> None:
        while True:
            time.sleep(period_s)
            if os.getppid() != parent:
                os._exit(70)

    threading.Thread(target=loop, name="parent-watchdog", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """Run the task on stdin; write its record to ``argv[0]``; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m optimizer.batch.worker RESULT_PATH < task.json\n")
        return 2
    _watch_parent(os.getppid())
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from optimizer._io import write_text
    from optimizer.batch.results import _json_safe
    from optimizer.batch.run import run_task
    from optimizer.batch.tasks import Task

    task = Task.from_json(json.loads(sys.stdin.read()))
    record = run_task(task)
    write_text(args[0], json.dumps(_json_safe(record), allow_nan=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
