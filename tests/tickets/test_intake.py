"""Intake: validation, derived priority, routing decisions and the timeline they leave."""

import pytest

from tickets import services
from tickets.errors import InvalidInput
from tickets.models import (
    Channel,
    EventKind,
    Impact,
    PriorityMatrixCell,
    RoutingRule,
    Ticket,
    TicketEvent,
    TicketStatus,
    Tier,
    Urgency,
)

from ..factories import CategoryFactory, QueueFactory, SiteFactory, make_ticket

pytestmark = pytest.mark.django_db


def test_ticket_created_through_intake_lands_in_tier1_with_timeline(requester, agent, category, service_desk):
    ticket = make_ticket(requester=requester, category=category, acting_user=agent, channel=Channel.PHONE)

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == TicketStatus.NEW
    assert ticket.tier == Tier.ONE
    assert ticket.queue == service_desk
    assert ticket.tier1_queue == service_desk
    assert ticket.reference == f"HD-{ticket.pk:06d}"
    assert ticket.created_by == agent
    assert ticket.assignee == agent  # who took the call owns it
    events = list(ticket.events.order_by("id"))
    assert [e.kind for e in events[:2]] == [EventKind.CREATED, EventKind.ROUTED]
    assert events[0].actor == agent
    assert events[0].data["channel"] == "phone"
    assert "No rule matched" in events[1].message


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (Impact.ORGANIZATION, Urgency.STOPPED, "P1"),
        (Impact.SITE, Urgency.SLOWED, "P2"),
        (Impact.TEAM, Urgency.SLOWED, "P3"),
        (Impact.INDIVIDUAL, Urgency.STOPPED, "P3"),
        (Impact.INDIVIDUAL, Urgency.MINOR, "P4"),
    ],
)
def test_priority_comes_from_the_impact_urgency_matrix(requester, category, impact, urgency, expected):
    ticket = make_ticket(requester=requester, category=category, impact=impact, urgency=urgency)

    assert ticket.priority == expected


def test_an_admin_edit_of_the_matrix_changes_new_tickets(requester, category):
    make_ticket(requester=requester, category=category, impact=Impact.INDIVIDUAL, urgency=Urgency.MINOR)  # cached
    cell = PriorityMatrixCell.objects.get(impact=Impact.INDIVIDUAL, urgency=Urgency.MINOR)
    cell.priority = "P2"
    cell.save()  # as the admin does

    ticket = make_ticket(requester=requester, category=category, impact=Impact.INDIVIDUAL, urgency=Urgency.MINOR)

    assert ticket.priority == "P2"


def test_category_rule_routes_to_its_queue(requester, category, service_desk):
    vip_desk = QueueFactory(name="Desk B", slug="desk-b")
    RoutingRule.objects.create(name="Accounts to desk B", position=1, category=category, target_queue=vip_desk)

    ticket = make_ticket(requester=requester, category=category)

    assert ticket.queue == vip_desk
    routed = ticket.events.get(kind=EventKind.ROUTED)
    assert routed.data["rule"] == "Accounts to desk B"
    assert "category account-access" in routed.message


def test_keyword_rule_matches_title_or_description_and_raises_priority(requester, category, service_desk):
    RoutingRule.objects.create(name="Outages", position=1, keywords="outage, everyone", raise_priority_to="P2")

    hit = make_ticket(
        requester=requester,
        category=category,
        title="Email down",
        description="Looks like EVERYONE on floor 2 lost mail.",
        impact=Impact.INDIVIDUAL,
        urgency=Urgency.MINOR,
    )
    miss = make_ticket(requester=requester, category=category, impact=Impact.INDIVIDUAL, urgency=Urgency.MINOR)

    assert hit.priority == "P2"
    assert hit.queue == service_desk
    assert "keyword “everyone”" in hit.routing_reason
    assert "P4 → P2" in hit.routing_reason
    assert miss.priority == "P4"
    assert miss.routing_rule is None


def test_keyword_rule_never_lowers_priority(requester, category):
    RoutingRule.objects.create(name="Printers", position=1, keywords="printer", raise_priority_to="P3")

    ticket = make_ticket(
        requester=requester,
        category=category,
        title="Printer fire",
        description="The printer is smoking, whole org stopped",
        impact=Impact.ORGANIZATION,
        urgency=Urgency.STOPPED,
    )

    assert ticket.priority == "P1"


def test_vip_rule_routes_vip_requesters_only(requester, other_requester, category, service_desk):
    vip_desk = QueueFactory(name="VIP Desk", slug="vip-desk")
    RoutingRule.objects.create(name="VIPs", position=1, requester_is_vip=True, target_queue=vip_desk)
    requester.is_vip = True
    requester.save()

    vip_ticket = make_ticket(requester=requester, category=category)
    normal_ticket = make_ticket(requester=other_requester, category=category)

    assert vip_ticket.queue == vip_desk
    assert "VIP requester" in vip_ticket.routing_reason
    assert normal_ticket.queue == service_desk


def test_site_and_department_rules(requester, other_requester, category, service_desk):
    berlin = SiteFactory(name="Berlin", slug="berlin", time_zone="Europe/Berlin")
    berlin_desk = QueueFactory(name="Berlin Desk", slug="berlin-desk")
    finance_desk = QueueFactory(name="Finance Desk", slug="finance-desk")
    RoutingRule.objects.create(name="Berlin", position=1, requester_site=berlin, target_queue=berlin_desk)
    RoutingRule.objects.create(name="Finance", position=2, requester_department="finance", target_queue=finance_desk)
    requester.site = berlin
    requester.save()
    other_requester.department = "Finance"
    other_requester.save()

    assert make_ticket(requester=requester, category=category).queue == berlin_desk
    assert make_ticket(requester=other_requester, category=category).queue == finance_desk


def test_first_matching_rule_by_position_wins(requester, category):
    first = QueueFactory(name="First", slug="first")
    second = QueueFactory(name="Second", slug="second")
    RoutingRule.objects.create(name="Second", position=20, category=category, target_queue=second)
    RoutingRule.objects.create(name="First", position=10, category=category, target_queue=first)
    RoutingRule.objects.create(name="Off", position=1, category=category, target_queue=second, is_active=False)

    assert make_ticket(requester=requester, category=category).queue == first


def test_no_rule_falls_back_to_the_category_queue(requester, service_desk):
    network_desk = QueueFactory(name="Network desk", slug="network-desk")
    vpn = CategoryFactory(name="VPN", slug="vpn", default_queue=network_desk)

    ticket = make_ticket(requester=requester, category=vpn)

    assert ticket.queue == network_desk
    assert ticket.routing_reason == "No rule matched; category VPN → queue Network desk."


def test_security_category_restricts_the_ticket(requester, security_category):
    ticket = make_ticket(requester=requester, category=security_category)

    assert ticket.is_restricted


def test_intake_refuses_bad_input_field_by_field_and_creates_nothing(requester, category):
    intake = services.TicketIntake(
        title="Hi",
        description="broken",
        category=category,
        impact="galaxy",
        urgency="whenever",
        requester=requester,
    )

    with pytest.raises(InvalidInput) as refused:
        services.ticket_create(intake=intake, acting_user=requester)

    assert set(refused.value.errors) == {"title", "description", "impact", "urgency"}
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0


def test_timeline_is_append_only(requester, category):
    ticket = make_ticket(requester=requester, category=category)
    event = ticket.events.first()

    event.message = "rewritten history"
    with pytest.raises(Exception, match="append-only"):
        event.save()
    with pytest.raises(Exception, match="append-only"):
        event.delete()
