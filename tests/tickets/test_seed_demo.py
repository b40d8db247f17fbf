"""seed_demo builds the organization API.md promises, and never touches real data."""

import io

import pytest
from django.core.management import CommandError, call_command

from escalation.models import Escalation
from tickets.models import Category, Queue, Site, Ticket, User

pytestmark = pytest.mark.django_db

API_MD_CATEGORIES = {
    "password-reset",
    "account-access",
    "vpn",
    "network-outage",
    "email",
    "software-install",
    "hardware",
    "security-incident",
}


def test_seed_demo_creates_the_documented_organization():
    out = io.StringIO()

    call_command("seed_demo", demo_tickets=40, tickets=60, stdout=out)

    assert len(set(Site.objects.values_list("time_zone", flat=True))) >= 3
    tier2 = set(Queue.objects.filter(tier=2).values_list("name", flat=True))
    assert {"Network", "Identity & Access", "Applications", "Security"} <= tier2
    assert Queue.objects.filter(tier=1).exists()
    assert set(Category.objects.values_list("slug", flat=True)) >= API_MD_CATEGORIES
    roles = {u.username: set(u.groups.values_list("name", flat=True)) for u in User.objects.all()}
    assert roles["agent1"] == {"Tier 1 agent"}
    assert roles["engineer1"] == {"Tier 2 engineer"}
    assert roles["secops1"] == {"Security engineer"}
    assert roles["manager1"] == {"Manager"}
    assert roles["requester1"] == {"Requester"}
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="engineer1").queues.filter(name="Identity & Access").exists()
    assert all(User.objects.get(username=name).check_password("demo") for name in ("agent1", "manager1"))
    assert Ticket.objects.count() == 100
    assert len(set(Ticket.objects.values_list("status", flat=True))) >= 3
    assert Escalation.objects.exists()
    bulk_escalations = Escalation.objects.filter(ticket__routing_reason="Bulk demo data.")
    assert bulk_escalations.exists()
    assert all(e.ticket.tier == 2 and e.ticket.queue == e.to_queue for e in bulk_escalations)
    assert "password: demo" in out.getvalue()


def test_seed_demo_refuses_a_database_with_data(requester):
    with pytest.raises(CommandError, match="already holds users or tickets"):
        call_command("seed_demo", demo_tickets=5, stdout=io.StringIO())

    assert not User.objects.filter(username="agent1").exists()
