"""Same instance, seed and solution limit -> byte-identical plan.json (separate processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.reliability._harness import ROOT, TINY


def test_plan_json_is_byte_identical_across_processes(tmp_path: Path) -> None:
    outs = [tmp_path / "A", tmp_path / "B"]
    procs = [subprocess.Popen([sys.executable, "-m", "optimizer", "solve", str(TINY),
                               "--time-limit", "30", "--solution-limit", "30", "--out", str(o)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for o in outs]  # in parallel: also shows runs do not depend on machine load
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    a, b = ((o / "plan.json").read_bytes() for o in outs)
    assert a == b
    assert b'"checked": true' in a
    for name in ("kpis.csv", "cost_per_order.png", "spoilage.png"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
