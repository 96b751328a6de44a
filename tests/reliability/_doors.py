"""Every file the tool reads, as a fuzzing door: a seed file, the command that reads it, and
mutations that break it (lines, tokens, numbers, encodings, the path itself).

A door's contract (checked by :func:`run_door`): exit 0 with a result (and the written file,
where the command writes one, readable), or exit 2 with one ``error:`` line, or exit 3
(infeasible; for ``check`` the violations found). Exit 1 is an internal error: a bug.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import strategies as st

from tests.reliability._harness import ROOT, assert_clean_failure, run_cli
from tests.reliability._mutations import TOML_VALUES, Mutation, _parent, _paths, _raw

TESTS = ROOT / "tests"
ROUTING = TESTS / "routing" / "data"
RICH = ROUTING / "rich"

#: replacements for one number of a file
NUMBERS = ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400",
           "99999999999999999999999", "9223372036854775808", "-9223372036854775809", "-1",
           "-100", "0", "0.5", "-0.0", "1e308", "-1e308", "1e-320", "x", "1,5", "0x10", "",
           "\u0661\u0662", "1_000", "+3", "3.", ".5e1"]
JSON_VALUES: list[Any] = [None, True, False, 0, -1, 1, 0.5, -0.5, 1e308, -1e308, 2**63,
                          -(2**63) - 1, 10**30, "", "x", "06:00", "25:00", "nan", "inf", [],
                          [1, "a"], {}, {"a": 1}, "x" * 5000, math.nan, math.inf]
_NUM = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?(?![\w.])")

#: outcomes per door and exit code, printed at the end of the run (tests/reliability/conftest)
TALLY: Counter[tuple[str, str]] = Counter()


# ---- mutations ----------------------------------------------------------------------------
def mutate_path(data: st.DataObject, path: Path) -> Mutation:
    """Put something that is not a readable file where the file was."""
    op = data.draw(st.sampled_from(["missing", "directory", "fifo", "dev_zero", "dev_null",
                                    "dangling_link", "unreadable"]), label="path op")
    path.unlink()
    if op == "directory":
        path.mkdir()
    elif op == "fifo":
        os.mkfifo(path)
    elif op == "dev_zero":
        path.symlink_to("/dev/zero")
    elif op == "dev_null":
        path.symlink_to("/dev/null")
    elif op == "dangling_link":
        path.symlink_to(path.parent / "nowhere")
    elif op == "unreadable":
        path.write_text("x")
        path.chmod(0)
    return Mutation("path", op, "reject")


def mutate_text(data: st.DataObject, path: Path) -> Mutation:
    """One line- or token-level defect of a text file (any format)."""
    op = data.draw(st.sampled_from(["number", "number", "number", "drop_token", "add_token",
                                    "delete_line", "dup_line", "swap_lines", "truncate_lines",
                                    "raw", "path"]), label="text op")
    if op == "raw":
        return _raw(data, path, "text")
    if op == "path":
        return mutate_path(data, path)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True) or [""]
    k = data.draw(st.integers(0, len(lines) - 1), label="line")
    detail = f"line {k + 1}"
    if op == "number":
        spots = [(i, m) for i, ln in enumerate(lines) for m in _NUM.finditer(ln)]
        if not spots:
            return mutate_path(data, path)
        i, m = data.draw(st.sampled_from(spots), label="number")
        new = data.draw(st.sampled_from(NUMBERS), label="value")
        lines[i] = lines[i][:m.start()] + new + lines[i][m.end():]
        detail = f"line {i + 1}: {m.group()} -> {new!r}"
    elif op in ("drop_token", "add_token"):
        toks = lines[k].split()
        if op == "drop_token" and toks:
            del toks[data.draw(st.integers(0, len(toks) - 1))]
        else:
            toks.insert(data.draw(st.integers(0, len(toks))),
                        data.draw(st.sampled_from(["0", "1", "-1", "x", "1e400", "EOF"])))
        lines[k] = " ".join(toks) + "\n"
    elif op == "delete_line":
        del lines[k]
    elif op == "dup_line":
        lines.insert(k, lines[k])
    elif op == "swap_lines":
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[k], lines[j] = lines[j], lines[k]
        detail = f"lines {k + 1}<->{j + 1}"
    else:
        lines = lines[:k]
        detail = f"first {k} lines"
    path.write_text("".join(lines), encoding="utf-8")
    return Mutation(f"text.{op}", detail)


def _json_default(o: Any) -> Any:
    raise TypeError(o)


def mutate_json(data: st.DataObject, path: Path) -> Mutation:
    """A structural defect of a JSON document: a key deleted or renamed, a value replaced
    (wrong type, NaN, huge, negative), an item duplicated; or a text-level one."""
    op = data.draw(st.sampled_from(["set", "set", "delete", "rename", "dup", "text"]),
                   label="json op")
    if op == "text":
        return mutate_text(data, path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    paths = [p for p in _paths(doc) if not (op == "rename" and isinstance(p[-1], int))]
    if op == "dup":
        paths = [p for p in paths if isinstance(p[-1], int)]
    if not paths:
        return mutate_text(data, path)
    where = data.draw(st.sampled_from(paths), label="json path")
    parent, key = _parent(doc, where)
    if op == "delete":
        del parent[key]
    elif op == "rename":
        parent[key + "_x"] = parent.pop(key)
    elif op == "dup":
        parent.insert(key, parent[key])
    else:
        parent[key] = data.draw(st.sampled_from(JSON_VALUES), label="json value")
    path.write_text(json.dumps(doc, default=_json_default), encoding="utf-8")
    return Mutation(f"json.{op}", "/".join(str(p) for p in where))


def mutate_toml_doc(data: st.DataObject, path: Path) -> Mutation:
    """A structural defect of a TOML document, or a text-level one."""
    op = data.draw(st.sampled_from(["set", "delete", "rename", "text"]), label="toml op")
    if op == "text":
        return mutate_text(data, path)
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    paths = [p for p in _paths(doc) if not (op == "rename" and isinstance(p[-1], int))]
    where = data.draw(st.sampled_from(paths), label="toml path")
    parent, key = _parent(doc, where)
    if op == "delete":
        del parent[key]
    elif op == "rename":
        parent[key + "_x"] = parent.pop(key)
    else:
        parent[key] = data.draw(st.sampled_from(TOML_VALUES), label="toml value")
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return Mutation(f"toml.{op}", ".".join(str(p) for p in where))


# ---- doors ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Door:
    """A file the tool reads: its seed files, how to mutate one, the command reading it
    (``argv(file, workdir)``) and the file that command writes on success (if any)."""

    name: str
    seeds: tuple[Path, ...]
    argv: Callable[[Path, Path], list[str]]
    mutate: Callable[[st.DataObject, Path], Mutation] = mutate_text
    writes: str | None = None  # name of the file written in workdir on exit 0
    many_lines_on: tuple[int, ...] = ()  # exit codes that may print several lines (check)


def _route(fmt: str) -> Callable[[Path, Path], list[str]]:
    return lambda f, w: ["route", str(f), "--format", fmt, "--time-limit", "0.1",
                         "--jobs", "1", "--out", str(w / "out.sol")]


def _locate(fmt: str) -> Callable[[Path, Path], list[str]]:
    return lambda f, w: ["locate", str(f), "--format", fmt, "--time-limit", "0.2",
                         "--out", str(w / "out.json")]


LOCATION = TESTS / "location" / "data"
DOORS: dict[str, Door] = {
    "solomon": Door("solomon", (ROUTING / "tiny_solomon.txt",), _route("solomon"),
                    writes="out.sol"),
    "vrplib": Door("vrplib", (ROUTING / "tiny.vrp",), _route("vrplib"), writes="out.sol"),
    "vrplib-dialect": Door("vrplib-dialect", tuple(sorted(RICH.glob("*.vrp"))),
                           _route("vrplib"), writes="out.sol"),
    "orlib-cap": Door("orlib-cap", (LOCATION / "cap_tiny.txt",), _locate("orlib-cap"),
                      writes="out.json"),
    "orlib-uncap": Door("orlib-uncap", (LOCATION / "cap_tiny.txt",), _locate("orlib-uncap"),
                        writes="out.json"),
    "orlib-pmed": Door("orlib-pmed", (LOCATION / "pmed_tiny.txt",), _locate("orlib-pmed"),
                       writes="out.json"),
    "prodhon": Door("prodhon", (TESTS / "data" / "lrp" / "tiny4.dat",
                                TESTS / "data" / "lrp" / "tight5.dat"),
                    lambda f, w: ["lrp", str(f), "--time-limit", "0.2", "--jobs", "1",
                                  "--out", str(w / "out.json")], writes="out.json"),
}


def run_door(door: Door, file: Path, workdir: Path, label: str) -> int:
    """Run ``door``'s command on ``file`` and hold it to the contract; return the exit code."""
    rc, out, err = run_cli(door.argv(file, workdir))
    TALLY[(door.name, f"exit {rc}")] += 1
    assert rc != 1 and "Traceback" not in err, f"{door.name} {label}: exit {rc}: {err[-2000:]}"
    if rc == 0:
        if door.writes is not None:
            written = workdir / door.writes
            assert written.is_file() and written.stat().st_size > 0, f"{label}: {out}"
        return rc
    if rc in door.many_lines_on:
        assert "internal error" not in err, err
        return rc
    assert_clean_failure(rc, err)
    return rc


__all__ = ["DOORS", "TALLY", "Door", "mutate_json", "mutate_path", "mutate_text",
           "mutate_toml_doc", "run_door"]
