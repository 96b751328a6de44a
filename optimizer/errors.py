"""One exception tree for every user-facing error; messages are one line."""

from __future__ import annotations


class ColdChainError(Exception):
    """Base class of every error the tool reports to a user (never a traceback)."""

    exit_code: int = 1


def _format(
    path: object | None, field: str | None, problem: str, got: object, fix: str | None
) -> str:
    parts: list[str] = []
    if path is not None and str(path):
        parts.append(str(path))
    if field:
        parts.append(field)
    msg = problem
    if got is not _MISSING:
        msg += f" (got {got!r})"
    if fix:
        msg += f"; {fix}"
    parts.append(msg)
    return ": ".join(parts)


class _Missing:
    def __repr__(self) -> str:  # pragma: no cover - sentinel
        return "<missing>"


_MISSING: object = _Missing()


class InputError(ColdChainError):
    """A user's input is wrong: exit code 2.

    Build it with :meth:`at` to get the one-line form
    ``path: field: problem (got value); fix``.
    """

    exit_code = 2

    def __init__(
        self, message: str, *, path: object | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.field = field

    @classmethod
    def at(
        cls,
        path: object | None,
        field: str | None,
        problem: str,
        *,
        got: object = _MISSING,
        fix: str | None = None,
    ):  # type: ignore[no-untyped-def]
        """Return an error whose message is ``path: field: problem (got value); fix``."""
        return cls(_format(path, field, problem, got, fix), path=path, field=field)


class InstanceError(InputError, ValueError):
    """An instance file (TOML/CSV/benchmark file) is malformed or inconsistent."""


class NetworkError(InputError, ValueError):
    """A road network cannot be loaded, or sites cannot be snapped to / reached on it."""


class InfeasibleError(ColdChainError):
    """The model has no feasible solution; the message states the numbers. Exit code 3."""

    exit_code = 3


class CheckError(ColdChainError):
    """A plan failed the independent checker. Exit code 3 for hand-edited plans."""

    exit_code = 3

    def __init__(self, violations: list[str]) -> None:
        self.violations = list(violations)
        head = violations[0] if violations else "plan failed verification"
        more = f" (+{len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(head + more)


__all__ = [
    "CheckError",
    "ColdChainError",
    "InfeasibleError",
    "InputError",
    "InstanceError",
    "NetworkError",
]
