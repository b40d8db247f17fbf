"""The SLA clock as the ticket lifecycle drives it: start, pause, resume, stop, reopen, recompute."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from escalation.sla import selectors
from escalation.sla.models import LadderFiring, SlaRecord, Stage, Target
from escalation.sla.repair import sla_repair_ticket
from escalation.sla.sweep import sla_sweep
from tickets import services
from tickets.models import EventKind, Impact, Ticket, Urgency

from ..factories import make_ticket

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def london(*args):
    return datetime(*args, tzinfo=LONDON)


def p3_ticket(requester, category, at):
    with time_machine.travel(at, tick=False):
        return make_ticket(requester=requester, category=category, impact=Impact.INDIVIDUAL, urgency=Urgency.STOPPED)


def record(ticket, target, cycle=1):
    return SlaRecord.objects.get(ticket=ticket, target=target, cycle=cycle)


def test_creation_starts_clocks_on_business_hours_and_fills_the_ticket_due_columns(requester, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))  # a Monday

    assert ticket.priority == "P3"
    first, resolution = record(ticket, Target.FIRST_RESPONSE), record(ticket, Target.RESOLUTION)
    assert first.due_at == london(2026, 1, 19, 11, 0)
    assert resolution.due_at == resolution.original_due_at == london(2026, 1, 19, 14, 0)
    assert resolution.stage == Stage.RUNNING and resolution.policy == p3_policy
    assert not SlaRecord.objects.filter(ticket=ticket, target=Target.TIER1_BUDGET).exists()  # P3 has no budget
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.first_response_due_at == london(2026, 1, 19, 11, 0)
    assert ticket.resolution_due_at == london(2026, 1, 19, 14, 0)
    # the sweep looks first at the 50 % ladder level (2 business hours in)
    assert resolution.next_check_at == london(2026, 1, 19, 12, 0)


def test_friday_afternoon_ticket_is_due_after_the_weekend(requester, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 16, 16, 0))
    # 1 h on Friday, 3 h on Monday
    assert record(ticket, Target.RESOLUTION).due_at == london(2026, 1, 19, 12, 0)


def test_holiday_monday_pushes_the_due_time_to_tuesday(requester, category, p3_policy, uk_holiday):
    ticket = p3_ticket(requester, category, london(2026, 1, 16, 16, 0))
    assert record(ticket, Target.RESOLUTION).due_at == london(2026, 1, 20, 12, 0)


def test_due_time_across_the_spring_dst_change_is_in_local_business_hours(requester, category, p3_policy):
    # Friday 2026-03-27 16:00 GMT; clocks go forward Sunday 29th; due Monday 12:00 BST = 11:00 UTC.
    ticket = p3_ticket(requester, category, london(2026, 3, 27, 16, 0))
    assert record(ticket, Target.RESOLUTION).due_at == datetime(2026, 3, 30, 11, 0, tzinfo=UTC)


def test_due_time_across_the_autumn_dst_change(requester, category, p3_policy):
    # Friday 2026-10-23 16:00 BST; clocks go back Sunday 25th; due Monday 12:00 GMT = 12:00 UTC.
    ticket = p3_ticket(requester, category, london(2026, 10, 23, 16, 0))
    assert record(ticket, Target.RESOLUTION).due_at == datetime(2026, 10, 26, 12, 0, tzinfo=UTC)


def test_first_reply_meets_first_response(requester, agent, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    with time_machine.travel(london(2026, 1, 19, 10, 40), tick=False):
        services.ticket_comment_add(ticket_id=ticket.pk, body="Looking at it.", public=True, acting_user=agent)

    first = record(ticket, Target.FIRST_RESPONSE)
    assert first.stage == Stage.MET
    assert first.stopped_at == london(2026, 1, 19, 10, 40)
    assert first.next_check_at is None
    assert first.tier1_seconds == 40 * 60


def test_late_first_reply_is_a_breach(requester, agent, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    with time_machine.travel(london(2026, 1, 19, 11, 30), tick=False):
        services.ticket_comment_add(ticket_id=ticket.pk, body="Sorry for the wait.", public=True, acting_user=agent)

    first = record(ticket, Target.FIRST_RESPONSE)
    assert first.stage == Stage.BREACHED and first.ever_breached
    assert first.breached_at == london(2026, 1, 19, 11, 0)


def test_pause_and_resume_shift_due_by_exactly_the_paused_business_time(requester, agent, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    with time_machine.travel(london(2026, 1, 19, 10, 30), tick=False):
        services.ticket_comment_add(
            ticket_id=ticket.pk, body="Can you send a screenshot?", public=True, acting_user=agent
        )
    with time_machine.travel(london(2026, 1, 19, 11, 0), tick=False):
        services.ticket_set_pending(ticket_id=ticket.pk, reason="Waiting for a screenshot.", acting_user=agent)

    paused = record(ticket, Target.RESOLUTION)
    assert paused.stage == Stage.PAUSED and paused.paused_since == london(2026, 1, 19, 11, 0)
    assert paused.next_check_at is None  # the sweep leaves paused clocks alone

    # the requester replies the next morning: 11:00–17:00 Monday + 09:00–10:00 Tuesday = 7 business hours
    with time_machine.travel(london(2026, 1, 20, 10, 0), tick=False):
        services.ticket_comment_add(ticket_id=ticket.pk, body="Here it is.", public=True, acting_user=requester)

    resumed = record(ticket, Target.RESOLUTION)
    assert resumed.stage == Stage.RUNNING
    assert resumed.paused_business_seconds == 7 * 3600
    # was Monday 14:00; + 7 business hours = Monday 14–17 (3 h) + Tuesday 09–13 (4 h)
    assert resumed.due_at == london(2026, 1, 20, 13, 0)
    assert resumed.original_due_at == london(2026, 1, 19, 14, 0)
    assert Ticket.objects.get(pk=ticket.pk).resolution_due_at == london(2026, 1, 20, 13, 0)
    # the pause and the resume are on the timeline with who and why
    pending = ticket.events.get(kind=EventKind.PENDING)
    resume = ticket.events.get(kind=EventKind.RESUMED)
    assert (pending.actor, pending.data["reason"]) == (agent, "Waiting for a screenshot.")
    assert (resume.actor, resume.data["reason"]) == (requester, "The requester replied.")
    # the requester's reply also started a next-response clock (2 business hours)
    assert record(ticket, Target.NEXT_RESPONSE).due_at == london(2026, 1, 20, 12, 0)


def test_a_first_response_not_yet_given_keeps_counting_while_pending(requester, agent, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    with time_machine.travel(london(2026, 1, 19, 10, 10), tick=False):
        services.ticket_set_pending(ticket_id=ticket.pk, reason="Asked by phone for the asset tag.", acting_user=agent)

    first = record(ticket, Target.FIRST_RESPONSE)
    assert first.stage == Stage.RUNNING
    assert first.next_check_at == london(2026, 1, 19, 11, 0)


def test_resolve_stops_the_clocks_and_reopen_starts_a_new_cycle(requester, agent, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    with time_machine.travel(london(2026, 1, 19, 15, 0), tick=False):  # an hour late
        services.ticket_resolve(ticket_id=ticket.pk, resolution="Replaced the charger.", acting_user=agent)
    cycle1 = record(ticket, Target.RESOLUTION)
    assert cycle1.stage == Stage.BREACHED and cycle1.stopped_at == london(2026, 1, 19, 15, 0)

    with time_machine.travel(london(2026, 1, 20, 9, 30), tick=False):
        services.ticket_reopen(ticket_id=ticket.pk, reason="Broken again.", acting_user=requester)

    cycle1.refresh_from_db()
    assert cycle1.stage == Stage.BREACHED and not cycle1.is_current  # kept as it was
    cycle2 = record(ticket, Target.RESOLUTION, cycle=2)
    assert cycle2.is_current and cycle2.stage == Stage.RUNNING
    assert cycle2.started_at == london(2026, 1, 20, 9, 30)
    assert cycle2.due_at == london(2026, 1, 20, 13, 30)
    assert Ticket.objects.get(pk=ticket.pk).resolution_due_at == london(2026, 1, 20, 13, 30)
    tickets = Ticket.objects.filter(pk=ticket.pk)
    assert not selectors.filter_breached(tickets, True).exists()  # the current cycle is fine
    assert selectors.filter_breached(tickets, True, ever=True).exists()  # "ever breached" still answers


def test_priority_change_recomputes_from_the_original_start_carrying_paused_time(
    requester, agent, manager, category, p3_policy, p4_policy
):
    # P4 (resolve in 40 business hours) logged Monday 10:00, paused Monday 11:00–Tuesday 10:00 (7 h)
    with time_machine.travel(london(2026, 1, 19, 10, 0), tick=False):
        ticket = make_ticket(requester=requester, category=category, impact=Impact.INDIVIDUAL, urgency=Urgency.MINOR)
    assert ticket.priority == "P4"
    with time_machine.travel(london(2026, 1, 19, 11, 0), tick=False):
        services.ticket_set_pending(ticket_id=ticket.pk, reason="Waiting for the model number.", acting_user=agent)
    with time_machine.travel(london(2026, 1, 20, 10, 0), tick=False):
        services.ticket_resume(ticket_id=ticket.pk, reason="Got it by phone.", acting_user=agent)

    # when: raised to P3 (4 business hours) on Tuesday 10:30
    with time_machine.travel(london(2026, 1, 20, 10, 30), tick=False):
        services.ticket_change_priority(
            ticket_id=ticket.pk, priority="P3", reason="Now blocks month-end.", acting_user=manager
        )

    # then: Monday 10:00 + 4 h + 7 h paused = Tuesday 13:00 (not 14:00 on Monday)
    resolution = record(ticket, Target.RESOLUTION)
    assert resolution.policy == p3_policy
    assert resolution.due_at == london(2026, 1, 20, 13, 0)
    assert resolution.original_due_at == london(2026, 1, 19, 14, 0)
    event = ticket.events.get(kind=EventKind.SLA_RECOMPUTED)
    assert event.data["resolution"]["new"] == london(2026, 1, 20, 13, 0).astimezone(UTC).isoformat()


def test_priority_change_past_several_levels_announces_once_not_a_flood(
    requester, manager, category, p3_policy, p4_policy
):
    with time_machine.travel(london(2026, 1, 19, 9, 0), tick=False):
        ticket = make_ticket(requester=requester, category=category, impact=Impact.INDIVIDUAL, urgency=Urgency.MINOR)
    # 12:30: under P3 (4 h from 09:00) the 50 % (11:00) and 75 % (12:00) levels have passed, 100 % (13:00) not yet
    with time_machine.travel(london(2026, 1, 19, 12, 30), tick=False):
        services.ticket_change_priority(
            ticket_id=ticket.pk, priority="P3", reason="Escalated by VP.", acting_user=manager
        )
    report = sla_sweep(now=london(2026, 1, 19, 12, 31))

    warnings = ticket.events.filter(kind=EventKind.SLA_WARNING)
    assert warnings.count() == 1 and report.levels_fired == 1
    assert warnings.get().data["levels"] == ["Resolution at 75%"]
    firings = LadderFiring.objects.filter(record__ticket=ticket).order_by("level__position")
    assert [f.suppressed for f in firings] == [True, False]
    assert sla_sweep(now=london(2026, 1, 19, 12, 32)).levels_fired == 0


def test_already_breached_target_does_not_alert_again_after_a_priority_change(
    requester, manager, category, p3_policy, p4_policy, always
):
    from tests.sla.conftest import STANDARD_LADDER, make_policy

    make_policy(name="P2", priority="P2", calendar=always, position=2, resolution_minutes=60, ladder=STANDARD_LADDER)
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 9, 0))
    sla_sweep(now=london(2026, 1, 19, 13, 30))  # 50 %, 75 %, 100 %: breached at 13:00
    assert record(ticket, Target.RESOLUTION).stage == Stage.BREACHED
    before = ticket.events.filter(kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACHED]).count()

    with time_machine.travel(london(2026, 1, 19, 13, 40), tick=False):
        services.ticket_change_priority(ticket_id=ticket.pk, priority="P2", reason="Wider impact.", acting_user=manager)
    sla_sweep(now=london(2026, 1, 19, 13, 41))

    after = ticket.events.filter(kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACHED]).count()
    assert after == before
    assert record(ticket, Target.RESOLUTION).stage == Stage.BREACHED


def test_repair_rebuilds_the_records_from_the_timeline(requester, agent, category, p3_policy):
    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    with time_machine.travel(london(2026, 1, 19, 10, 30), tick=False):
        services.ticket_comment_add(ticket_id=ticket.pk, body="On it.", public=True, acting_user=agent)
    with time_machine.travel(london(2026, 1, 19, 11, 0), tick=False):
        services.ticket_set_pending(ticket_id=ticket.pk, reason="Need the serial.", acting_user=agent)
    with time_machine.travel(london(2026, 1, 20, 10, 0), tick=False):
        services.ticket_comment_add(ticket_id=ticket.pk, body="SN123", public=True, acting_user=requester)
    fields = ["target", "cycle", "stage", "due_at", "paused_business_seconds", "tier1_seconds", "paused_seconds"]
    expected = sorted(SlaRecord.objects.filter(ticket=ticket).values_list(*fields))

    SlaRecord.objects.filter(ticket=ticket).update(due_at=london(2030, 1, 1, 0, 0), paused_business_seconds=0)
    with time_machine.travel(london(2026, 1, 20, 10, 5), tick=False):
        sla_repair_ticket(ticket_id=ticket.pk)

    # event times differ from the services' clock reads by microseconds at most; compare to the second
    got = sorted(SlaRecord.objects.filter(ticket=ticket).values_list(*fields))
    assert [(*row[:3], row[3].replace(microsecond=0), *row[4:]) for row in got] == [
        (*row[:3], row[3].replace(microsecond=0), *row[4:]) for row in expected
    ]


def test_tier_attribution_sums_to_elapsed_business_time_with_pauses(requester, agent, category, p3_policy):
    from escalation.sla import businesstime as bt
    from escalation.sla.services import load_schedule

    ticket = p3_ticket(requester, category, london(2026, 1, 19, 10, 0))
    with time_machine.travel(london(2026, 1, 19, 11, 0), tick=False):
        services.ticket_set_pending(ticket_id=ticket.pk, reason="Need the serial.", acting_user=agent)
    with time_machine.travel(london(2026, 1, 19, 15, 0), tick=False):
        services.ticket_resume(ticket_id=ticket.pk, reason="Got it.", acting_user=agent)
    with time_machine.travel(london(2026, 1, 20, 9, 45), tick=False):
        services.ticket_resolve(ticket_id=ticket.pk, resolution="Fixed.", acting_user=agent)

    resolution = record(ticket, Target.RESOLUTION)
    assert (resolution.tier1_seconds, resolution.paused_seconds) == (3 * 3600 + 45 * 60, 4 * 3600)
    schedule = load_schedule(calendar_id=resolution.calendar_id)
    elapsed = bt.business_seconds_between(schedule, resolution.started_at, resolution.stopped_at)
    assert resolution.elapsed_business_seconds == elapsed == 7 * 3600 + 45 * 60
    # due Monday 14:00 + 4 h paused = Monday 14–17 + Tuesday 09–10; resolved at 09:45: met
    assert resolution.due_at == london(2026, 1, 20, 10, 0)
    assert resolution.stage == Stage.MET
