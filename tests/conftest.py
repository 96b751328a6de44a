"""Shared fixtures: the tiny hand-made instance and paths to test data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
BENCHDATA = ROOT.parent / "shared" / "benchdata"


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    """A 4-village instance with a 6-road network (tests/data/tiny)."""
    return DATA / "tiny" / "instance.toml"


@pytest.fixture(scope="session")
def tiny(tiny_path: Path):
    """The tiny instance, parsed."""
    from optimizer.formats.instance_toml import read_instance

    return read_instance(tiny_path)


@pytest.fixture(scope="session")
def tiny_net(tiny):
    """The tiny instance's road network."""
    from optimizer.roads import load_network

    return load_network(tiny.network_path)
