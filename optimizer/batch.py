"""Batch runs at province scale: many instances x scenarios x seeds x limits.

A batch is a list of :class:`Task` objects (built by :func:`expand_inputs` from instance
directories, directories of instances, classic Solomon/VRPLIB files and manifests). Every
task runs in its **own operating-system process** (``python -m optimizer._batch_worker``),
so a task that exceeds its wall-clock budget is killed (status ``timeout``), and a worker
that dies (segfault, SIGKILL, out of memory) is recorded as ``crashed`` while the batch
goes on. The processes are driven either locally (at most ``jobs`` at a time) or on a Dask
distributed cluster (``scheduler="tcp://host:8786"``, or ``"local"`` for a
``LocalCluster``); Dask is imported only then (extra ``dist``).

Results go to a JSON-lines file (:class:`ResultsLog`): one line per finished task, written
with a single ``os.write`` on a file opened ``O_APPEND`` and fsynced, so a crash never
leaves half a line; a trailing partial line from an older crash is truncated away on open.
Each line carries a stable task key (hash of the instance path, a digest of its content,
scenario, seed, mode and limits); a rerun with the same results file skips finished keys.

Units: times in seconds (``runtime_s``, ``time_limit_s``, ``timeout_s``), costs in yuan
(``objective`` is yuan/day for instances, the file's distance unit for classic files),
percentages 0-100, memory in MiB (``peak_rss_mb``, the worker process's peak RSS).

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

import contextlib
import csv
import errno
import hashlib
import itertools
import json
import logging
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from optimizer._io import write_csv
from optimizer.errors import ColdChainError, InfeasibleError, InputError

log = logging.getLogger(__name__)

STATUSES = ("ok", "failed", "infeasible", "timeout", "crashed")
MODES = ("plan", "baseline")
KINDS = ("instance", "classic")
KEY_VERSION = 1
CLASSIC_SUFFIXES = (".txt", ".vrp")

#: Figures copied to the top level of every result line (None when not applicable).
FIGURES = (
    "objective", "cost_per_order_yuan", "baseline_cost_per_order_yuan", "spoilage_mass_pct",
    "village_coverage_pct", "cold_chain_pct", "bks", "gap_pct",
)


# ----------------------------------------------------------------------------- tasks


@dataclass(frozen=True, slots=True)
class TaskDefaults:
    """Options applied to every task an input expands to (a manifest row may override).

    ``scenarios`` empty: every scenario of the instance planned together (mode ``plan``)
    or ``peak`` (mode ``baseline``). ``timeout_s`` None: :meth:`Task.budget_s` estimates one.
    """

    scenarios: tuple[str | None, ...] = (None,)
    seeds: tuple[int, ...] = (0,)
    time_limit_s: float = 10.0
    solution_limit: int | None = None
    mode: str = "plan"
    iterations: int = 2
    location_time_s: float = 20.0
    timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of a batch: one instance (or classic file), scenario, seed and limits.

    ``path`` is absolute (an instance directory or a classic file); ``digest`` is the
    SHA-256 of its content (the instance TOML and every file it names); ``timeout_s`` is the
    wall-clock budget in seconds (None: estimated, see :meth:`budget_s`); it is not part of
    the key.
    """

    kind: str
    path: str
    digest: str
    family: str
    scenario: str | None = None
    seed: int = 0
    time_limit_s: float = 10.0
    solution_limit: int | None = None
    mode: str = "plan"
    iterations: int = 2
    location_time_s: float = 20.0
    timeout_s: float | None = None

    @property
    def key(self) -> str:
        """Stable 20-hex-digit key: hash of path, content digest, scenario, seed and limits."""
        ident = {
            "v": KEY_VERSION, "kind": self.kind, "path": self.path, "digest": self.digest,
            "scenario": self.scenario, "seed": self.seed, "time_limit_s": self.time_limit_s,
            "solution_limit": self.solution_limit, "mode": self.mode,
        }
        if self.kind == "instance" and self.mode == "plan":
            ident["iterations"] = self.iterations
            ident["location_time_s"] = self.location_time_s
        blob = json.dumps(ident, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    @property
    def name(self) -> str:
        """Short label: the instance directory or file name."""
        return Path(self.path).name

    @property
    def label(self) -> str:
        """``name/scenario/seed`` for progress lines and tables."""
        if self.kind == "classic":
            return f"{self.name}/s{self.seed}"
        default = "peak" if self.mode == "baseline" else "all"
        return f"{self.name}/{self.scenario or default}/s{self.seed}"

    def budget_s(self) -> float:
        """Wall-clock budget in seconds (process start to result), ``timeout_s`` if set.

        The estimate is generous (a guard against runaway runs, not a limit): classic files
        60 + 3 x time limit; ``baseline`` 120 + 4 x time limit; ``plan`` 120 + 3 x the
        nominal solver time, (8 + iterations) x time limit + (iterations + 1) x location
        time (up to four scenarios routed for the plan and the baseline, plus the
        location-routing rounds). Matrix building, checking and imports come on top of the
        solver limits and grow with the instance (about 1 min at 3,000 villages), hence
        the margin: 600 s with the defaults. Measured: a 600-village county on a loaded
        2-core machine needed more than 390 s.
        """
        if self.timeout_s is not None:
            return self.timeout_s
        tl = self.time_limit_s
        if self.kind == "classic":
            return 60.0 + 3.0 * tl
        if self.mode == "baseline":
            return 120.0 + 4.0 * tl
        n_routes = (2 if self.scenario else 8) + self.iterations
        nominal = n_routes * tl + (self.iterations + 1) * self.location_time_s
        return 120.0 + 3.0 * nominal

    def to_json(self) -> dict[str, Any]:
        """The task as a JSON-serialisable dict (inverse: :meth:`from_json`)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Task:
        """Rebuild a task from :meth:`to_json` output."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _sha256_file(h: Any, path: Path) -> None:
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)


def instance_digest(instance_dir: Path) -> tuple[str, str | None]:
    """(SHA-256 of instance.toml and every file its ``[files]`` table names, product name).

    Unreadable or missing files contribute their name only (the task then fails with the
    parser's one-line error); the product is None when the TOML cannot be read.
    """
    h = hashlib.sha256()
    toml_path = instance_dir / "instance.toml"
    product: str | None = None
    try:
        raw = toml_path.read_bytes()
    except OSError:
        h.update(b"missing:instance.toml")
        return h.hexdigest(), None
    h.update(raw)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return h.hexdigest(), None
    prod = data.get("product")
    if isinstance(prod, dict) and isinstance(prod.get("name"), str):
        product = prod["name"]
    files = data.get("files")
    if isinstance(files, dict):
        for role in sorted(files):
            ref = files[role]
            h.update(f"\0{role}\0".encode())
            if not isinstance(ref, str):
                continue
            p = (instance_dir / ref)
            try:
                _sha256_file(h, p)
            except OSError:
                h.update(f"missing:{ref}".encode())
    return h.hexdigest(), product


def classic_family(path: Path) -> str:
    """``solomon/C1`` (letters + first digit of the name) or ``vrplib/X`` (name up to '-')."""
    stem = path.stem
    if path.suffix.lower() == ".txt":
        m = re.match(r"[A-Za-z]+\d?", stem)
        return f"solomon/{(m.group(0) if m else stem).upper()}"
    return f"vrplib/{stem.split('-')[0]}"


def _is_instance_dir(path: Path) -> bool:
    return (path / "instance.toml").is_file()


def _is_classic_file(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix == ".vrp":
        return True
    if suffix != ".txt":
        return False
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:2000].upper()
    except OSError:
        return False
    return "VEHICLE" in head and "CUSTOMER" in head


def _is_manifest_toml(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return "task" in data or ("defaults" in data and "format_version" not in data)


def _targets(path: Path, where: str | None = None) -> list[tuple[str, Path]]:
    """(kind, path) of the instances and classic files ``path`` names, sorted.

    ``where`` names the manifest row the path comes from (None: the command line).
    """

    def bad(problem: str, fix: str) -> InputError:
        if where is None:
            return InputError.at(path, "INPUT", problem, fix=fix)
        return InputError.at(where, "instance", problem, got=str(path), fix=fix)

    if path.is_dir():
        if _is_instance_dir(path):
            return [("instance", path)]
        out: list[tuple[str, Path]] = []
        for child in sorted(path.iterdir()):
            if child.is_dir() and _is_instance_dir(child):
                out.append(("instance", child))
            elif child.is_file() and _is_classic_file(child):
                out.append(("classic", child))
        if not out:
            raise bad("directory holds no instance.toml, no instance directories and no "
                      "Solomon/VRPLIB files", "pass instance directories or benchmark files")
        return out
    if path.is_file():
        if path.name == "instance.toml":
            return [("instance", path.parent)]
        if path.suffix.lower() in CLASSIC_SUFFIXES:
            return [("classic", path)]
        if path.suffix.lower() == ".toml":
            raise bad("not a manifest (no [[task]] table) and not named instance.toml",
                      "pass the instance directory or a manifest")
        raise bad("unknown input type", "pass an instance directory, a .txt/.vrp file or a "
                  ".toml/.csv manifest")
    raise bad("not found", "check the path")


def _make_tasks(kind: str, path: Path, opts: TaskDefaults, family: str | None) -> list[Task]:
    path = path.resolve()
    if kind == "instance":
        digest, product = instance_digest(path)
        fam = family or product or path.name
    else:
        h = hashlib.sha256()
        _sha256_file(h, path)
        digest, fam = h.hexdigest(), family or classic_family(path)
    scenarios: tuple[str | None, ...] = (None,) if kind == "classic" else opts.scenarios
    out = []
    for sc, seed in itertools.product(scenarios or (None,), opts.seeds or (0,)):
        out.append(Task(
            kind=kind, path=str(path), digest=digest, family=fam, scenario=sc, seed=int(seed),
            time_limit_s=float(opts.time_limit_s), solution_limit=opts.solution_limit,
            mode=opts.mode if kind == "instance" else "route",
            iterations=int(opts.iterations), location_time_s=float(opts.location_time_s),
            timeout_s=opts.timeout_s,
        ))
    return out


# ----------------------------------------------------------------------------- manifests

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
                opts = replace(opts, seeds=(int(d["seed"]),))
            if d["time_limit"] is not _MISSING:
                opts = replace(opts, time_limit_s=_positive(float(d["time_limit"])))
            if d["solution_limit"] is not _MISSING:
                opts = replace(opts, solution_limit=int(d["solution_limit"]))
            if d["mode"] is not _MISSING:
                mode = str(d["mode"])
                if mode not in MODES:
                    raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
                opts = replace(opts, mode=mode)
            if d["timeout"] is not _MISSING:
                opts = replace(opts, timeout_s=_positive(float(d["timeout"])))
            if d["iterations"] is not _MISSING:
                opts = replace(opts, iterations=int(d["iterations"]))
            if d["location_time"] is not _MISSING:
                opts = replace(opts, location_time_s=_positive(float(d["location_time"])))
        except (TypeError, ValueError) as exc:
            raise InputError.at(where, None, f"bad value: {exc}",
                                fix="see the manifest format in `coldchain batch --help`"
                                ) from exc
        yield opts


class _Missing:
    pass


_MISSING: Any = _Missing()


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
        target = Path(str(row["instance"])).expanduser()
        if not target.is_absolute():
            target = base_dir / target
        family = _opt_none(row.get("family"))
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


# ----------------------------------------------------------------------------- running a task


def _one_line(text: str, limit: int = 500) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def base_record(task: Task) -> dict[str, Any]:
    """The fields every result line has, before the outcome is known."""
    rec: dict[str, Any] = {
        "key": task.key, "task": task.label, "kind": task.kind, "family": task.family,
        "path": task.path, "scenario": task.scenario, "seed": task.seed, "mode": task.mode,
        "time_limit_s": task.time_limit_s, "solution_limit": task.solution_limit,
        "status": "crashed", "error": None, "runtime_s": None, "peak_rss_mb": None,
        "host": socket.gethostname(),
    }
    rec.update({f: None for f in FIGURES})
    return rec


def _instance_figures(task: Task) -> dict[str, Any]:
    from optimizer.limits import Limits
    from optimizer.solve import load_instance

    inst = load_instance(task.path)
    limits = Limits(time_s=task.time_limit_s, solution_limit=task.solution_limit)
    if task.mode == "baseline":
        from optimizer.solve import solve

        one = solve(inst, scenario=task.scenario or "peak", limits=limits, seed=task.seed)
        k = one.kpis
        return {
            "scenario_routed": one.scenario, "objective": _finite(k.logistics_cost_yuan),
            "cost_per_order_yuan": _finite(k.cost_per_order_yuan),
            "baseline_cost_per_order_yuan": _finite(k.cost_per_order_yuan),
            "spoilage_mass_pct": _finite(k.spoilage_mass_pct),
            "village_coverage_pct": _finite(k.village_coverage_pct),
            "cold_chain_pct": _finite(k.cold_chain_pct), "checked": one.day.checked,
            "villages": len(inst.villages), "routes": len(one.day.routes),
        }
    from optimizer.planning.planner import plan

    planning = plan(inst, scenarios=[task.scenario] if task.scenario else None, limits=limits,
                    seed=task.seed, iterations=task.iterations,
                    location_time_s=task.location_time_s)
    res = planning.result
    per: dict[str, dict[str, Any]] = {}
    for o in res.outcomes:
        k = o.kpis
        d = per.setdefault(o.scenario, {})
        prefix = "" if o.plan == "plan" else "baseline_"
        d[prefix + "objective"] = _finite(k.logistics_cost_yuan)
        d[prefix + "cost_per_order_yuan"] = _finite(k.cost_per_order_yuan)
        d[prefix + "spoilage_mass_pct"] = _finite(k.spoilage_mass_pct)
        d[prefix + "village_coverage_pct"] = _finite(k.village_coverage_pct)
        d[prefix + "cold_chain_pct"] = _finite(k.cold_chain_pct)
        d[prefix + "produce_kg"] = _finite(k.produce_kg)
    # headline: the requested scenario, else the one with the most produce (the peak)
    head = task.scenario or max(per, key=lambda s: (per[s].get("produce_kg") or 0.0, s))
    h = per[head]
    return {
        "scenario_routed": head, "objective": h.get("objective"),
        "cost_per_order_yuan": h.get("cost_per_order_yuan"),
        "baseline_cost_per_order_yuan": h.get("baseline_cost_per_order_yuan"),
        "spoilage_mass_pct": h.get("spoilage_mass_pct"),
        "village_coverage_pct": h.get("village_coverage_pct"),
        "cold_chain_pct": h.get("cold_chain_pct"),
        "checked": all(o.day.checked for o in res.outcomes),
        "villages": len(inst.villages), "open_cold_stores": len(
            res.outcome(head, "plan").facilities.cold_stores),
        "pickup_points": len(res.pickup_points), "scenarios": per,
    }


def known_optimum(path: Path) -> float | None:
    """Best-known objective of a classic file, if a ``.sol`` or ``bks.csv`` is at hand.

    Looks for ``<stem>.sol`` next to the file or in ``../solutions/`` (its ``Cost`` line),
    then for a ``bks.csv`` (columns ``instance, bks``) next to the file or one level up.
    """
    stem = path.stem
    for sol in (path.with_suffix(".sol"), path.parent.parent / "solutions" / f"{stem}.sol"):
        try:
            for line in sol.read_text(encoding="utf-8").splitlines():
                if line.strip().lower().startswith("cost"):
                    return float(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    for bks in (path.parent / "bks.csv", path.parent.parent / "bks.csv"):
        try:
            with bks.open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    if row.get("instance") == stem and row.get("bks"):
                        return float(row["bks"])
        except (OSError, ValueError, csv.Error):
            continue
    return None


def _classic_figures(task: Task) -> dict[str, Any]:
    from optimizer.formats.classic import read_classic
    from optimizer.routing import solve_routing

    path = Path(task.path)
    problem = read_classic(path)
    sol = solve_routing(problem, time_limit_s=task.time_limit_s, seed=task.seed,
                        solution_limit=task.solution_limit)
    obj = float(sol.objective)
    bks = known_optimum(path)
    gap = 100.0 * (obj - bks) / bks if bks else None
    return {
        "objective": _finite(obj), "bks": bks, "gap_pct": _finite(gap),
        "routes": sum(1 for r in sol.routes if r.visits), "dropped": len(sol.dropped),
        "engine": sol.engine, "customers": len(problem.stops),
    }


def run_task(task: Task) -> dict[str, Any]:
    """Run ``task`` in this process and return its result record (never raises).

    Status ``ok``; ``infeasible`` (InfeasibleError); ``failed`` for any other error, with the
    one-line message (an unexpected exception is prefixed ``internal error:``).
    """
    rec = base_record(task)
    t0 = time.perf_counter()
    try:
        figures = _classic_figures(task) if task.kind == "classic" else _instance_figures(task)
    except InfeasibleError as exc:
        rec.update(status="infeasible", error=_one_line(str(exc)))
    except ColdChainError as exc:
        rec.update(status="failed", error=_one_line(str(exc)))
    except MemoryError:
        rec.update(status="failed", error="out of memory")
    except Exception as exc:  # a bug in the library: one line, the batch goes on
        log.exception("task %s failed", task.label)
        rec.update(status="failed", error=_one_line(f"internal error: {type(exc).__name__}: "
                                                    f"{exc}"))
    else:
        rec.update(figures)
        rec["status"] = "ok"
    rec["runtime_s"] = round(time.perf_counter() - t0, 3)
    rec["peak_rss_mb"] = _peak_rss_mb()
    return rec


# ----------------------------------------------------------------------------- isolation

#: Command that runs one task in a fresh interpreter (task JSON on stdin, result path argv).
WORKER_COMMAND: tuple[str, ...] = (sys.executable, "-m", "optimizer._batch_worker")

_LIVE: set[subprocess.Popen[bytes]] = set()
_LIVE_LOCK = threading.Lock()


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


def _stderr_tail(path: Path, n: int = 3) -> str:
    try:
        data = path.read_bytes()[-4000:].decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [ln for ln in data.splitlines() if ln.strip()]
    return _one_line(" | ".join(lines[-n:]), 300)


def run_isolated(task: Task, *, command: Sequence[str] | None = None) -> dict[str, Any]:
    """Run ``task`` in a child process and return its record (never raises).

    The child gets the task as JSON on stdin and writes its record to a temporary file; it
    is killed when it exceeds :meth:`Task.budget_s` (status ``timeout``); a child that dies
    without a record (signal, non-zero exit, out of memory) gives status ``crashed``.
    ``runtime_s`` is the wall clock measured here (process start included).
    """
    cmd = list(command or WORKER_COMMAND)
    budget = task.budget_s()
    rec = base_record(task)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coldchain-task-") as tmp:
        out_path = Path(tmp) / "result.json"
        err_path = Path(tmp) / "stderr.txt"
        with err_path.open("wb") as err:
            try:
                proc = subprocess.Popen(cmd + [str(out_path)], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=err)
            except OSError as exc:
                rec.update(status="crashed", error=_one_line(f"cannot start worker: {exc}"),
                           runtime_s=0.0)
                return rec
            with _LIVE_LOCK:
                _LIVE.add(proc)
            try:
                proc.communicate(json.dumps(task.to_json()).encode(), timeout=budget)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rec.update(status="timeout", error=f"exceeded its wall-clock budget of "
                           f"{budget:g} s; killed")
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                with _LIVE_LOCK:
                    _LIVE.discard(proc)
        wall = round(time.perf_counter() - t0, 3)
        if rec["status"] == "timeout":
            rec["runtime_s"] = wall
            return rec
        if proc.returncode == 0 and out_path.is_file():
            try:
                child = json.loads(out_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                rec.update(status="crashed", error=_one_line(f"unreadable worker result: {exc}"),
                           runtime_s=wall)
                return rec
            child["solve_s"] = child.get("runtime_s")
            child["runtime_s"] = wall
            return child
        if proc.returncode < 0:
            why = f"worker killed by {_signal_name(-proc.returncode)}"
        else:
            why = f"worker exited with code {proc.returncode} and no result"
        tail = _stderr_tail(err_path)
        rec.update(status="crashed", error=why + (f": {tail}" if tail else ""), runtime_s=wall)
        return rec


def kill_live_workers() -> None:
    """Kill every worker process this process started and that still runs."""
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for p in procs:
        with contextlib.suppress(OSError):
            p.kill()


# ----------------------------------------------------------------------------- results file


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


# ----------------------------------------------------------------------------- the batch

OnEvent = Callable[[Task, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What a batch did: its tasks' latest records (skipped ones included) and counts."""

    records: tuple[dict[str, Any], ...]
    ran: int
    skipped: int
    wall_s: float
    scheduler: str

    @property
    def counts(self) -> dict[str, int]:
        """Number of tasks per status (every status listed)."""
        c = {s: 0 for s in STATUSES}
        for r in self.records:
            c[r.get("status", "crashed")] = c.get(r.get("status", "crashed"), 0) + 1
        return c

    @property
    def all_ok(self) -> bool:
        """True when every task of the batch has status ``ok``."""
        return all(r.get("status") == "ok" for r in self.records)


def pending_tasks(tasks: Sequence[Task], records: Mapping[str, Mapping[str, Any]], *,
                  retry_failed: bool = False) -> list[Task]:
    """Tasks without a record (or, with ``retry_failed``, whose last record is not ok)."""
    out = []
    for t in tasks:
        r = records.get(t.key)
        if r is None or (retry_failed and r.get("status") != "ok"):
            out.append(t)
    return out


def size_hint(task: Task) -> int:
    """Bytes of the task's input (the instance directory's files, or the classic file);
    0 when unreadable. A proxy for its run time."""
    p = Path(task.path)
    try:
        if p.is_dir():
            return sum(e.stat().st_size for e in os.scandir(p) if e.is_file())
        return p.stat().st_size
    except OSError:
        return 0


def schedule_order(tasks: Sequence[Task]) -> list[Task]:
    """Largest inputs first (longest-processing-time-first scheduling: the last tasks to
    start are short, so workers finish together); ties keep the given order."""
    sizes = [size_hint(t) for t in tasks]
    order = sorted(range(len(tasks)), key=lambda i: -sizes[i])
    return [tasks[i] for i in order]


def run_batch(
    tasks: Sequence[Task],
    out: str | os.PathLike[str],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    retry_failed: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_result: OnEvent | None = None,
    command: Sequence[str] | None = None,
) -> BatchReport:
    """Run every task not yet recorded in ``out``; append one line per task as it finishes.

    Pending tasks start largest input first (:func:`schedule_order`). ``jobs`` tasks run at
    once (local) or ``jobs`` single-threaded workers (``scheduler=
    "local"``: a Dask ``LocalCluster``); ``scheduler="tcp://host:8786"`` submits to an
    existing Dask cluster (its workers must see the same paths and have the package
    installed). ``on_start(pending, skipped)`` is called once, ``on_result(task, record)``
    after each line is written. Returns the report of every task (records of skipped tasks
    come from the file).
    """
    if jobs < 1:
        raise InputError.at(None, "--jobs", "must be >= 1", got=jobs)
    t0 = time.perf_counter()
    with ResultsLog(out) as results, contextlib.ExitStack() as stack:
        todo = schedule_order(pending_tasks(tasks, results.records,
                                            retry_failed=retry_failed))
        skipped = len(tasks) - len(todo)
        client = None
        if scheduler:
            client, name = _dask_client(scheduler, jobs, stack)
        else:
            name = f"local processes x {jobs}"
        if on_start is not None:
            on_start(len(todo), skipped)

        def done(task: Task, rec: dict[str, Any]) -> None:
            rec["key"] = task.key
            results.append(rec)
            if on_result is not None:
                on_result(task, rec)

        if client is not None:
            _run_dask(todo, done, client=client, command=command)
        else:
            _run_local(todo, done, jobs=jobs, command=command)
        records = tuple(results.records[t.key] for t in tasks if t.key in results.records)
    return BatchReport(records=records, ran=len(todo), skipped=skipped,
                       wall_s=time.perf_counter() - t0, scheduler=name)


def _run_local(todo: Sequence[Task], done: Callable[[Task, dict[str, Any]], None], *,
               jobs: int, command: Sequence[str] | None) -> None:
    if not todo:
        return
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="coldchain-batch")
    futures: dict[Any, Task] = {}
    try:
        futures = {pool.submit(run_isolated, t, command=command): t for t in todo}
        for fut in as_completed(futures):
            done(futures[fut], fut.result())
    except BaseException:
        for f in futures:
            f.cancel()
        kill_live_workers()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dask_client(scheduler: str, jobs: int, stack: contextlib.ExitStack) -> tuple[Any, str]:
    """A Dask client (closed by ``stack``): a new LocalCluster or an existing scheduler."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError.at(None, "--scheduler", "Dask distributed is not installed",
                            fix="pip install 'coldchain-optimizer[dist]'") from exc
    if scheduler == "local":
        cluster = stack.enter_context(LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.WARNING))
        return stack.enter_context(Client(cluster)), f"dask LocalCluster x {jobs}"
    try:
        client = stack.enter_context(Client(scheduler, timeout="30s"))
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError.at(None, "--scheduler", f"cannot connect to {scheduler}: "
                            f"{_one_line(str(exc), 200)}",
                            fix="start a scheduler (dask scheduler) or use 'local'") from exc
    return client, f"dask {scheduler}"


def _run_dask(todo: Sequence[Task], done: Callable[[Task, dict[str, Any]], None], *,
              client: Any, command: Sequence[str] | None) -> None:
    from distributed import as_completed as dask_as_completed

    if not todo:
        return
    futs = {}
    for t in todo:
        f = client.submit(run_isolated, t, command=command, pure=False,
                          key=f"coldchain-{t.name}-{t.key}-{os.urandom(4).hex()}")
        futs[f] = t
    try:
        for f in dask_as_completed(list(futs)):
            task = futs[f]
            try:
                rec = f.result()
            except Exception as exc:  # KilledWorker, lost connection...
                rec = base_record(task)
                rec.update(status="crashed", error=_one_line(
                    f"dask: {type(exc).__name__}: {exc}"))
            done(task, rec)
    except BaseException:
        client.cancel(list(futs))
        raise


# ----------------------------------------------------------------------------- summaries


@dataclass(frozen=True, slots=True)
class FamilySummary:
    """Per family and scenario: task count, failures, mean objective, gap (%) and time (s)."""

    family: str
    scenario: str
    count: int
    failures: int
    mean_objective: float | None
    mean_gap_pct: float | None
    mean_runtime_s: float | None
    mean_cost_per_order_yuan: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)


def _mean(xs: Iterable[Any]) -> float | None:
    vals = [float(x) for x in xs if isinstance(x, int | float) and math.isfinite(x)]
    return sum(vals) / len(vals) if vals else None


def summarise(records: Iterable[Mapping[str, Any]]) -> list[FamilySummary]:
    """Group records by (family, scenario); means over ok tasks (time over all tasks)."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in records:
        sc = r.get("scenario") or ("-" if r.get("kind") != "instance" else
                                   "peak" if r.get("mode") == "baseline" else "all")
        groups.setdefault((str(r.get("family")), str(sc)), []).append(r)
    out = []
    for (fam, sc), rs in sorted(groups.items()):
        ok = [r for r in rs if r.get("status") == "ok"]
        st: dict[str, int] = {}
        for r in rs:
            st[str(r.get("status"))] = st.get(str(r.get("status")), 0) + 1
        out.append(FamilySummary(
            family=fam, scenario=sc, count=len(rs), failures=len(rs) - len(ok),
            mean_objective=_mean(r.get("objective") for r in ok),
            mean_gap_pct=_mean(r.get("gap_pct") for r in ok),
            mean_runtime_s=_mean(r.get("runtime_s") for r in rs),
            mean_cost_per_order_yuan=_mean(r.get("cost_per_order_yuan") for r in ok),
            statuses=st,
        ))
    return out


SUMMARY_COLUMNS = ("family", "scenario", "count", "failures", "mean_objective",
                   "mean_gap_pct", "mean_cost_per_order_yuan", "mean_runtime_s")
TASK_COLUMNS = ("key", "task", "family", "scenario", "seed", "mode", "status", "error",
                "runtime_s", "peak_rss_mb", *FIGURES, "path")


def write_summary_csv(path: str | os.PathLike[str], summary: Sequence[FamilySummary]) -> Path:
    """Write the per-family summary (:data:`SUMMARY_COLUMNS`) atomically."""
    return write_csv(path, SUMMARY_COLUMNS, (asdict(s) for s in summary))


__all__ = [
    "FIGURES",
    "MODES",
    "STATUSES",
    "BatchReport",
    "FamilySummary",
    "ResultsLog",
    "Task",
    "TaskDefaults",
    "expand_inputs",
    "known_optimum",
    "pending_tasks",
    "read_manifest",
    "read_results",
    "run_batch",
    "run_isolated",
    "run_task",
    "schedule_order",
    "size_hint",
    "summarise",
    "write_summary_csv",
]
