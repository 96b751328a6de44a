"""What a non-editable install carries: the default instance (an exact copy of the
repository's), every data file of the package, and a default that works from any folder."""

from __future__ import annotations

import filecmp
import fnmatch
import tomllib
from pathlib import Path

import pytest

from optimizer.cli._common import default_instance
from optimizer.instance import default_instance_dir

ROOT = Path(__file__).parent.parent
PKG = ROOT / "optimizer"


def test_packaged_default_instance_equals_the_repository_copy() -> None:
    shipped = default_instance_dir()
    pairs = [(ROOT / "instances" / "xiuwen-kiwifruit", shipped),
             (ROOT / "networks", PKG / "data" / "networks")]
    for repo, pkg in pairs:
        names = sorted(p.name for p in pkg.iterdir())
        assert names, pkg
        _, mismatch, errors = filecmp.cmpfiles(repo, pkg, names, shallow=False)
        assert not mismatch and not errors, (
            f"{pkg} differs from {repo} in {mismatch + errors}: copy them again (see "
            "optimizer/data/README.md)")
    assert sorted(p.name for p in shipped.iterdir()) == sorted(
        p.name for p in (ROOT / "instances" / "xiuwen-kiwifruit").iterdir())


def test_every_data_file_is_package_data() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = conf["tool"]["setuptools"]["package-data"]["optimizer"]
    data = [p.relative_to(PKG).as_posix() for p in PKG.rglob("*") if p.is_file()
            and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert "data/instances/xiuwen-kiwifruit/instance.toml" in data
    missing = [d for d in data if not any(fnmatch.fnmatch(d, g) and d.count("/") == g.count("/")
                                          for g in globs)]
    assert not missing, f"add to [tool.setuptools.package-data]: {missing}"


def test_default_instance_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from optimizer.facade import load_instance

    monkeypatch.chdir(tmp_path)
    path = default_instance(None)
    assert path == default_instance_dir()
    inst = load_instance(path)
    assert inst.name == "xiuwen-kiwifruit" and inst.network_path.is_file()
    # a checkout's (possibly edited) copy in the working folder wins
    monkeypatch.chdir(ROOT)
    assert default_instance(None) == Path.cwd() / "instances" / "xiuwen-kiwifruit"
