"""Fidelity and monotonicity of the what-if, on generated histories and on the demo organization.

Generated histories are played through the real services under a travelling clock,
with the sweep running just before each action (as beat does, every minute), so the
live records are what production would hold. Then:

- replaying with no change gives the live dashboard's figures, number for number, and
  flips nothing;
- a tighter target never gives fewer breaches and a looser one never more (the period
  covers the whole history, so no breach can move out of it).
"""

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation import services as escalation_services
from escalation.metrics.filters import parse_filters
from escalation.models import Escalation, Trigger
from escalation.sla.sweep import sla_sweep
from escalation.whatif.replay import Draft
from escalation.whatif.services import what_if
from tests.dashboard.conftest import COMPLETE
from tests.factories import make_ticket
from tickets import services as ticket_services
from tickets.errors import DomainError
from tickets.models import Ticket, User
from tickets.selectors import ticket_list_for

START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
PERIOD = {"from": "2025-01-01", "to": "2025-03-31"}
ACTIONS = ("agent_reply", "requester_reply", "pending", "escalate", "accept", "return", "resolve", "reopen")
SAME = ("sla", "breaches", "automatic_escalations", "trend")

histories = st.lists(
    st.lists(st.tuples(st.integers(min_value=1, max_value=400), st.sampled_from(ACTIONS)), max_size=9),
    min_size=1,
    max_size=3,
)


def act(action, ticket, *, requester, agent, engineer):
    """One lifecycle step through the real service; a step the ticket's state refuses is skipped."""
    calls = {
        "agent_reply": lambda: ticket_services.ticket_comment_add(
            ticket_id=ticket.pk, body="Looking into it.", public=True, acting_user=agent
        ),
        "requester_reply": lambda: ticket_services.ticket_comment_add(
            ticket_id=ticket.pk, body="Any news?", public=True, acting_user=requester
        ),
        "pending": lambda: ticket_services.ticket_set_pending(ticket_id=ticket.pk, reason="Logs?", acting_user=agent),
        "escalate": lambda: escalation_services.ticket_escalate(
            ticket_id=ticket.pk, trigger=Trigger.COMPLEXITY_LIMIT, handoff=COMPLETE, acting_user=agent
        ),
        "accept": lambda: escalation_services.escalation_accept(ticket_id=ticket.pk, acting_user=engineer),
        "return": lambda: escalation_services.escalation_return(
            ticket_id=ticket.pk,
            reason="within_tier1_scope",
            note="Tier 1 can do this.",
            kb_reference="KB: Granting share access",
            acting_user=engineer,
        ),
        "resolve": lambda: ticket_services.ticket_resolve(ticket_id=ticket.pk, resolution="Fixed.", acting_user=agent),
        "reopen": lambda: ticket_services.ticket_reopen(ticket_id=ticket.pk, reason="Again.", acting_user=requester),
    }
    try:
        with transaction.atomic():
            calls[action]()
    except DomainError:
        pass


def sweep(at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        sla_sweep(now=at)


def live_history(plans, *, requester, agent, engineer, category) -> datetime:
    """Play the generated lifecycles, interleaved in time; returns "now" (after the last step)."""
    steps = []
    for index, plan in enumerate(plans):
        moment = START + timedelta(minutes=37 * index)
        steps.append((moment, index, "create"))
        for gap, action in plan:
            moment += timedelta(minutes=gap)
            steps.append((moment, index, action))
    steps.sort(key=lambda s: (s[0], s[1]))
    tickets: dict[int, Ticket] = {}
    for moment, index, action in steps:
        sweep(moment - timedelta(seconds=1))  # beat swept a moment before
        with time_machine.travel(moment, tick=False):
            if action == "create":
                tickets[index] = make_ticket(requester=requester, category=category, title=f"Case {index}")
            else:
                act(action, tickets[index], requester=requester, agent=agent, engineer=engineer)
    now = steps[-1][0] + timedelta(hours=5)
    sweep(now)
    return now


def figures_for(draft: Draft, now: datetime) -> dict:
    filters = parse_filters(PERIOD, time_zone="UTC")
    with time_machine.travel(now, tick=False):
        return what_if(tickets=Ticket.objects.all(), filters=filters, draft=draft, now=now, replay_all=True)


@pytest.fixture
def people(requester, agent, engineer, category, paths, sla_policy):
    return {"requester": requester, "agent": agent, "engineer": engineer, "category": category}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plans=histories,
    target=st.sampled_from(["first_response", "next_response", "resolution", "tier2_accept"]),
    minutes=st.tuples(st.integers(min_value=1, max_value=900), st.integers(min_value=1, max_value=900)),
)
def test_replay_is_faithful_and_monotonic(people, plans, target, minutes):
    with transaction.atomic():
        now = live_history(plans, **people)
        priority = Ticket.objects.values_list("priority", flat=True).first()

        same = figures_for(Draft(), now)
        for key in SAME:
            assert same["proposed"][key] == same["current"][key], key
        assert same["tickets"] == []

        tight, loose = sorted(minutes)
        tighter = figures_for(Draft(changes={(priority, target): tight}), now)["proposed"]
        looser = figures_for(Draft(changes={(priority, target): loose}), now)["proposed"]
        for t_row, l_row in zip(tighter["sla"], looser["sla"], strict=True):
            assert t_row["breached"] >= l_row["breached"], t_row["target"]
            assert t_row["total"] == l_row["total"]  # what is judged is when work stopped: the draft cannot move it
        assert tighter["breaches"]["total"] >= looser["breaches"]["total"]
        assert tighter["breaches"]["tickets_ever_breached"] >= looser["breaches"]["tickets_ever_breached"]
        transaction.set_rollback(True)


def test_demo_organization_replays_to_its_dashboard(db):
    """seed_demo plays the SLA sweep through the history it writes (tickets.demo.at), so its breaches,
    ladder levels and automatic escalations are those production would have recorded: a replay with no
    change gives back every figure, breach counts included, and flips nothing."""
    call_command("seed_demo", demo_tickets=80, stdout=io.StringIO())
    now = datetime.now(UTC)
    sweep(now)  # beat, a moment later
    assert Escalation.objects.filter(is_automatic=True).exists()  # Tier 1 budgets ran out on the way
    for username in ("manager1", "admin"):  # admin is cleared for restricted tickets, manager1 is not
        user = User.objects.get(username=username)
        for days in (7, 90):
            filters = parse_filters(
                {"from": (now - timedelta(days=days - 1)).date().isoformat(), "to": now.date().isoformat()},
                time_zone=user.display_time_zone,
            )
            with time_machine.travel(now, tick=False):
                result = what_if(
                    tickets=ticket_list_for(user), filters=filters, draft=Draft(), now=now, replay_all=True
                )
            assert result["replayed_tickets"] > 0
            assert result["current"]["breaches"]["total"] > 0
            for key in SAME:
                assert result["proposed"][key] == result["current"][key], (username, days, key)
            assert result["tickets"] == [], (username, days)


def test_a_clock_due_since_the_last_sweep_counts_as_the_dashboard_counts_it(db, requester, category):
    """Beat last swept at 08:29; an unanswered first response (30 min, 24×7) fell due at 08:30; the
    manager asks at 08:31. The dashboard has no breach yet (nothing has marked it): neither may a
    replay with no change (it flipped such clocks at 1M tickets, bench/README.md). Once beat runs,
    both count it. A draft still counts what it makes due before the last sweep."""
    from escalation.sla.models import Calendar, SlaPolicy

    always = Calendar.objects.create(name="Always", time_zone="UTC", is_24x7=True)
    SlaPolicy.objects.filter(is_default=True).update(is_default=False)
    SlaPolicy.objects.create(
        name="Standard", is_default=True, calendar=always, first_response_minutes=30, resolution_minutes=480
    )
    with time_machine.travel(START, tick=False):  # 08:00
        ticket = make_ticket(requester=requester, category=category)
    sweep(START + timedelta(minutes=29))
    asked = START + timedelta(minutes=31)

    same = figures_for(Draft(), asked)
    assert same["current"]["breaches"]["total"] == 0
    for key in SAME:
        assert same["proposed"][key] == same["current"][key], key
    assert same["tickets"] == []

    # Due at 08:20 under the draft: the 08:29 sweep would have marked it.
    tighter = figures_for(Draft(changes={(ticket.priority, "first_response"): 20}), asked)
    assert tighter["proposed"]["breaches"]["total"] == 1
    assert [(row["reference"], row["target"]) for row in tighter["tickets"]] == [(ticket.reference, "first_response")]

    sweep(asked)  # beat, at 08:31
    swept = figures_for(Draft(), asked)
    assert swept["current"]["breaches"]["total"] == 1
    assert swept["proposed"]["breaches"]["total"] == 1
    assert swept["tickets"] == []
