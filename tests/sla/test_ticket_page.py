"""The ticket page shows the ticket's SLA clocks: stage, countdown or outcome, and the resolution's tier split."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from escalation.sla.sweep import sla_sweep
from tests.factories import make_ticket
from tickets import services as ticket_services

from .conftest import make_policy

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # a Monday; the policy is 24×7 anyway


@pytest.fixture
def policy(always):
    return make_policy(
        name="Standard 24×7", calendar=always, is_default=True, first_response_minutes=60, resolution_minutes=240
    )


@pytest.fixture
def ticket(policy, requester, category, agent):
    with time_machine.travel(T0, tick=False):
        return make_ticket(requester=requester, category=category, acting_user=agent, title="Cannot print payslips")


def clocks(client, ticket):
    response = client.get(reverse("ticket-detail", args=[ticket.pk]))
    assert response.status_code == 200
    return {clock.label: clock for clock in response.context["sla_clocks"]}, response.content.decode()


def test_met_first_response_and_running_resolution_with_the_tier_split(client, agent, ticket):
    with time_machine.travel(T0 + timedelta(minutes=48), tick=False):
        ticket_services.ticket_comment_add(
            ticket_id=ticket.pk, body="Looking at it now.", public=True, acting_user=agent
        )
    with time_machine.travel(T0 + timedelta(minutes=70), tick=False):
        ticket_services.ticket_set_pending(ticket_id=ticket.pk, reason="Which printer?", acting_user=agent)
    with time_machine.travel(T0 + timedelta(minutes=90), tick=False):
        ticket_services.ticket_resume(ticket_id=ticket.pk, reason="", acting_user=agent)
    client.force_login(agent)

    with time_machine.travel(T0 + timedelta(minutes=100), tick=False):
        by_label, html = clocks(client, ticket)

    first, resolution = by_label["First response"], by_label["Resolution"]
    # responded at 48 min against a 60 min target
    assert (first.stage, first.text) == ("met", "met 12 min early")
    # 240 min target + 20 min paused = due at 260 min; at 100 min that is 160 min away
    assert (resolution.stage, resolution.text) == ("running", "due in 2 h 40 min")
    split = {part.label: part.seconds for part in resolution.split}
    assert split == {"Tier 1": 80 * 60, "Paused": 20 * 60}
    assert "First response met 12 min early" in html
    assert "Resolution due in 2 h 40 min" in html
    assert 'class="tier-bar"' in html
    assert "seg-tier1" in html and "seg-paused" in html


def test_a_breached_resolution_says_how_long_overdue(client, agent, ticket):
    with time_machine.travel(T0 + timedelta(minutes=280), tick=False):
        sla_sweep()
    client.force_login(agent)

    with time_machine.travel(T0 + timedelta(minutes=300), tick=False):
        by_label, html = clocks(client, ticket)

    # due at 240 min; at 300 min it is 60 min overdue — the same words as every countdown chip
    assert (by_label["Resolution"].stage, by_label["Resolution"].text) == ("breached", "breached · overdue 1 h")
    assert (by_label["First response"].stage, by_label["First response"].text) == ("breached", "breached · overdue 4 h")
    assert "chip-overdue" in html


def test_a_paused_clock_says_it_waits_on_the_requester(client, agent, ticket):
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        ticket_services.ticket_set_pending(ticket_id=ticket.pk, reason="Which printer?", acting_user=agent)
    client.force_login(agent)

    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        by_label, _html = clocks(client, ticket)

    assert by_label["Resolution"].stage == "paused"
    assert by_label["Resolution"].text == "paused · waiting on the requester"


def test_requester_does_not_see_the_sla_panel(client, requester, ticket):
    client.force_login(requester)

    response = client.get(reverse("ticket-detail", args=[ticket.pk]))

    assert "sla_clocks" not in response.context
    assert 'class="card sla-panel"' not in response.content.decode()


# The workspace's ticket page budget (tests/tickets/test_pages.py) plus what this panel adds, independent of rows:
# one query for the records and three for a business-hours schedule (calendar, intervals, holidays).
TICKET_PAGE_BUDGET = 21 + 1 + 3


@pytest.mark.parametrize("count", [3, 30])
def test_ticket_page_with_clocks_on_office_hours_keeps_its_query_budget(
    client, django_assert_max_num_queries, office_hours, requester, category, agent, count
):
    make_policy(
        name="Office", calendar=office_hours, is_default=True, first_response_minutes=60, resolution_minutes=240
    )
    with time_machine.travel(T0, tick=False):
        ticket = make_ticket(requester=requester, category=category, acting_user=agent)
        for n in range(count):
            ticket_services.ticket_comment_add(ticket_id=ticket.pk, body=f"Reply {n}", public=True, acting_user=agent)
    client.force_login(agent)

    with (
        time_machine.travel(T0 + timedelta(minutes=30), tick=False),
        django_assert_max_num_queries(TICKET_PAGE_BUDGET),
    ):
        response = client.get(reverse("ticket-detail", args=[ticket.pk]))

    assert response.status_code == 200
    assert [clock.label for clock in response.context["sla_clocks"]] == ["First response", "Resolution"]


def test_met_early_counts_business_time_not_the_weekend(client, agent, requester, category, office_hours):
    make_policy(name="Office", calendar=office_hours, is_default=True, first_response_minutes=60)
    friday_late = datetime(2025, 3, 7, 16, 50, tzinfo=UTC)  # 16:50 in London (GMT), 10 business min left
    with time_machine.travel(friday_late, tick=False):
        ticket = make_ticket(requester=requester, category=category, acting_user=agent)
    answered = friday_late + timedelta(minutes=5)  # 5 of 60 business minutes used; due Monday 09:50
    with time_machine.travel(answered, tick=False):
        ticket_services.ticket_comment_add(ticket_id=ticket.pk, body="On it.", public=True, acting_user=agent)
    client.force_login(agent)

    with time_machine.travel(answered + timedelta(minutes=5), tick=False):
        by_label, _ = clocks(client, ticket)

    assert by_label["First response"].text == "met 55 min early"  # not the wall-clock "2 d early"
