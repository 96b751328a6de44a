"""Tasks: what one unit of a batch is, and which instances and classic files a path names.

:class:`TaskDefaults` (the options every task of an input gets), :class:`Task` (its stable
key, its label and its wall-clock budget), instance digests (:func:`instance_digest`: the
content hash that goes into the key), classic-file families (:func:`classic_family`) and
the input targets of a path (an instance directory or its ``instance.toml``, a directory of
instance directories and/or Solomon ``.txt`` / VRPLIB ``.vrp`` files, a classic file). Also
the constants the other modules share: statuses, modes, kinds and the :data:`FIGURES` of
every result line.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from optimizer.errors import InputError
from optimizer.limits import LOCATION_CAP_S, ROUTING_CAP_S

STATUSES = ("ok", "failed", "infeasible", "timeout", "crashed")
MODES = ("plan", "baseline")
KINDS = ("instance", "classic")
KEY_VERSION = 1
#: routing seconds per classic (Solomon/VRPLIB) file when no time limit is given
CLASSIC_TIME_LIMIT_S = 10.0
CLASSIC_SUFFIXES = (".txt", ".vrp")

#: Figures copied to the top level of every result line (None when not applicable).
FIGURES = (
    "objective", "cost_per_order_yuan", "baseline_cost_per_order_yuan", "spoilage_mass_pct",
    "village_coverage_pct", "cold_chain_pct", "bks", "gap_pct",
)


@dataclass(frozen=True, slots=True)
class TaskDefaults:
    """Options applied to every task an input expands to (a manifest row may override).

    ``scenarios`` empty: every scenario of the instance planned together (mode ``plan``)
    or ``peak`` (mode ``baseline``). ``timeout_s`` None: :meth:`Task.budget_s` estimates one.
    ``time_limit_s`` / ``location_time_s`` None: the size rule (:mod:`optimizer.limits`);
    a classic file then gets :data:`CLASSIC_TIME_LIMIT_S`.
    """

    scenarios: tuple[str | None, ...] = (None,)
    seeds: tuple[int, ...] = (0,)
    time_limit_s: float | None = None
    solution_limit: int | None = None
    mode: str = "plan"
    iterations: int = 2
    location_time_s: float | None = None
    timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of a batch: one instance (or classic file), scenario, seed and limits.

    ``path`` is absolute (an instance directory or a classic file); ``digest`` is the
    SHA-256 of its content (the instance TOML and every file it names); ``timeout_s`` is the
    wall-clock budget in seconds (None: estimated, see :meth:`budget_s`); it is not part of
    the key. ``time_limit_s`` / ``location_time_s`` None: set by the size rule
    (:mod:`optimizer.limits`) when the task runs.
    """

    kind: str
    path: str
    digest: str
    family: str
    scenario: str | None = None
    seed: int = 0
    time_limit_s: float | None = None
    solution_limit: int | None = None
    mode: str = "plan"
    iterations: int = 2
    location_time_s: float | None = None
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
        the margin: 600 s with the defaults, where a time left to the size rule counts
        as its cap (routing 10 s, location 20 s). Measured: a 600-village county on a
        loaded 2-core machine needed more than 390 s with the old fixed limits.
        """
        if self.timeout_s is not None:
            return self.timeout_s
        tl = ROUTING_CAP_S if self.time_limit_s is None else self.time_limit_s
        loc = LOCATION_CAP_S if self.location_time_s is None else self.location_time_s
        if self.kind == "classic":
            return 60.0 + 3.0 * tl
        if self.mode == "baseline":
            return 120.0 + 4.0 * tl
        n_routes = (2 if self.scenario else 8) + self.iterations
        nominal = n_routes * tl + (self.iterations + 1) * loc
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


def _targets(path: Path, where: str | None = None) -> list[tuple[str, Path]]:
    """(kind, path) of the instances and classic files ``path`` names, sorted.

    ``where`` names the manifest row the path comes from (None: the command line).
    """

    def bad(problem: str, fix: str) -> InputError:
        if where is None:
            return InputError.at(path, "INPUT", problem, fix=fix)
        return InputError.at(where, "instance", problem, got=str(path), fix=fix)

    try:
        return _target_kinds(path, bad)
    except OSError as exc:  # a name too long, a loop of links, no permission...
        raise bad(f"cannot read: {exc.strerror or exc}", "check the path") from None


def _target_kinds(path: Path, bad: Callable[[str, str], InputError]
                  ) -> list[tuple[str, Path]]:
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
            time_limit_s=(float(opts.time_limit_s) if opts.time_limit_s is not None
                          else None if kind == "instance" else CLASSIC_TIME_LIMIT_S),
            solution_limit=opts.solution_limit,
            mode=opts.mode if kind == "instance" else "route",
            iterations=int(opts.iterations),
            location_time_s=None if opts.location_time_s is None else float(
                opts.location_time_s),
            timeout_s=opts.timeout_s,
        ))
    return out
