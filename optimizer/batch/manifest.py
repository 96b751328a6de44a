"""Manifests (TOML or CSV) and :func:`expand_inputs`, which turns a batch's inputs (paths
and manifests) into tasks, duplicates dropped.

Manifest format (TOML or CSV), paths relative to the manifest's directory:

* CSV: a header row, then one row per task. Columns (only ``instance`` is required):
  ``instance, scenario, seed, time_limit, solution_limit, mode, timeout, iterations,
  location_time, family``. An empty cell takes the default (the command-line option); the
  ``scenario`` and ``seed`` cells may list several values separated by ``;`` (one task per
  combination).
* TOML: an optional ``[defaults]`` table and ``[[task]]`` tables with the same keys; any
  key except ``instance`` and ``family`` may be a list, and each ``[[task]]`` expands to
  the cross product of its lists. ``instance`` may name an instance directory (or its
  ``instance.toml``), a directory of instance directories, or a Solomon/VRPLIB file.

Precedence: a row's value, then the manifest's ``[defaults]``, then the caller's defaults.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from optimizer.batch.tasks import MODES, Task, TaskDefaults, _make_tasks, _targets
from optimizer.errors import InputError

_MANIFEST_KEYS = ("instance", "scenario", "seed", "time_limit", "solution_limit", "mode",
                  "timeout", "iterations", "location_time", "family")


def _opt_none(v: Any) -> Any:
    return None if v is None or (isinstance(v, str) and v.strip() in ("", "none")) else v


def _apply_row(row: Mapping[str, Any], base: TaskDefaults, where: str
               ) -> Iterator[TaskDefaults]:
    """Expand one manifest row (lists give cross products) over ``base``."""
    unknown = sorted(set(row) - set(_MANIFEST_KEYS))
    if unknown:
        raise InputError.at(where, unknown[0], "unknown manifest key",
                            fix=f"use {', '.join(_MANIFEST_KEYS)}")

    def values(key: str) -> list[Any]:
        if key not in row or _opt_none(row[key]) is None:
            return [_MISSING]
        v = row[key]
        if isinstance(v, list):
            return v or [_MISSING]
        if isinstance(v, str) and key in ("scenario", "seed") and ";" in v:
            return [s.strip() for s in v.split(";") if s.strip()]
        return [v]

    keys = ("scenario", "seed", "time_limit", "solution_limit", "mode", "timeout",
            "iterations", "location_time")
    for combo in itertools.product(*(values(k) for k in keys)):
        d = dict(zip(keys, combo, strict=True))
        try:
            opts = base
            if d["scenario"] is not _MISSING:
                opts = replace(opts, scenarios=(str(d["scenario"]),))
            if d["seed"] is not _MISSING:
                opts = replace(opts, seeds=(_whole(d["seed"], 0, 2**63 - 1),))
            if d["time_limit"] is not _MISSING:
                opts = replace(opts, time_limit_s=_positive(float(d["time_limit"])))
            if d["solution_limit"] is not _MISSING:
                opts = replace(opts, solution_limit=_whole(d["solution_limit"], 1, 2**31 - 1))
            if d["mode"] is not _MISSING:
                mode = str(d["mode"])
                if mode not in MODES:
                    raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
                opts = replace(opts, mode=mode)
            if d["timeout"] is not _MISSING:
                opts = replace(opts, timeout_s=_positive(float(d["timeout"])))
            if d["iterations"] is not _MISSING:
                opts = replace(opts, iterations=_whole(d["iterations"], 1, 10))
            if d["location_time"] is not _MISSING:
                opts = replace(opts, location_time_s=_positive(float(d["location_time"])))
        except (TypeError, ValueError, OverflowError) as exc:
            raise InputError.at(where, None, f"bad value: {exc}",
                                fix="see the manifest format in `coldchain batch --help`"
                                ) from exc
        yield opts


class _Missing:
    pass


_MISSING: Any = _Missing()


def _whole(v: Any, lo: int, hi: int) -> int:
    """``v`` as a whole number in ``lo..hi`` (ValueError otherwise)."""
    x = float(v) if isinstance(v, str) else v
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) \
            or x != int(x) or not lo <= x <= hi:
        raise ValueError(f"must be a whole number in {lo}..{hi}, got {v!r}")
    return int(x)


def _positive(x: float) -> float:
    if not x > 0 or math.isinf(x):
        raise ValueError(f"must be a positive number, got {x}")
    return x


def read_manifest(path: Path, defaults: TaskDefaults) -> list[Task]:
    """Tasks of a TOML or CSV manifest (format: module docstring); one-line InputError."""
    base_dir = path.parent
    rows: list[tuple[str, dict[str, Any]]] = []
    base = defaults
    if path.suffix.lower() == ".csv":
        try:
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                if reader.fieldnames is None or "instance" not in reader.fieldnames:
                    raise InputError.at(path, "instance", "missing column",
                                        fix="the header must name an instance column")
                for i, r in enumerate(reader, start=2):
                    clean = {k.strip(): (v or "").strip() for k, v in r.items() if k}
                    if not clean.get("instance"):
                        continue
                    rows.append((f"{path}: line {i}", clean))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError.at(path, None, f"cannot read manifest: {exc}") from exc
    else:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError.at(path, None, f"cannot read manifest: {exc}") from exc
        unknown = sorted(set(data) - {"defaults", "task"})
        if unknown:
            raise InputError.at(path, unknown[0], "unknown manifest table",
                                fix="use [defaults] and [[task]]")
        dflt = data.get("defaults", {})
        if not isinstance(dflt, dict) or "instance" in dflt:
            raise InputError.at(path, "defaults", "must be a table without instance")
        rows = _toml_rows(path, data)
        # lists in [defaults] multiply every task
        bases = list(_apply_row(dflt, defaults, f"{path}: [defaults]")) if dflt else [base]
        return _dedupe(t for b in bases for t in read_manifest_rows(path, rows, b, base_dir))
    return read_manifest_rows(path, rows, base, base_dir)


def _toml_rows(path: Path, data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    tasks = data.get("task", [])
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise InputError.at(path, "task", "must be an array of tables ([[task]])")
    out = []
    for i, t in enumerate(tasks):
        if not isinstance(t.get("instance"), str):
            raise InputError.at(path, f"task[{i}].instance", "missing or not a string",
                                fix="name an instance directory or benchmark file")
        out.append((f"{path}: task[{i}]", dict(t)))
    return out


def read_manifest_rows(path: Path, rows: Sequence[tuple[str, dict[str, Any]]],
                       base: TaskDefaults, base_dir: Path) -> list[Task]:
    """Expand parsed manifest rows (``(where, row)``) into tasks; paths relative to base_dir."""
    out: list[Task] = []
    for where, row in rows:
        try:
            target = Path(str(row["instance"])).expanduser()
        except RuntimeError:  # "~name" of a user this machine does not have
            raise InputError.at(where, "instance", "no such user's home folder",
                                got=str(row["instance"])[:80],
                                fix="write the path without ~, or relative to the manifest"
                                ) from None
        if not target.is_absolute():
            target = base_dir / target
        family = _opt_none(row.get("family"))
        if family is not None and not isinstance(family, str):
            raise InputError.at(where, "family", "must be a text label", got=family,
                                fix='write family = "county" (or leave it out)')
        for opts in _apply_row(row, base, where):
            for kind, p in _targets(target, where):
                out.extend(_make_tasks(kind, p, opts, family))
    if not out:
        raise InputError.at(path, None, "manifest lists no task", fix="add [[task]] rows")
    return out


def _dedupe(tasks: Iterable[Task]) -> list[Task]:
    seen: set[str] = set()
    out = []
    for t in tasks:
        if t.key not in seen:
            seen.add(t.key)
            out.append(t)
    return out


def _is_manifest_toml(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return "task" in data or ("defaults" in data and "format_version" not in data)


def expand_inputs(inputs: Sequence[str | os.PathLike[str]],
                  defaults: TaskDefaults | None = None) -> list[Task]:
    """Tasks for the given inputs, in order, duplicates (same key) dropped.

    An input is an instance directory or its ``instance.toml``, a directory of instance
    directories (and/or Solomon ``.txt`` / VRPLIB ``.vrp`` files), a classic file, or a
    TOML/CSV manifest. Raises :class:`InputError` (one line) for anything else.
    """
    opts = defaults or TaskDefaults()
    if opts.mode not in MODES:
        raise InputError.at(None, "--mode", f"must be one of {', '.join(MODES)}", got=opts.mode)
    out: list[Task] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_file() and (path.suffix.lower() == ".csv"
                               or (path.suffix.lower() == ".toml"
                                   and path.name != "instance.toml"
                                   and _is_manifest_toml(path))):
            out.extend(read_manifest(path, opts))
            continue
        for kind, p in _targets(path):
            out.extend(_make_tasks(kind, p, opts, None))
    return _dedupe(out)
