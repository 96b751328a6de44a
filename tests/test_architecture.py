"""The one-way data flow and the solver doors of design.md, checked on the source."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

PKG = Path(__file__).parent.parent / "optimizer"
ROOT = PKG.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module if node.level == 0 else f"optimizer.?.{node.module}"
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def _modules() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def test_roads_imports_only_errors_from_the_package() -> None:
    for path in (PKG / "roads").rglob("*.py"):
        bad = {m for m in _imports(path)
               if m.startswith("optimizer") and not m.startswith(("optimizer.errors",
                                                                  "optimizer._parallel"))
               and not m.startswith("optimizer.roads") and not m.startswith("optimizer.?")}
        assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize(("pattern", "door"), [
    (r"^ortools\.constraint_solver", {"routing/_ortools.py"}),
    (r"^ortools\.(linear_solver|sat|math_opt)", {"location/_mip.py"}),
    (r"^pyvrp", {"routing/_pyvrp.py"}),
])
def test_each_solver_behind_one_adapter(pattern: str, door: set[str]) -> None:
    users = set()
    for path in _modules():
        if any(re.match(pattern, m) for m in _imports(path)):
            users.add(path.relative_to(PKG).as_posix())
    assert users <= door, f"{pattern} imported outside {door}: {users - door}"


def test_checker_imports_no_solver() -> None:
    mods = _imports(PKG / "routing" / "verify.py") | _imports(PKG / "lrp" / "verify.py")
    assert not {m for m in mods if m.startswith(("ortools", "pyvrp", "optimizer.routing._",
                                                  "optimizer.routing.solve",
                                                  "optimizer.location"))}


def test_library_never_prints() -> None:
    allowed = {"cli.py", "_cli_generate.py", "_cli_route.py", "_cli_locate.py", "_cli_lrp.py",
               "_cli_check.py", "__main__.py"}
    for path in _modules():
        if path.name in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id == "print"]
        assert not calls, f"{path.relative_to(PKG)} calls print()"


def test_readme_library_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has a python example"
    monkeypatch.chdir(ROOT)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})  # noqa: S102


def test_public_surface_is_typed() -> None:
    import optimizer

    assert (PKG / "py.typed").exists()
    for name in optimizer.__all__:
        assert hasattr(optimizer, name), name
    assert os.path.exists(PKG / "__main__.py")
