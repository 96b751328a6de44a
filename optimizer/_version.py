"""The installed distribution's version (package metadata, one source: pyproject.toml)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """``coldchain-optimizer``'s version from its metadata; ``0+unknown`` when the package
    is imported from a checkout that was never installed."""
    try:
        return version("coldchain-optimizer")
    except PackageNotFoundError:
        return "0+unknown"
