"""The ledger's interval rules on hand-written timelines (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.enums import ComponentStatus, EventStatus
from resolvers.ledger import Span, Step, current_impacts, spans_of

pytestmark = pytest.mark.onepass

S, E = ComponentStatus, EventStatus
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_impact_changes_close_and_open_spans_and_resolution_closes_all() -> None:
    steps = [Step(t(0), E.INVESTIGATING, {"a": S.DEGRADED}),
             Step(t(10), E.IDENTIFIED, {"a": S.FULL_OUTAGE, "b": S.PARTIAL_OUTAGE}),
             Step(t(20), E.MONITORING, {"a": S.OPERATIONAL}),
             Step(t(30), E.RESOLVED, {})]
    assert sorted(spans_of(steps), key=lambda s: (s.component_id, s.start)) == [
        Span("a", S.DEGRADED, t(0), t(10)), Span("a", S.FULL_OUTAGE, t(10), t(20)),
        Span("b", S.PARTIAL_OUTAGE, t(10), t(30))]
    assert current_impacts(steps) == {"a": S.OPERATIONAL, "b": S.OPERATIONAL}


def test_restating_an_impact_keeps_one_maximal_span_and_open_ones_have_no_end() -> None:
    steps = [Step(t(0), E.INVESTIGATING, {"a": S.DEGRADED}),
             Step(t(5), E.IDENTIFIED, {"a": S.DEGRADED}),
             Step(t(9), E.MONITORING, {"a": S.OPERATIONAL}),
             Step(t(9), E.MONITORING, {"a": S.DEGRADED})]
    assert spans_of(steps) == [Span("a", S.DEGRADED, t(0), None)]


def test_same_instant_changes_leave_no_empty_span() -> None:
    steps = [Step(t(0), E.INVESTIGATING, {"a": S.DEGRADED}),
             Step(t(0), E.IDENTIFIED, {"a": S.FULL_OUTAGE}),
             Step(t(4), E.RESOLVED, {})]
    assert spans_of(steps) == [Span("a", S.FULL_OUTAGE, t(0), t(4))]


def test_reopen_starts_from_operational_and_scheduled_holds_nothing() -> None:
    steps = [Step(t(0), E.INVESTIGATING, {"a": S.DEGRADED, "b": S.DEGRADED}),
             Step(t(5), E.RESOLVED, {}),
             Step(t(8), E.INVESTIGATING, {"b": S.FULL_OUTAGE})]
    assert sorted(spans_of(steps), key=lambda s: (s.component_id, s.start)) == [
        Span("a", S.DEGRADED, t(0), t(5)), Span("b", S.DEGRADED, t(0), t(5)),
        Span("b", S.FULL_OUTAGE, t(8), None)]
    maintenance = [Step(t(0), E.SCHEDULED, {}),
                   Step(t(60), E.IN_PROGRESS, {"a": S.UNDER_MAINTENANCE}),
                   Step(t(90), E.COMPLETED, {})]
    assert spans_of(maintenance) == [Span("a", S.UNDER_MAINTENANCE, t(60), t(90))]
    assert spans_of([Step(t(0), E.SCHEDULED, {}), Step(t(1), E.COMPLETED, {})]) == []


def test_a_retrospective_first_update_holds_from_the_start() -> None:
    steps = [Step(t(30), E.INVESTIGATING, {"a": S.PARTIAL_OUTAGE}),
             Step(t(60), E.RESOLVED, {})]
    assert spans_of(steps, first_at=t(0)) == [Span("a", S.PARTIAL_OUTAGE, t(0), t(60))]
