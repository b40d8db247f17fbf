"""End to end: an automatic escalation is completed by its Tier 1 owner from the notification, the
receiving team accepts and rates it, and another Tier 2 team never sees an Accept button."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from escalation.models import Escalation, EscalationPath, Outcome, Trigger
from escalation.services import handoff_from_ticket, ticket_escalate
from tests.factories import QueueFactory, UserFactory, make_ticket
from tickets import roles
from tickets import services as ticket_services
from tickets.models import Ticket, TicketStatus, Tier

from .conftest import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUMMARY = "Windows sign-in on the laptop is refused: the account locks again within a minute of an unlock."
STEPS = "Checked sign-in logs (12 failed MFA in 5 min); unlocked the account in Entra ID (locks again)."
EVIDENCE = "AADSTS50053: The account is locked, you've tried to sign in too many times.\n\tCorrelation ID: 4f1c2a9e"


@pytest.fixture
def auto_escalated(requester, category, agent, engineer, identity_team):
    identity_team.lead = engineer
    identity_team.save(update_fields=["lead"])
    EscalationPath.objects.create(
        name="Account access: time → Identity", category=category, trigger=Trigger.TIME_EXCEEDED, to_queue=identity_team
    )
    ticket = make_ticket(
        requester=requester,
        category=category,
        acting_user=agent,
        title="Keeps getting locked out",
        description="The power light blinks and then it says locked.",
    )
    ticket_services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=agent)
    # the Tier 1 budget ran out: the sweep escalates with what the ticket has
    ticket_escalate(
        ticket_id=ticket.pk,
        trigger=Trigger.TIME_EXCEEDED,
        handoff=handoff_from_ticket(ticket=Ticket.objects.get(pk=ticket.pk)),
        acting_user=None,
        automatic=True,
    )
    return Ticket.objects.get(pk=ticket.pk)


def test_auto_escalation_completed_accepted_and_rated(page, live_server, shoot, auto_escalated, site):
    ticket = auto_escalated
    network = QueueFactory(name="Network", slug="network", tier=Tier.TWO)
    netops = UserFactory(username="netops1", first_name="Ana", last_name="Souza", site=site, role=roles.TIER2_ENGINEER)
    network.members.add(netops)

    # --- Tier 1 owner: the notification links straight to "Complete the handoff"
    log_in(page, live_server, "agent1")
    page.goto(f"{live_server.url}{reverse('notification-list')}")
    link = page.get_by_role("link", name=re.compile(r"escalated automatically: complete the handoff"))
    expect(link).to_be_visible()
    shoot(page, "20-handoff-notification")
    link.click()
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/handoff/$"))
    expect(page.locator(".handoff-missing")).to_contain_text("Evidence, verbatim")
    # a lazy answer is refused on its field; what was typed stays
    page.get_by_label("What was already tried").fill(STEPS)
    page.get_by_label("Evidence, verbatim").fill("see attached")
    page.get_by_role("button", name="Save the handoff").click()
    expect(page.locator(".field.has-error #id_error_evidence")).to_have_count(1)
    assert page.get_by_label("What was already tried").input_value() == STEPS
    shoot(page, "21-complete-handoff-refused")
    page.get_by_label("What is wrong").fill(SUMMARY)
    page.get_by_label("Evidence, verbatim").fill(EVIDENCE)
    page.get_by_role("button", name="Save the handoff").click()
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("Handoff complete")
    expect(page.locator(".handoff-card")).to_contain_text("5 complete")
    escalation = Escalation.objects.get(ticket=ticket)
    # a browser sends textarea lines as CRLF; stored as sent
    assert escalation.missing_fields == [] and escalation.error_evidence == EVIDENCE.replace("\n", "\r\n")
    log_out(page)

    # --- another Tier 2 team sees who can act, never an Accept button
    log_in(page, live_server, "netops1")
    page.goto(f"{live_server.url}{reverse('ticket-detail', args=[ticket.pk])}")
    expect(page.locator(".who-can-act")).to_contain_text("Awaiting Identity & Access")
    expect(page.get_by_role("button", name="Accept escalation")).to_have_count(0)
    shoot(page, "22-other-team-no-accept")
    log_out(page)

    # --- the receiving team accepts from its queue, then rates
    log_in(page, live_server, "engineer1")
    row = page.locator("#tier2-list tr", has_text=ticket.title)
    expect(row).to_contain_text("5 complete")
    shoot(page, "23-tier2-queue-quality")
    row.get_by_role("button", name=f"Accept {ticket.reference}").click()
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    page.get_by_role("link", name="Rate the handoff").click()
    page.get_by_label("4", exact=True).check()
    page.get_by_label("Comment for Tier 1").fill("Exact error and lockout source: saved us the first hour.")
    page.get_by_role("button", name="Save rating").click()
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    card = page.locator(".handoff-card")
    expect(card).to_contain_text("Rated 4/5")
    expect(card).to_contain_text("Accepted")
    shoot(page, "24-handoff-card-rated")
    ticket.refresh_from_db()
    escalation.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and escalation.outcome == Outcome.ACCEPTED and escalation.rating == 4


def test_escalate_form_shows_the_route_prefills_and_refuses_its_own_weak_examples(
    page, live_server, shoot, requester, category, agent, identity_team, engineer
):
    from escalation import substance

    EscalationPath.objects.create(
        name="Account access → Identity", category=category, trigger=Trigger.ACCESS_RESTRICTION, to_queue=identity_team
    )
    ticket = make_ticket(
        requester=requester,
        category=category,
        acting_user=agent,
        title="Finance share",
        impact="team",
        urgency="stopped",
    )
    log_in(page, live_server, "agent1")
    page.goto(f"{live_server.url}{reverse('ticket-escalate', args=[ticket.pk])}")
    # prefilled from the ticket's impact and urgency
    assert page.get_by_label("Who is affected").input_value() == "team"
    assert page.get_by_label("How urgent").input_value() == "stopped"
    # the team the path sends it to, before submitting
    expect(page.locator("#route-preview .route:visible")).to_have_count(0)
    page.get_by_label("Trigger").select_option("access_restriction")
    expect(page.locator("#route-preview .route:visible")).to_have_text(re.compile(r"goes to Identity & Access"))
    # the form's own weak examples, typed in: each refused on its own field, everything kept
    summary, steps, evidence = (substance.WEAK_EXAMPLES[name][0] for name in substance.TEXT_FIELDS)
    page.get_by_label("What is wrong").fill(summary)
    page.get_by_label("What was already tried").fill(steps)
    page.get_by_label("Evidence, verbatim").fill(evidence)
    page.get_by_label("How many people (if known)").fill("1")
    page.get_by_role("button", name="Escalate").click()
    for name in ("problem_summary", "steps_tried", "error_evidence", "affected_count"):
        expect(page.locator(f".field.has-error #id_{name}")).to_have_count(1)
    assert page.get_by_label("What is wrong").input_value() == summary
    expect(page.locator("#route-preview .route:visible")).to_contain_text("Identity & Access")
    shoot(page, "25-escalate-weak-examples-refused")
    assert Ticket.objects.get(pk=ticket.pk).status != TicketStatus.ESCALATED
