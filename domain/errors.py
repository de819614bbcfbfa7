"""Domain errors carry meaning, not HTTP; the API maps each kind to a status."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused and nothing was stored."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RuleBroken(DomainError):
    """The command's values break a rule of the domain (a bad date, a missing reason...)."""


class Conflict(DomainError):
    """The command does not fit the current state (a closed journey, a task already done...)."""


class NotFound(DomainError):
    """The command names a programme, journey, key result, task or obstacle that does not exist."""


class StaleVersion(DomainError):
    """The caller expected another version of the aggregate than the stored one."""
