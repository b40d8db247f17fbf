"""Every dashboard figure on the hand-built week (tests/dashboard/conftest.py).

Expected numbers are worked out by hand from the timeline in the conftest
docstring; the comments show the arithmetic.
"""

from datetime import date

import pytest

from escalation.metrics.figures import dashboard
from escalation.metrics.filters import parse_filters
from tickets.models import Ticket

from .conftest import NOW, VIEWER_ZONE

pytestmark = pytest.mark.django_db


def figures_for(**params):
    params = {"from": "2025-01-06", "to": "2025-01-12", **params}
    filters = parse_filters(params, time_zone=VIEWER_ZONE, today=date(2025, 1, 12))
    return dashboard(tickets=Ticket.objects.all(), filters=filters, now=NOW)


def by(rows, key):
    return {row[key]: row for row in rows}


def test_ticket_counts_escalation_rate_first_contact_and_backlog(week):
    figures = figures_for()
    tickets = figures["tickets"]
    # created in the period: A B C D E G H (F is from December)
    assert tickets["created"] == 7
    # escalated among them: C and D (D twice, counted once) → 2/7
    assert tickets["escalated"] == 2
    assert tickets["escalation_rate_pct"] == 28.6
    # resolved in the period: A B C E; first contact: A and B (C escalated, E reopened)
    assert tickets["resolved"] == 4
    assert tickets["first_contact_resolved"] == 2
    assert tickets["first_contact_rate_pct"] == 50.0
    # open now: D (5 h), G (15 min), H (5 d 14 h), F (23 d 7 h)
    assert tickets["backlog"] == 4
    assert [b["tickets"] for b in tickets["backlog_aging"]] == [2, 0, 1, 1, 0]


def test_sla_attainment_with_paused_time_and_reopened_cycles(week):
    sla = by(figures_for()["sla"], "target")
    # first response: A 10, B 40 (breached), C 5, D 10, E 5, H 10 → median of 5 5 10 10 10 40 = 10
    assert sla["first_response"] == {
        "target": "first_response",
        "label": "First response",
        "met": 5,
        "breached": 1,
        "total": 6,
        "met_pct": 83.3,
        "median_minutes": 10.0,
        "median_wall_minutes": 10.0,
        "median_target_minutes": 30.0,
    }
    # next response: B's, 18:00 → 18:20
    assert (sla["next_response"]["met"], sla["next_response"]["breached"]) == (1, 0)
    assert sla["next_response"]["median_minutes"] == 20.0
    # resolution: A 60, B 120 (240 elapsed − 120 paused), C 540 ✗, E cycle 1 60, E cycle 2 540 ✗
    res = sla["resolution"]
    assert (res["met"], res["breached"], res["met_pct"]) == (3, 2, 60.0)
    assert res["median_minutes"] == 120.0
    # wall-clock beside it: A 60, B 240 (its 2 h paused included), C 540, E1 60, E2 540
    assert res["median_wall_minutes"] == 240.0
    assert res["median_target_minutes"] == 480.0


def test_breaches_attributed_to_the_tier_whose_time_ran_out(week):
    breaches = figures_for()["breaches"]
    # B first response (Tier 1, 40 min), C resolution (Tier 2: 490 of 540 min),
    # D's second accept clock (awaiting Tier 2, 60 min), E cycle 2 resolution (Tier 1).
    # F breached in December: outside the period.
    assert breaches["total"] == 4
    assert breaches["tickets_ever_breached"] == 4
    assert {r["tier"]: r["breaches"] for r in breaches["by_tier"]} == {"tier1": 2, "awaiting_tier2": 1, "tier2": 1}
    by_target = {r["target"]: r["breaches"] for r in breaches["by_target"]}
    assert by_target == {
        "first_response": 1,
        "next_response": 0,
        "resolution": 2,
        "tier1_budget": 0,
        "tier2_accept": 1,
    }


def test_at_risk_and_breached_now(week):
    now = figures_for()["now"]
    # D: resolution warning at 16:00 passed; G: first response due 17:15, within the hour.
    # H is paused (not at risk); F's clocks are breached.
    assert now["at_risk_tickets"] == 2
    assert now["breached_tickets"] == 1


def test_escalation_quality_returns_and_time_to_accept(week):
    esc = figures_for()["escalation"]
    # C (manual), D1 (manual, returned), D2 (automatic, 3 of 5 fields)
    assert (esc["escalations"], esc["manual"], esc["automatic"]) == (3, 2, 1)
    assert esc["complete_handoffs"] == 2
    assert esc["complete_pct"] == 66.7
    assert esc["avg_fields_present"] == 4.33  # (5 + 5 + 3) / 3
    assert (esc["accepted"], esc["returned"], esc["awaiting"]) == (2, 1, 0)
    assert esc["return_rate_pct"] == 33.3
    # accepted after 20 (C) and 60 (D2) minutes: median 40, p90 = 20 + 0.9 × 40 = 56
    assert esc["time_to_accept_median_minutes"] == 40.0
    assert esc["time_to_accept_p90_minutes"] == 56.0
    triggers = by(esc["by_trigger"], "trigger")
    assert (triggers["complexity_limit"]["manual"], triggers["complexity_limit"]["automatic"]) == (1, 0)
    assert (triggers["access_restriction"]["manual"], triggers["access_restriction"]["returned"]) == (1, 1)
    assert (triggers["time_exceeded"]["manual"], triggers["time_exceeded"]["automatic"]) == (0, 1)
    assert triggers["business_impact"]["manual"] == 0
    assert {r["reason"]: r["returns"] for r in esc["return_reasons"]} == {
        "handoff_incomplete": 0,
        "within_tier1_scope": 1,
        "wrong_team": 0,
    }


def test_resolution_time_median_and_p90_by_tier(week):
    resolution = figures_for()["resolution_time"]
    assert resolution["records"] == 5
    split = by(resolution["split"], "part")
    # used: 60 60 120 540 540 → p50 120, p90 at position 3.6 → 540
    assert (split["total"]["median_minutes"], split["total"]["p90_minutes"]) == (120.0, 540.0)
    # Tier 1: 30 60 60 120 540 → p50 60, p90 = 120 + 0.6 × 420 = 372
    assert (split["tier1"]["median_minutes"], split["tier1"]["p90_minutes"]) == (60.0, 372.0)
    # awaiting Tier 2: 0 0 0 0 20 → p90 = 0.6 × 20 = 12
    assert (split["awaiting_tier2"]["median_minutes"], split["awaiting_tier2"]["p90_minutes"]) == (0.0, 12.0)
    # Tier 2: 0 0 0 0 490 → p90 = 294
    assert (split["tier2"]["median_minutes"], split["tier2"]["p90_minutes"]) == (0.0, 294.0)
    # waiting on the requester: B's 120 → p90 = 72
    assert (split["paused"]["median_minutes"], split["paused"]["p90_minutes"]) == (0.0, 72.0)
    tiers = by(resolution["by_resolving_tier"], "tier")
    # resolved in Tier 1: 60 60 120 540 → p50 90, p90 = 120 + 0.7 × 420 = 414; Tier 2: C alone
    assert (tiers[1]["records"], tiers[1]["median_minutes"], tiers[1]["p90_minutes"]) == (4, 90.0, 414.0)
    assert (tiers[2]["records"], tiers[2]["median_minutes"], tiers[2]["p90_minutes"]) == (1, 540.0, 540.0)


def test_volume_by_hour_in_the_viewers_time_zone_and_by_site(week):
    volume = figures_for()["volume"]
    hours = {row["hour"]: row["tickets"] for row in volume["by_hour"] if row["tickets"]}
    # New York = UTC−5: D 12:00→7, C 13:00→8, A and E 14:00→9, B 15:00→10, G 16:45→11, H 03:00→22 (the day before)
    assert hours == {7: 1, 8: 1, 9: 2, 10: 1, 11: 1, 22: 1}
    assert [(row["site"], row["tickets"]) for row in volume["by_site"]] == [("london", 6), ("paris", 1)]


def test_daily_trend_in_the_viewers_days(week):
    trend = {row["day"]: row for row in figures_for()["trend"]}
    assert len(trend) == 7
    # H (Jan 7 03:00 UTC) is created on Jan 6 in New York, beside A
    assert [trend[f"2025-01-{d:02d}"]["created"] for d in range(6, 13)] == [2, 1, 1, 0, 1, 0, 2]
    # E's final resolution, Jan 11 19:00 UTC = 14:00 in New York; its first one was on Jan 10
    assert [trend[f"2025-01-{d:02d}"]["resolved"] for d in range(6, 13)] == [1, 1, 1, 0, 0, 1, 0]
    assert [trend[f"2025-01-{d:02d}"]["first_response_met_pct"] for d in range(6, 13)] == [
        100.0,
        0.0,
        100.0,
        None,
        100.0,
        None,
        100.0,
    ]
    # resolution judged: A Jan 6 met, B Jan 7 met, C Jan 8 breached, E1 Jan 10 met, E2 Jan 11 breached
    assert trend["2025-01-08"]["resolution_met_pct"] == 0.0
    assert trend["2025-01-10"]["resolution_met_pct"] == 100.0


def test_agent_and_team_tables(week, agent, engineer):
    figures = figures_for()
    agents = by(figures["agents"], "agent_id")
    # agent1 resolved A B E, escalated C and D (first time), got D back; ratings 4 and 2;
    # D was theirs again when the clock escalated it automatically: 1 automatic of 3 escalations
    assert agents[agent.pk] == {
        "agent_id": agent.pk,
        "agent": "Alex Morgan",
        "resolved": 3,
        "escalations": 2,
        "returns": 1,
        "decided": 2,
        "median_rating": 3.0,
        "avg_rating": 3.0,
        "return_rate_pct": 50.0,
        "automatic_on_theirs": 1,
        "automatic_share_pct": 33.3,
    }
    assert (agents[engineer.pk]["resolved"], agents[engineer.pk]["escalations"]) == (1, 0)
    assert (agents[None]["escalations"], agents[None]["median_rating"]) == (1, 5.0)
    assert agents[None]["automatic_share_pct"] == 100.0
    teams = by(figures["teams"], "team")
    # Service Desk: ratings 4, 2, 5 → median 4
    assert teams["service-desk"] == {
        "team": "service-desk",
        "label": "Service Desk",
        "resolved": 3,
        "escalations": 3,
        "returns": 1,
        "decided": 3,
        "median_rating": 4.0,
        "avg_rating": 3.7,
        "return_rate_pct": 33.3,
        "automatic_on_theirs": 1,
        "automatic_share_pct": 33.3,
    }
    assert (teams["identity-access"]["resolved"], teams["identity-access"]["escalations"]) == (1, 0)


def test_filters_narrow_every_figure(week):
    paris = figures_for(site="paris")
    # H only: created, open 5 days, pending
    assert (paris["tickets"]["created"], paris["tickets"]["resolved"], paris["tickets"]["backlog"]) == (1, 0, 1)
    assert paris["escalation"]["escalations"] == 0
    identity = figures_for(team="identity-access")
    # tickets Identity & Access owns now or received from a Tier 1 queue it owns: C and D
    assert identity["tickets"]["created"] == 2
    assert identity["escalation"]["escalations"] == 3
    assert figures_for(priority="P1")["tickets"]["created"] == 0


def test_restricted_tickets_stay_out_of_a_viewer_scope_without_access(week):
    Ticket.objects.filter(pk=week.a.pk).update(is_restricted=True)
    filters = parse_filters({"from": "2025-01-06", "to": "2025-01-12"}, time_zone=VIEWER_ZONE)
    figures = dashboard(tickets=Ticket.objects.filter(is_restricted=False), filters=filters, now=NOW)
    assert figures["tickets"]["created"] == 6
    assert by(figures["sla"], "target")["first_response"]["total"] == 5


def test_restricted_escalation_and_breaches_leave_every_record_figure(week):
    """C restricted (manual escalation, accepted; resolution breached in Tier 2): a viewer without
    clearance loses its clocks and its escalation from every figure, with or without a filter."""
    Ticket.objects.filter(pk=week.c.pk).update(is_restricted=True)
    filters = parse_filters({"from": "2025-01-06", "to": "2025-01-12"}, time_zone=VIEWER_ZONE)
    figures = dashboard(tickets=Ticket.objects.filter(is_restricted=False), filters=filters, now=NOW)
    sla = by(figures["sla"], "target")
    # first response: A B D E H (C's 5 min gone); resolution: A B E1 met, E2 breached (C's breach gone)
    assert (sla["first_response"]["met"], sla["first_response"]["breached"]) == (4, 1)
    assert (sla["resolution"]["met"], sla["resolution"]["breached"]) == (3, 1)
    # breaches: B (Tier 1), D (awaiting Tier 2), E (Tier 1); C's Tier 2 breach gone
    assert figures["breaches"]["total"] == 3
    assert {r["tier"]: r["breaches"] for r in figures["breaches"]["by_tier"]} == {
        "tier1": 2,
        "awaiting_tier2": 1,
        "tier2": 0,
    }
    # escalations: D's two only
    assert figures["escalation"]["escalations"] == 2
    assert figures["resolution_time"]["records"] == 4  # A, B, E1, E2 (C gone)
    # a team filter goes through the ticket join: Identity & Access had C and D (3 escalations)
    team = parse_filters({"from": "2025-01-06", "to": "2025-01-12", "team": "identity-access"}, time_zone=VIEWER_ZONE)
    narrowed = dashboard(tickets=Ticket.objects.filter(is_restricted=False), filters=team, now=NOW)
    assert narrowed["escalation"]["escalations"] == 2
    assert narrowed["tickets"]["created"] == 1
    # the cleared viewer still sees C
    assert dashboard(tickets=Ticket.objects.all(), filters=filters, now=NOW)["escalation"]["escalations"] == 3


def test_an_agent_scope_reads_the_records_of_the_period_without_joining_every_ticket():
    """With no ticket filter, the records and escalations of an agent's scope are chosen without the
    ticket table (cleared) or by leaving out the restricted tickets (not cleared); a filter joins."""
    from escalation.metrics.figures import scoped_escalations, scoped_records

    everything = parse_filters({}, time_zone=VIEWER_ZONE, today=date(2025, 1, 12))
    cleared = str(scoped_records(Ticket.objects.all(), everything).query)
    assert "tickets_ticket" not in cleared
    uncleared = str(scoped_escalations(Ticket.objects.filter(is_restricted=False), everything).query)
    restricted = '(SELECT U0."id" AS "pk" FROM "tickets_ticket" U0 WHERE U0."is_restricted")'
    assert f'WHERE NOT ("escalation_escalation"."ticket_id" IN {restricted}) ORDER BY' in uncleared
    filtered = parse_filters({"priority": "P1"}, time_zone=VIEWER_ZONE, today=date(2025, 1, 12))
    joined = str(scoped_records(Ticket.objects.filter(is_restricted=False), filtered).query)
    assert joined.endswith(
        'WHERE "sla_slarecord"."ticket_id" IN (SELECT U0."id" AS "pk" FROM "tickets_ticket" U0 '
        'WHERE (NOT U0."is_restricted" AND U0."priority" = P1))'
    )
    # any other scope (here: one requester's) keeps the join, whatever the filters
    mine = str(scoped_records(Ticket.objects.filter(requester_id=1), everything).query)
    assert mine.endswith(
        'WHERE "sla_slarecord"."ticket_id" IN (SELECT U0."id" AS "pk" FROM "tickets_ticket" U0 WHERE U0."requester_id" = 1)'
    )


def test_hours_and_days_are_local_across_the_autumn_clock_change(requester, category):
    """The created tickets are counted once, per local hour (with its day): on 2 November 2025 New York's
    clocks went back at 06:00 UTC, so 01:00–02:00 local happened twice."""
    import time_machine

    from tests.factories import make_ticket

    from .conftest import at

    for when in (
        at(2, 5, 30, month=11),  # 01:30 EDT (UTC−4)
        at(2, 6, 30, month=11),  # 01:30 EST (UTC−5): the same local hour, an hour later
        at(3, 4, 30, month=11),  # 23:30 EST on 2 November
        at(3, 5, 30, month=11),  # 00:30 EST on 3 November: outside a one-day period
    ):
        with time_machine.travel(when, tick=False):
            make_ticket(requester=requester, category=category)
    filters = parse_filters({"from": "2025-11-02", "to": "2025-11-02"}, time_zone=VIEWER_ZONE)
    figures = dashboard(tickets=Ticket.objects.all(), filters=filters, now=at(4, 12, month=11))
    hours = {row["hour"]: row["tickets"] for row in figures["volume"]["by_hour"] if row["tickets"]}
    assert hours == {1: 2, 23: 1}
    assert [(row["day"], row["created"]) for row in figures["trend"]] == [("2025-11-02", 3)]
    assert figures["tickets"]["created"] == 3
    assert [(row["site"], row["tickets"]) for row in figures["volume"]["by_site"]] == [("london", 3)]


def test_days_and_hours_are_local_in_a_half_hour_zone(requester, category, agent):
    """India is UTC+05:30: 18:29 UTC is 23:59 on one local day, 18:31 UTC 00:01 on the next."""
    import time_machine

    from tests.factories import make_ticket
    from tickets import services

    from .conftest import at

    for when in (at(5, 18, 29, month=3), at(5, 18, 31, month=3)):
        with time_machine.travel(when, tick=False):
            ticket = make_ticket(requester=requester, category=category)
        with time_machine.travel(when, tick=False):
            services.ticket_resolve(ticket_id=ticket.pk, resolution="Done.", acting_user=agent)
    filters = parse_filters({"from": "2025-03-05", "to": "2025-03-06"}, time_zone="Asia/Kolkata")
    figures = dashboard(tickets=Ticket.objects.all(), filters=filters, now=at(7, 12, month=3))
    assert [(row["day"], row["created"], row["resolved"]) for row in figures["trend"]] == [
        ("2025-03-05", 1, 1),
        ("2025-03-06", 1, 1),
    ]
    hours = {row["hour"]: row["tickets"] for row in figures["volume"]["by_hour"] if row["tickets"]}
    assert hours == {23: 1, 0: 1}


@pytest.mark.parametrize(
    "zone, first_day",
    [
        ("America/New_York", date(2026, 3, 1)),  # clocks forward 8 March, back 1 November
        ("America/New_York", date(2026, 10, 20)),
        ("Australia/Lord_Howe", date(2026, 9, 20)),  # a half-hour clock change
        ("Asia/Kathmandu", date(2026, 1, 1)),  # UTC+05:45
        ("Europe/Paris", date(1911, 2, 1)),  # local mean time until 11 March 1911
    ],
)
def test_the_period_cut_into_local_hours_as_each_instant_reads_locally(zone, first_day):
    """MetricsFilter.local_hours against the definition: every minute of the period, read on the viewer's clock."""
    import zoneinfo
    from datetime import UTC, timedelta

    from escalation.metrics.filters import MetricsFilter

    filters = MetricsFilter(
        date_from=first_day, date_to=first_day + timedelta(days=59), time_zone=zoneinfo.ZoneInfo(zone)
    )
    starts, labels = [], []
    minute = filters.start.astimezone(UTC)
    while minute < filters.end:
        local = minute.astimezone(filters.time_zone)
        if not labels or (local.date(), local.hour) != labels[-1]:
            starts.append(minute)
            labels.append((local.date(), local.hour))
        minute += timedelta(minutes=1)
    if zone == "Europe/Paris":  # Paris was UTC+00:09:21: its hours did not start on a quarter hour
        assert filters.local_hours is None and filters.local_days is None
        return
    assert filters.local_hours == (tuple(starts), tuple(labels))
    day_starts = [
        start
        for start, label, previous in zip(starts, labels, [None, *labels[:-1]], strict=True)
        if previous is None or label[0] != previous[0]
    ]
    assert filters.local_days == (tuple(day_starts), tuple(sorted({day for day, _hour in labels})))
