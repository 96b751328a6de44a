"""The JSON-lines results file: :class:`ResultsLog` and :func:`read_results`.

One line per finished task, written with a single ``os.write`` on a file opened
``O_APPEND`` and fsynced, so a crash never leaves half a line; a trailing partial line from
an older crash is truncated away on open, and an exclusive ``flock`` keeps a second batch
off the file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optimizer.errors import InputError

log = logging.getLogger(__name__)


class ResultsLog:
    """An append-only JSON-lines results file, safe against crashes at any point.

    Open it (context manager); on open an exclusive ``flock`` is taken (a second batch on the
    same file fails with an InputError), a trailing partial line left by a crash is
    truncated away, and every complete line is loaded (:attr:`records`: the last record of
    each key). :meth:`append` writes one record as one line with a single ``os.write`` on
    an ``O_APPEND`` descriptor, then fsyncs.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.records: dict[str, dict[str, Any]] = {}
        self.repaired_bytes = 0
        self._fd: int | None = None

    def __enter__(self) -> ResultsLog:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Lock, repair and load the file (created if missing)."""
        if self.path.is_dir():
            raise InputError.at(self.path, "--out", "is a directory", fix="give a file path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InputError.at(self.path, "--out", f"cannot open: {exc.strerror}") from exc
        try:
            import fcntl

            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise InputError.at(self.path, "--out", "another batch is writing this "
                                        "file", fix="wait for it or choose another --out"
                                        ) from exc
                raise
        except ImportError:  # pragma: no cover - not on POSIX
            pass
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        if created:
            _fsync_dir(self.path.parent)
        self._repair_and_load()

    def _repair_and_load(self) -> None:
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        end = data.rfind(b"\n") + 1
        if end < len(data):
            self.repaired_bytes = len(data) - end
            log.warning("%s: dropped a partial last line of %d bytes (an interrupted write)",
                        self.path, self.repaired_bytes)
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        for n, line in enumerate(data[:end].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                log.warning("%s: line %d is not JSON; ignored", self.path, n)
                continue
            if isinstance(rec, dict) and isinstance(rec.get("key"), str):
                self.records[rec["key"]] = rec

    def append(self, record: Mapping[str, Any]) -> None:
        """Append ``record`` as one JSON line (atomic: all of it or nothing), fsynced."""
        if self._fd is None:
            raise RuntimeError("ResultsLog is not open")
        line = json.dumps(_json_safe(record), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        before = os.fstat(self._fd).st_size
        n = os.write(self._fd, data)
        if n != len(data):  # disk full mid-write: take the fragment back
            os.ftruncate(self._fd, before)
            raise OSError(errno.ENOSPC, f"{self.path}: short write ({n} of {len(data)} bytes)")
        os.fsync(self._fd)
        self.records[str(record["key"])] = dict(record)

    def close(self) -> None:
        """Release the lock and close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete, valid line of a results file, in file order (no lock, read-only)."""
    out = []
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    end = data.rfind(b"\n") + 1
    for line in data[:end].splitlines():
        with contextlib.suppress(ValueError):
            rec = json.loads(line)
            if isinstance(rec, dict):
                out.append(rec)
    return out
