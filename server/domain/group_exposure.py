"""Exposure of a neg-risk event group: markets on one question whose outcomes are mutually exclusive,
so at most one of them resolves YES (Polymarket's neg-risk events; venue-facts-2026-12.md). Pure.

If the outcome of market i wins, market i resolves YES and every other market of the group NO: the
platform loses loss_if_yes(i) + the sum over the others of loss_if_no. If none wins, every market
resolves NO. The group's worst case is the largest of these n + 1 losses, which is at most (and in a
group usually far below) the sum of the markets' own worst cases, each of which assumes its own
market's worse outcome independently of the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class OutcomeLosses:
    """One market of a group: the platform's loss if it resolves YES and if it resolves NO."""

    loss_if_yes: Decimal
    loss_if_no: Decimal


@dataclass(frozen=True)
class GroupExposure:
    """The group's worst case and which outcome winning causes it (None: no outcome wins)."""

    worst_case_loss: Decimal
    worst_outcome: int | None
    loss_if_none: Decimal

    @property
    def exposure(self) -> Decimal:
        """The worst case floored at zero: what counts against a limit."""
        return max(self.worst_case_loss, ZERO)


def group_exposure(markets: Sequence[OutcomeLosses]) -> GroupExposure:
    """The worst case over which single market's outcome wins, or none. Each outcome's loss is the
    all-NO loss with that market's NO loss swapped for its YES loss, so this is linear in the group's
    size. Ties go to the outcome first in `markets` (and "none" loses ties to any outcome)."""
    if_none = sum((m.loss_if_no for m in markets), ZERO)
    worst, which = if_none, None
    for i, m in enumerate(markets):
        if_i = if_none - m.loss_if_no + m.loss_if_yes
        if if_i > worst or (if_i == worst and which is None):
            worst, which = if_i, i
    return GroupExposure(worst, which, if_none)


@dataclass(frozen=True)
class GroupLimit:
    """What an order in a grouped market is checked against: the other markets of its group (as
    locked by the booking transaction) and the group's limit."""

    siblings: tuple[OutcomeLosses, ...]
    limit: Decimal

    def with_market(self, loss_if_yes: Decimal, loss_if_no: Decimal) -> GroupExposure:
        """The group's exposure with the order's market at these losses."""
        return group_exposure([*self.siblings, OutcomeLosses(loss_if_yes, loss_if_no)])
