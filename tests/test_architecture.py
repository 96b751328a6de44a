"""The layout of design.md, checked on the source: layers, no import cycle, one door per
solver, one atomic writer, one process-pool helper, one public surface."""

from __future__ import annotations

import ast
import os
import re
from functools import cache
from pathlib import Path

import pytest

PKG = Path(__file__).parent.parent / "optimizer"
ROOT = PKG.parent

#: what may import what: a module imports only from its own layer or lower ones
LAYERS: dict[str, int] = {
    # types and helpers
    "optimizer.errors": 0, "optimizer._io": 0, "optimizer._stdio": 0, "optimizer._version": 0,
    "optimizer._parallel": 0, "optimizer.instance": 0, "optimizer.plans": 0,
    "optimizer.limits": 0,
    # engines (matrix level) and formats, the generator
    "optimizer.roads": 1, "optimizer.routing": 1, "optimizer.location": 1, "optimizer.lrp": 1,
    "optimizer.formats": 1, "optimizer.synth": 1,
    # the planning pipeline
    "optimizer.planning": 2,
    # the facade
    "optimizer.facade": 3,
    # outputs and batches
    "optimizer.report": 4, "optimizer.batch": 4,
    # the command line
    "optimizer.cli": 5, "optimizer.__main__": 5,
    # the public surface re-exports everything (lazily)
    "optimizer": 6,
}
#: top-level modules of optimizer/ (each stage of the data flow has a folder)
TOP_LEVEL = {"__init__", "__main__", "errors", "_io", "_stdio", "_version", "_parallel",
             "instance",
             "plans", "limits", "facade"}


def _name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _layer(module: str) -> int:
    best = ""
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    assert best, f"{module} is in no layer of LAYERS: add it"
    return LAYERS[best]


def _resolve(module: str, names: list[str]) -> set[str]:
    """What an ``from module import names`` statement takes: ``module`` itself unless every
    name is one of its submodules, plus ``module.name`` for each name (a submodule, or an
    attribute such as ``scipy.optimize.milp`` for the solver doors)."""
    mods = _modules()
    out = {f"{module}.{n}" for n in names}
    if not module.startswith("optimizer") or any(f"{module}.{n}" not in mods for n in names):
        out.add(module)
    return out


@cache
def _imports(module: str) -> frozenset[tuple[str, int]]:
    """(imported module, line) for every import of ``module``, function-local ones too."""
    path = _modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {(a.name, node.lineno) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            out |= {(m, node.lineno) for m in _resolve(base, [a.name for a in node.names])}
    return frozenset(out)


def _internal(module: str) -> set[str]:
    mods = _modules()
    out = set()
    for m, _ in _imports(module):
        while m and m not in mods:
            m = m.rpartition(".")[0]
        if m and m != module:
            out.add(m)
    return out


def test_top_level_modules_are_few() -> None:
    top = {p.stem for p in PKG.glob("*.py")}
    assert top <= TOP_LEVEL, f"new top-level modules {sorted(top - TOP_LEVEL)}: give them a room"


def test_every_import_goes_down_or_sideways() -> None:
    bad = []
    for mod in _modules():
        for dep in _internal(mod):
            if _layer(dep) > _layer(mod):
                bad.append(f"{mod} (layer {_layer(mod)}) imports {dep} (layer {_layer(dep)})")
    assert not bad, "\n".join(bad)


def test_no_import_cycle_counting_function_local_imports() -> None:
    graph = {m: _internal(m) for m in _modules()}
    # the package __init__ files that only re-export are edges too: a cycle through them is
    # still a cycle for a reader; the root package (lazy re-exports) is the one exception
    graph.pop("optimizer")
    for deps in graph.values():
        deps.discard("optimizer")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def strong(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize(("pattern", "door"), [
    (r"^ortools\.constraint_solver", {"optimizer.routing._ortools"}),
    (r"^ortools\.(linear_solver|sat|math_opt)", {"optimizer.location._mip"}),
    (r"^(highspy|scipy\.optimize\.milp$)", {"optimizer.location._mip"}),
    (r"^pyvrp", {"optimizer.routing._pyvrp"}),
    (r"^(dask|distributed)", {"optimizer.batch.runner"}),
])
def test_each_solver_behind_one_adapter(pattern: str, door: set[str]) -> None:
    users = {mod for mod in _modules() if any(re.match(pattern, m) for m, _ in _imports(mod))}
    assert users <= door, f"{pattern} imported outside {door}: {users - door}"


@pytest.mark.parametrize("checker", ["optimizer.routing.verify", "optimizer.lrp.verify",
                                     "optimizer.planning.verify"])
def test_checkers_import_no_solver(checker: str) -> None:
    seen, todo = set(), [checker]
    while todo:  # everything the checker loads, transitively (function-local imports too)
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo += [d for d in _internal(m) if d != "optimizer"]
    solvers = {"optimizer.routing._ortools", "optimizer.routing._pyvrp",
               "optimizer.routing.solve", "optimizer.location._mip"}
    assert not seen & solvers, f"{checker} reaches {sorted(seen & solvers)}"
    external = {m for s in seen for m, _ in _imports(s)}
    assert not {m for m in external if m.startswith(("ortools", "pyvrp", "highspy"))}


def test_one_atomic_writer() -> None:
    """Files are replaced only by optimizer._io (the batch results log appends, it never
    replaces; scratch folders for worker processes are fine)."""
    bad = []
    for mod, path in _modules().items():
        if mod == "optimizer._io":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("os.replace(", "os.rename(", "mkstemp(", "NamedTemporaryFile("):
            if needle in text:
                bad.append(f"{mod}: {needle}")
    assert not bad, "write through optimizer._io instead: " + ", ".join(bad)


def test_one_process_pool_helper_and_no_fork() -> None:
    bad = []
    for mod, path in _modules().items():
        if mod == "optimizer._parallel":
            continue
        text = path.read_text(encoding="utf-8")
        if "ProcessPoolExecutor(" in text or "get_context(" in text or "os.fork(" in text:
            bad.append(mod)
    assert not bad, f"start processes through optimizer._parallel: {bad}"
    assert '"fork"' not in (PKG / "_parallel.py").read_text(encoding="utf-8")


def test_library_never_prints() -> None:
    for mod, path in _modules().items():
        if mod.startswith("optimizer.cli") or mod == "optimizer.__main__":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id == "print"]
        assert not calls, f"{mod} calls print()"


def test_public_export_lists_agree() -> None:
    import optimizer

    tree = ast.parse((PKG / "__init__.py").read_text(encoding="utf-8"))
    typed: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                for a in imp.names:
                    typed[a.asname or a.name] = (imp.module, a.name)
    lazy = dict(optimizer._EXPORTS)
    assert set(optimizer.__all__) == set(lazy)
    assert typed == lazy
    for name in optimizer.__all__:
        assert getattr(optimizer, name) is not None, name
    for mod in _modules():  # every package's __all__ names exist
        if mod.startswith("optimizer.") and _modules()[mod].name == "__init__.py":
            pkg = __import__(mod, fromlist=["__all__"])
            for name in getattr(pkg, "__all__", ()):
                assert hasattr(pkg, name), f"{mod}.__all__ lists {name}, which is missing"


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


def test_no_public_name_shadows_a_submodule() -> None:
    """``import optimizer.X as m`` must give the module X, never a function of that name."""
    import optimizer

    clash = [n for n in optimizer.__all__ if (PKG / f"{n}.py").exists() or (PKG / n).is_dir()]
    assert not clash, f"public names that are also submodules: {clash}"
