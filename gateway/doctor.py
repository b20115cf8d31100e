"""The doctor's report as GraphQL types, and the gate that keeps `mode` from becoming live while a
check fails (the same checks as `hedging doctor`, run by the gateway with its own settings)."""

from __future__ import annotations

from enum import Enum

import strawberry

from server.doctor.gate import live_refusal
from server.doctor.report import Finding, Report
from server.errors import FailedPrecondition
from server.settings import Settings


@strawberry.enum(description="PASS, WARN (live allowed; read the advice) or FAIL (live refused)")
class DoctorStatus(Enum):
    PASS = "PASS"  # noqa: S105 (a status, not a password)
    WARN = "WARN"
    FAIL = "FAIL"


@strawberry.type(description="One check: what was found and what to do, in one line.")
class DoctorFinding:
    check: str
    status: DoctorStatus
    advice: str

    @classmethod
    def of(cls, finding: Finding) -> DoctorFinding:
        return cls(check=finding.check, status=DoctorStatus(finding.status.name), advice=finding.advice)


@strawberry.type(description="What `hedging doctor` reports, from the gateway's settings.")
class DoctorReport:
    worst: DoctorStatus
    checks: list[DoctorFinding]

    @classmethod
    def of(cls, report: Report) -> DoctorReport:
        return cls(
            worst=DoctorStatus(report.worst.name), checks=[DoctorFinding.of(f) for f in report.findings]
        )


async def require_fit_for_live(settings: Settings) -> None:
    """Raises `FailedPrecondition` naming every failing check, with its advice."""
    refusal = await live_refusal(settings)
    if refusal is not None:
        raise FailedPrecondition(f"live refused while `hedging doctor` fails: {refusal}")
