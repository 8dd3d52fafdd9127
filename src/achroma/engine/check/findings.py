"""What `achroma check` reports: findings, their severities, and what `repair` can do about them."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["ok", "info", "warning", "error", "repaired"]
# Severities that make the check fail (exit code 1) unless repaired.
PROBLEMS: frozenset[str] = frozenset({"warning", "error"})

# What `repair` does about a finding.
REBUILD = "rebuild"  # rebuild the collection's index from SQLite and save it
REMOVE = "remove"  # delete a stray file

# Ids or messages listed in one finding.
LISTED = 5


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    collection: str | None  # its name (tenant/database/name outside the defaults); None: store
    severity: Severity
    message: str
    repair: str | None = None  # REBUILD or REMOVE when `repair` can fix it
    subject: str | None = None  # the collection id (REBUILD) or the file (REMOVE)

    @property
    def problem(self) -> bool:
        return self.severity in PROBLEMS


class NotAStore(Exception):
    """The path is not an achroma store this version can check (a usage error)."""


def unresolved(findings: Sequence[Finding], repairs: Sequence[Finding] = ()) -> list[Finding]:
    """The problems left: those `repair` cannot fix, and those found after repairing."""
    left = [f for f in findings if f.problem and (f.repair is None or not repairs)]
    return left + [f for f in repairs if f.problem]


async def guarded(label: str | None, doing: str, checks: Awaitable[list[Finding]]) -> list[Finding]:
    """The findings of one check; an error reading becomes a finding."""
    try:
        return await checks
    except (sqlite3.Error, OSError, ValueError, RuntimeError) as exc:
        return [Finding(label, "error", f"{doing} failed: {type(exc).__name__}: {exc}")]


def listed(items: Sequence[Any]) -> str:
    shown = ", ".join(str(i) for i in items[:LISTED])
    return shown + (f" and {len(items) - LISTED} more" if len(items) > LISTED else "")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
