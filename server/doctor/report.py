"""A doctor's report: one finding per check, the worst of them, and the exit status it maps to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

EXIT_PASS = 0
EXIT_WARN = 6  # the worst finding is a warning: live is allowed, but read the advice
EXIT_FAIL = 7  # a check failed: `serve` and the gateway refuse `live` while it does


class Status(IntEnum):
    """Ordered so that `max` is the worst."""

    PASS = 0
    WARN = 1
    FAIL = 2


EXIT_STATUS = {Status.PASS: EXIT_PASS, Status.WARN: EXIT_WARN, Status.FAIL: EXIT_FAIL}


@dataclass(frozen=True)
class Finding:
    """The outcome of one check; `advice` is one line saying what was found and what to do."""

    check: str
    status: Status
    advice: str

    def as_json(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status.name, "advice": self.advice}


def passed(check: str, advice: str) -> Finding:
    return Finding(check, Status.PASS, advice)


def warned(check: str, advice: str) -> Finding:
    return Finding(check, Status.WARN, advice)


def failed(check: str, advice: str) -> Finding:
    return Finding(check, Status.FAIL, advice)


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]

    @property
    def worst(self) -> Status:
        return max((f.status for f in self.findings), default=Status.PASS)

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.worst]

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status is Status.FAIL)

    def refusal(self) -> str | None:
        """Why `live` is refused (the failing checks with their advice), or None when it is not."""
        if not self.failures:
            return None
        return "; ".join(f"{f.check}: {f.advice}" for f in self.failures)

    def as_json(self) -> dict[str, object]:
        return {
            "worst": self.worst.name,
            "exit_status": self.exit_status,
            "checks": [f.as_json() for f in self.findings],
        }

    def lines(self) -> list[str]:
        width = max((len(f.check) for f in self.findings), default=0)
        return [f"{f.status.name:<4}  {f.check:<{width}}  {f.advice}" for f in self.findings]
