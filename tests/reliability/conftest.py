"""Print the fuzzers' tally (cases per door and exit code) at the end of a run that fuzzed."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.reliability._doors import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    doors: dict[str, dict[str, int]] = defaultdict(dict)
    for (door, outcome), n in sorted(TALLY.items()):
        doors[door][outcome] = n
    terminalreporter.section("fuzz cases per door")
    for door, outcomes in doors.items():
        total = sum(outcomes.values())
        parts = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
        terminalreporter.write_line(f"{door:<16} {total:>6} cases  ({parts})")
    terminalreporter.write_line(f"{'all doors':<16} {sum(TALLY.values()):>6} cases")
