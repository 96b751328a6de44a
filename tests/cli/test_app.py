"""Command-line behaviour: usage errors are one line with exit 2; help everywhere."""

from __future__ import annotations

import pytest

from optimizer.cli import app, main

COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


@pytest.mark.parametrize("argv", [
    ["solve", "--bogus"],
    ["solve", "--time-limit", "-3"],
    ["solve", "--time-limit", "soon"],
    ["route"],
    ["nosuchcommand"],
])
def test_usage_errors_exit_2_with_one_line(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys) -> None:
    assert main([command, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_no_arguments_prints_help(capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("validate", "network", "solve", "route", "locate", "lrp", "check",
                    "generate"):
        assert command in out


def test_does_not_depend_on_click_directly() -> None:
    import ast
    from pathlib import Path

    for path in (Path(__file__).parents[2] / "optimizer").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in names if m.split(".")[0] == "click"}, path


def test_c_level_stdout_goes_to_stderr_while_the_cli_runs() -> None:
    """A C library writing to file descriptor 1 (HiGHS prints a stray debug line) must not
    mix into the tool's stdout; Python's own output still reaches stdout, in order, and
    file descriptor 1 is stdout again afterwards."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import os, sys\n"
        "from optimizer.cli import c_stdout_to_stderr\n"
        "print('before')\n"
        "with c_stdout_to_stderr():\n"
        "    print('inside')\n"
        "    os.write(1, b'c-level line\\n')\n"
        "print('after')\n"
        "sys.stdout.flush()\n"
        "os.write(1, b'c-level after\\n')\n"
    )
    root = Path(__file__).resolve().parents[2]
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=root, check=True)
    assert res.stdout.splitlines() == ["before", "inside", "after", "c-level after"]
    assert res.stderr.splitlines() == ["c-level line"]
