"""Exit codes, the same for every command: 0 ok, 1 internal error, 2 input or write error,
3 infeasible or a plan failing the checker (tests/planning/test_verify.py), 4 some batch or
generate tasks failed; and the global options ``--version``, ``-v`` and ``-q``."""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.cli._common import options

HERE = Path(__file__).parent
PMED = HERE.parent / "location" / "data" / "pmed_tiny.txt"
PRODHON = next((HERE.parent / "data" / "lrp").glob("*"))
SOLOMON = HERE.parent / "routing" / "data" / "tiny_solomon.txt"


@pytest.fixture
def file_in_the_way(tmp_path: Path) -> Path:
    """A file where an output's parent folder should be: every write below it fails."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    return blocker


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    expected = f"coldchain-optimizer {version('coldchain-optimizer')}"
    assert capsys.readouterr().out.strip() == expected


@pytest.mark.parametrize(("flags", "level", "quiet"), [
    ([], logging.WARNING, False), (["-v"], logging.INFO, False),
    (["-vv"], logging.DEBUG, False), (["--verbose", "--verbose", "-v"], logging.DEBUG, False),
    (["-q"], logging.ERROR, True), (["--quiet"], logging.ERROR, True),
])
def test_verbose_and_quiet(flags: list[str], level: int, quiet: bool, tiny_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = root.level
    try:
        assert main([*flags, "validate", str(tiny_path)]) == 0
        assert root.level == level and options.quiet is quiet
        assert "tiny" in capsys.readouterr().out  # results still on stdout
    finally:
        root.setLevel(before)
        options.quiet = False


def test_quiet_writes_nothing_on_stderr_for_a_good_run(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    out = tmp_path / "r.json"
    try:
        assert main(["-q", "locate", str(PMED), "--format", "orlib-pmed", "--out",
                     str(out)]) == 0
    finally:
        options.quiet = False
    cap = capsys.readouterr()
    assert cap.err == "" and "p-median" in cap.out and out.exists()


def test_internal_error_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch, tiny_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import optimizer.formats.instance_toml as toml_mod

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(toml_mod, "read_instance", boom)
    monkeypatch.delenv("COLDCHAIN_DEBUG", raising=False)
    assert main(["validate", str(tiny_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("internal error: RuntimeError: a bug") and len(err.splitlines()) == 1


@pytest.mark.parametrize("argv", [
    ["locate", str(PMED), "--format", "orlib-pmed", "--out", "{blocker}/r.json"],
    ["lrp", str(PRODHON), "--time-limit", "1", "--jobs", "1", "--out", "{blocker}/r.json"],
    ["route", str(SOLOMON), "--format", "solomon", "--time-limit", "1",
     "--out", "{blocker}/r.sol"],
    ["generate", "--county", "520123", "--out-dir", "{blocker}/gen"],
])
def test_write_errors_exit_2_with_one_line(argv: list[str], file_in_the_way: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.replace("{blocker}", str(file_in_the_way)) for a in argv]
    assert main(argv) == 2
    err = _one_line(capsys)
    assert str(file_in_the_way) in err and "cannot write" in err and "is a file" in err


def test_batch_csv_write_error_exits_2(tmp_path: Path, file_in_the_way: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(SOLOMON), "--time-limit", "1",
                 "--out", str(tmp_path / "r.jsonl"), "--csv",
                 str(file_in_the_way / "s.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: ") and "s.csv" in err and "cannot write" in err


def test_baseline_only_refuses_out(tiny_path: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(tiny_path), "--baseline-only", "--out", str(tmp_path)]) == 2
    err = _one_line(capsys)
    assert "--out" in err and "--baseline-only" in err
    assert list(tmp_path.iterdir()) == []


def test_generate_with_a_failed_county_exits_4(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--counties", "520123,999999", "--out-dir", str(tmp_path)]) == 4
    cap = capsys.readouterr()
    assert "wrote 1 of 2" in cap.out and "999999" in cap.err
    assert (tmp_path / "instances" / "xiuwen-kiwifruit" / "instance.toml").exists()
