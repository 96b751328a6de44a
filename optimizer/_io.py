"""The one atomic-write helper: every file and folder the package writes goes through here.

A file is written to a hidden temporary name in the target's own folder
(``.NAME.PID.HEX.tmp...``, so the final ``os.replace`` is atomic on one file system) and
renamed into place: after a crash or a kill, ``NAME`` is either the previous version or
the complete new one, never half a file. A run killed while writing cannot remove its
temporary file; the next write of the same ``NAME`` removes those of processes that no
longer run (:func:`remove_stale_temps`), keeping those of a concurrent run.

Files are created with the ordinary mode (``0o666`` filtered by the umask), like any file
the user would write. Any OS error (read-only folder, disk full, a directory in the way)
becomes one :class:`~optimizer.errors.InputError` naming the target path, which the CLI
reports as exit code 2; no temporary file is left behind.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from optimizer.errors import InputError

log = logging.getLogger(__name__)
_FIX = "choose a writable output directory with free space"
#: SQLite (GeoPackage) side files that may sit beside a temporary file
_SIDE_FILES = ("-journal", "-wal", "-shm")


def os_reason(exc: BaseException) -> str:
    """Why a path could not be used: the OS's words (``File name too long``), or the
    exception's text for a path Python refuses itself (``embedded null byte``)."""
    return getattr(exc, "strerror", None) or str(exc)


def temp_path(path: str | os.PathLike[str], suffix: str = ".tmp") -> Path:
    """A fresh hidden temp-file name beside ``path``: ``.NAME.PID.HEX{suffix}``.

    Removes the temp files of ``path`` left by processes that no longer run first.
    ``suffix`` must start with ``.tmp`` (a library choosing its driver by the extension,
    such as matplotlib, may need ``.tmp.png``).
    """
    p = Path(path)
    if not suffix.startswith(".tmp"):
        raise ValueError(f"suffix must start with '.tmp' (got {suffix!r})")
    remove_stale_temps(p)
    return p.parent / f".{p.name}.{os.getpid()}.{secrets.token_hex(6)}{suffix}"


def remove_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Remove temp files and folders of ``path`` whose process has ended; return them.

    Temp files of running processes (a concurrent run writing the same folder) are kept;
    errors are ignored (the next run tries again).
    """
    p = Path(path)
    pattern = re.compile(rf"^\.{re.escape(p.name)}\.(\d+)\.[0-9a-f]{{12}}\.tmp")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(p.parent))
    except OSError:
        return removed
    for e in entries:
        m = pattern.match(e.name)
        if m is None or _alive(int(m.group(1))):
            continue
        try:
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path)
            else:
                os.unlink(e.path)
            removed.append(Path(e.path))
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's) or unknowable: keep its files
    return True


def _error(path: Path, exc: BaseException) -> InputError:
    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if isinstance(exc, FileExistsError | NotADirectoryError) and not path.parent.is_dir():
        why = "a folder on its path is a file"
    return InputError.at(path, None, f"cannot write the file ({why})", fix=_FIX)


def _remove(tmp: Path) -> None:
    for side in ("", *_SIDE_FILES):
        q = Path(str(tmp) + side)
        try:
            if q.is_dir() and not q.is_symlink():
                shutil.rmtree(q)
            elif q.exists() or q.is_symlink():
                q.unlink()
        except OSError:
            pass


@contextmanager
def atomic_path(
    path: str | os.PathLike[str],
    *,
    suffix: str = ".tmp",
    errors: tuple[type[BaseException], ...] = (),
) -> Iterator[Path]:
    """Yield a fresh temp path beside ``path`` for a writer that creates the file itself
    (GDAL, matplotlib); rename it to ``path`` when the block ends without an exception.
    Missing parent folders are created.

    ``errors``: further exception types (besides ``OSError``) that mean "cannot write"
    (e.g. a GDAL driver's error); they become :class:`InputError` naming ``path``. On any
    failure the temp file (and SQLite side files) are removed.
    """
    p = Path(path)
    tmp: Path | None = None
    catch: tuple[type[BaseException], ...] = (OSError, *errors)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(p, suffix)
        yield tmp
        os.replace(tmp, p)
        tmp = None
    except catch as exc:
        raise _error(p, exc) from None
    finally:
        if tmp is not None:
            _remove(tmp)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (fsynced before the rename); return the path."""
    p = Path(path)
    with atomic_path(p) as tmp:
        # O_EXCL: a fresh file; mode 0o666 filtered by the umask like any ordinary file
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return p


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically as UTF-8 (newlines as given)."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], data: Any, *, indent: int = 2,
               sort_keys: bool = False) -> Path:
    """Write ``data`` as strict JSON (no NaN/inf; a final newline) to ``path`` atomically."""
    text = json.dumps(data, indent=indent, sort_keys=sort_keys, ensure_ascii=False,
                      allow_nan=False)
    return write_text(path, text + "\n")


def write_csv(path: str | os.PathLike[str], columns: Sequence[str],
              rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``rows`` (dicts; missing or None cells empty, extra keys ignored) as CSV with
    a header of ``columns`` to ``path`` atomically."""
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in columns})
    return write_text(path, buf.getvalue())


@contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temp folder beside ``path`` to fill; it replaces ``path`` (a folder,
    which may exist) when the block ends without an exception, else it is removed.

    The swap is two renames (old folder aside, new folder in), so another process may
    see ``path`` missing for an instant, never half-written.
    """
    p = Path(path)
    tmp: Path | None = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(p)
        tmp.mkdir(0o777)
        yield tmp
        if p.exists():
            old = temp_path(p, ".tmp-old")
            os.replace(p, old)
            os.replace(tmp, p)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, p)
        tmp = None
    except OSError as exc:
        raise _error(p, exc) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def locked_dir(path: str | os.PathLike[str], *, wait_s: float = 600.0,
               poll_s: float = 0.2) -> Iterator[None]:
    """Hold an exclusive advisory lock (``flock``) on the folder ``path`` while inside, so
    that two runs writing the same output folder take turns and the folder always holds
    one run's complete set of files, never a mix. Waits up to ``wait_s`` seconds for
    another run's lock (logging a note once), then raises :class:`InputError`. The lock
    goes with the process (no lock file is left behind); where ``flock`` does not exist
    (Windows) this is a no-op."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY)
    except OSError as exc:
        raise _error(p, exc) from None
    try:
        deadline = time.monotonic() + wait_s
        noted = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise _error(p, exc) from None
            if time.monotonic() >= deadline:
                raise InputError.at(p, None, "another coldchain run is writing this folder "
                                    f"(waited {wait_s:g} s)",
                                    fix="wait for it to finish or choose another --out")
            if not noted:
                log.warning("%s: another coldchain run is writing this folder; waiting", p)
                noted = True
            time.sleep(poll_s)
        yield
    finally:
        os.close(fd)  # releases the lock


__all__ = ["atomic_dir", "atomic_path", "locked_dir", "os_reason", "remove_stale_temps",
           "temp_path", "write_bytes", "write_csv", "write_json", "write_text"]
