"""One path into the SLA engine: every event the services write reaches the clocks, and a repair
from the timeline agrees with what the live services did (issue 13's inconsistencies, one test each)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from escalation.models import Trigger
from escalation.services import escalation_accept, escalation_return, ticket_escalate
from escalation.sla import engine
from escalation.sla.models import LadderFiring, OffsetKind, SlaRecord, Stage, Target
from escalation.sla.repair import COMPARED_FIELDS, keyed, sla_repair_ticket
from escalation.sla.sweep import sla_sweep
from tests.escalation.conftest import good_handoff
from tests.factories import SiteFactory, make_ticket
from tests.sla.conftest import STANDARD_LADDER, make_policy
from tickets import services
from tickets.models import EventKind, Impact, Ticket, Urgency

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def london(*args):
    return datetime(*args, tzinfo=LONDON)


def at(moment, action, *args, **kwargs):
    with time_machine.travel(moment, tick=False):
        return action(*args, **kwargs)


def sweep(moment):
    """The sweep as beat runs it: its events carry the moment it ran."""
    return at(moment, sla_sweep, now=moment)


def current(ticket, target):
    return SlaRecord.objects.get(ticket=ticket, target=target, is_current=True, stopped_at__isnull=True)


def ticket_at(moment, requester, category, *, impact=Impact.INDIVIDUAL, urgency=Urgency.SLOWED):
    """Logged at `moment`: individual × slowed is P4, × stopped P3, team × stopped P2."""
    return at(moment, make_ticket, requester=requester, category=category, impact=impact, urgency=urgency)


@pytest.fixture
def p2_policy(office_hours):
    return make_policy(
        name="P2 · High",
        priority="P2",
        calendar=office_hours,
        position=2,
        first_response_minutes=60,
        resolution_minutes=8 * 60,
        tier1_budget_minutes=120,
        tier2_accept_minutes=60,
        ladder=STANDARD_LADDER,
    )


def assert_replay_matches(ticket):
    """A replay of the timeline gives, field for field, the records the live services wrote."""
    stored = keyed(SlaRecord.objects.filter(ticket=ticket))
    rebuilt = keyed(engine.replay(ticket=Ticket.objects.get(pk=ticket.pk)).records)
    assert set(stored) == set(rebuilt)
    for key, record in stored.items():
        for name in (*COMPARED_FIELDS, "next_check_at", "warn_at"):
            assert getattr(record, name) == getattr(rebuilt[key], name), (key, name)


def test_security_escalation_moves_every_clock_to_the_p2_policy(
    requester, agent, category, paths, checklist, secops, p4_policy, p2_policy
):
    # given a P4 ticket logged Monday 10:00 on office hours
    ticket = ticket_at(london(2026, 1, 19, 10, 0), requester, category)
    assert current(ticket, Target.RESOLUTION).policy == p4_policy
    # when it is escalated as a security concern at 10:30 (raised to P2)
    at(
        london(2026, 1, 19, 10, 30),
        ticket_escalate,
        ticket_id=ticket.pk,
        trigger=Trigger.SECURITY_CONCERN,
        handoff=good_handoff(),
        acting_user=agent,
    )
    # then every clock of the cycle follows the P2 policy, from the ticket's start
    ticket.refresh_from_db()
    assert ticket.priority == "P2"
    first, resolution = current(ticket, Target.FIRST_RESPONSE), current(ticket, Target.RESOLUTION)
    assert (first.policy, resolution.policy) == (p2_policy, p2_policy)
    assert first.due_at == london(2026, 1, 19, 11, 0)  # 60 business minutes from 10:00
    assert resolution.due_at == london(2026, 1, 20, 10, 0)  # 7 h on Monday, 1 h on Tuesday
    assert current(ticket, Target.TIER2_ACCEPT).due_at == london(2026, 1, 19, 11, 30)
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (first.due_at, resolution.due_at)
    recomputed = ticket.events.get(kind=EventKind.SLA_RECOMPUTED)
    assert recomputed.data["resolution"]["new"] == resolution.due_at.isoformat()
    assert_replay_matches(ticket)


def test_a_site_change_chooses_the_site_policy(requester, agent, category, p4_policy, office_hours):
    paris = SiteFactory(name="Paris", slug="paris", time_zone="Europe/Paris")
    paris_policy = make_policy(name="Paris P4", priority="P4", calendar=office_hours, position=1, resolution_minutes=60)
    paris_policy.site = paris
    paris_policy.save()
    ticket = ticket_at(london(2026, 1, 19, 10, 0), requester, category)
    assert current(ticket, Target.RESOLUTION).policy == p4_policy

    at(
        london(2026, 1, 19, 10, 20),
        services.ticket_update,
        ticket_id=ticket.pk,
        changes={"site": paris},
        acting_user=agent,
    )

    resolution = current(ticket, Target.RESOLUTION)
    assert resolution.policy == paris_policy
    assert resolution.due_at == london(2026, 1, 19, 11, 0)
    # Paris P4 sets no first-response target: that clock no longer applies
    assert SlaRecord.objects.get(ticket=ticket, target=Target.FIRST_RESPONSE).stage == Stage.CANCELLED
    assert_replay_matches(ticket)


def test_a_priority_raised_by_the_ladder_moves_the_clocks_to_the_new_policy(
    requester, agent, category, office_hours, p2_policy
):
    p3 = make_policy(
        name="P3 · Medium",
        priority="P3",
        calendar=office_hours,
        position=3,
        first_response_minutes=60,
        resolution_minutes=240,
        ladder=[("resolution", OffsetKind.PERCENT, 50, {"raise_priority": True})],
    )
    ticket = ticket_at(london(2026, 1, 19, 10, 0), requester, category, urgency=Urgency.STOPPED)
    assert current(ticket, Target.RESOLUTION).policy == p3

    sweep(london(2026, 1, 19, 12, 1))

    ticket.refresh_from_db()
    assert ticket.priority == "P2"
    live = SlaRecord.objects.filter(ticket=ticket, stopped_at__isnull=True)
    assert {r.policy for r in live} == {p2_policy}  # the header and the SLA card agree
    assert ticket.resolution_due_at == current(ticket, Target.RESOLUTION).due_at == london(2026, 1, 20, 10, 0)
    assert_replay_matches(ticket)


def test_a_breach_stands_when_a_recompute_loosens_the_target(requester, manager, category, p3_policy, p4_policy):
    ticket = ticket_at(london(2026, 1, 19, 9, 0), requester, category, urgency=Urgency.STOPPED)
    sweep(london(2026, 1, 19, 13, 30))  # P3: resolution due 13:00
    at(
        london(2026, 1, 19, 14, 0),
        services.ticket_change_priority,
        ticket_id=ticket.pk,
        priority="P4",
        reason="Only one person affected.",
        acting_user=manager,  # overriding a priority is for team leads and managers
    )

    resolution = current(ticket, Target.RESOLUTION)
    assert resolution.stage == Stage.BREACHED and resolution.breached_at == london(2026, 1, 19, 13, 0)
    assert resolution.due_at == london(2026, 1, 23, 17, 0)  # the new target, shown as such: 5 business days
    assert resolution.policy == p4_policy
    assert_replay_matches(ticket)


def test_repair_after_the_sweep_announces_nothing_and_changes_nothing(
    requester, agent, category, office_hours, p2_policy
):
    # given a ticket whose ladder warned, breached and raised its priority (P3 → P2)
    make_policy(
        name="P1",
        priority="P1",
        calendar=office_hours,
        position=1,
        resolution_minutes=60,
        ladder=STANDARD_LADDER,
    )
    make_policy(
        name="P3",
        priority="P3",
        calendar=office_hours,
        position=3,
        first_response_minutes=60,
        resolution_minutes=240,
        ladder=[*STANDARD_LADDER[:2], ("resolution", OffsetKind.PERCENT, 100, {"raise_priority": True})],
    )
    ticket = ticket_at(london(2026, 1, 19, 9, 0), requester, category, urgency=Urgency.STOPPED)
    for hour, minute in [(11, 1), (12, 1), (13, 1), (14, 0)]:
        sweep(london(2026, 1, 19, hour, minute))
    ticket.refresh_from_db()
    assert ticket.priority == "P2"
    events_before = ticket.events.count()
    records_before = list(SlaRecord.objects.filter(ticket=ticket).order_by("pk").values())
    firings_before = LadderFiring.objects.filter(record__ticket=ticket).count()

    # when the operator repairs it and the sweep runs again
    report = at(london(2026, 1, 19, 14, 5), sla_repair_ticket, ticket_id=ticket.pk)
    sweep(london(2026, 1, 19, 14, 6))

    # then nothing was announced again, the priority stayed, the records are the same rows
    assert not report.changed, report.changes
    ticket.refresh_from_db()
    assert ticket.priority == "P2"
    assert ticket.events.count() == events_before
    assert list(SlaRecord.objects.filter(ticket=ticket).order_by("pk").values()) == records_before
    assert LadderFiring.objects.filter(record__ticket=ticket).count() == firings_before


def test_repair_reports_what_it_corrected_and_books_passed_levels_without_announcing(
    requester, agent, category, p3_policy
):
    ticket = ticket_at(london(2026, 1, 19, 10, 0), requester, category, urgency=Urgency.STOPPED)
    # a record damaged by hand (or by an old bug): resolution due far away
    SlaRecord.objects.filter(ticket=ticket, target=Target.RESOLUTION).update(
        due_at=london(2030, 1, 1, 0, 0), next_check_at=None
    )
    report = at(london(2026, 1, 19, 13, 30), sla_repair_ticket, ticket_id=ticket.pk)

    resolution = current(ticket, Target.RESOLUTION)
    assert resolution.due_at == london(2026, 1, 19, 14, 0)
    assert any("resolution · cycle 1: due_at 2030-01-01" in line for line in report.changes), report.changes
    # the 50 % and 75 % levels passed while the record was wrong: booked, not announced
    assert set(LadderFiring.objects.filter(record=resolution).values_list("suppressed", flat=True)) == {True}
    warnings = [EventKind.SLA_WARNING, EventKind.SLA_BREACHED]
    assert sweep(london(2026, 1, 19, 13, 31)).levels_fired == 0
    assert not ticket.events.filter(kind__in=warnings, data__target=Target.RESOLUTION).exists()
    # the deadline itself is still announced when it comes
    assert sweep(london(2026, 1, 19, 14, 1)).breaches == 1


def test_a_whole_lifecycle_replays_to_the_live_records(
    requester, agent, engineer, category, paths, checklist, p3_policy, p4_policy, p2_policy
):
    ticket = ticket_at(london(2026, 1, 19, 9, 30), requester, category)
    steps = [
        (london(2026, 1, 19, 10, 0), services.ticket_comment_add, {"body": "Looking.", "public": True, "acting_user": agent}),
        (london(2026, 1, 19, 10, 30), services.ticket_set_pending, {"reason": "Need the serial.", "acting_user": agent}),
        (london(2026, 1, 19, 15, 0), services.ticket_comment_add, {"body": "SN1", "public": True, "acting_user": requester}),
        (london(2026, 1, 19, 15, 30), services.ticket_update, {"changes": {"urgency": "stopped"}, "acting_user": agent}),
        (london(2026, 1, 20, 9, 15), ticket_escalate, {"trigger": Trigger.ACCESS_RESTRICTION, "handoff": good_handoff(), "acting_user": agent}),
        (london(2026, 1, 20, 9, 45), escalation_return, {"reason": "within_tier1_scope", "note": "See the KB.", "kb_reference": "Unlock an account", "acting_user": engineer}),
        (london(2026, 1, 20, 10, 0), ticket_escalate, {"trigger": Trigger.ACCESS_RESTRICTION, "handoff": good_handoff(), "acting_user": agent}),
        (london(2026, 1, 20, 11, 0), escalation_accept, {"acting_user": engineer}),
        (london(2026, 1, 20, 16, 0), services.ticket_resolve, {"resolution": "Unlocked.", "acting_user": engineer}),
        (london(2026, 1, 21, 9, 0), services.ticket_reopen, {"reason": "Locked again.", "acting_user": requester}),
    ]  # fmt: skip
    for moment, action, kwargs in steps:
        at(moment, action, ticket_id=ticket.pk, **kwargs)
        sweep(moment)
        assert_replay_matches(ticket)
    assert SlaRecord.objects.filter(ticket=ticket, cycle=2, target=Target.RESOLUTION, is_current=True).exists()
    assert not SlaRecord.objects.filter(ticket=ticket, cycle=1, is_current=True).exists()


def test_the_ticket_shows_one_clock_per_target_of_the_current_cycle(
    requester, agent, engineer, category, paths, checklist, p2_policy
):
    from escalation.sla.display import clocks_for_page
    from escalation.sla.selectors import sla_records_for_ticket

    ticket = ticket_at(london(2026, 1, 19, 9, 0), requester, category, impact=Impact.TEAM, urgency=Urgency.STOPPED)
    escalate = {"trigger": Trigger.ACCESS_RESTRICTION, "handoff": good_handoff(), "acting_user": agent}
    at(london(2026, 1, 19, 9, 30), ticket_escalate, ticket_id=ticket.pk, **escalate)
    back = {"reason": "within_tier1_scope", "note": "See the KB.", "kb_reference": "Unlock an account"}
    at(london(2026, 1, 19, 10, 0), escalation_return, ticket_id=ticket.pk, acting_user=engineer, **back)
    # the second Tier 1 budget (2 h from 10:00) runs out: breached, and the sweep escalates again
    sweep(london(2026, 1, 19, 12, 30))

    records = sla_records_for_ticket(ticket=ticket)
    assert [r.target for r in records].count(Target.TIER1_BUDGET) == 2
    clocks = clocks_for_page(records, now=london(2026, 1, 19, 12, 50))
    labels = [clock.label for clock in clocks]
    assert labels.count("Tier 1 budget") == 1 and labels.count("Tier 2 time-to-accept") == 1
    budget = next(clock for clock in clocks if clock.record.target == Target.TIER1_BUDGET)
    assert budget.record.started_at == london(2026, 1, 19, 10, 0) and budget.stage == Stage.BREACHED
    accept = next(clock for clock in clocks if clock.record.target == Target.TIER2_ACCEPT)
    assert accept.record.stopped_at is None  # the running one, not the cancelled first
