"""Escalation fixtures: paths for the persona teams, a checklist, a Tier 1 ticket with a complete handoff."""

import pytest

from escalation.models import ChecklistItem, EscalationPath, Trigger
from escalation.services import Handoff
from tests.factories import QueueFactory, make_ticket
from tickets import services as ticket_services
from tickets.models import Tier

TITLE = "Laptop will not start"


@pytest.fixture
def network_team(db):
    return QueueFactory(name="Network", slug="network", tier=Tier.TWO)


@pytest.fixture
def paths(category, identity_team, security_team, network_team, engineer):
    """account-access → Identity & Access for every trigger; security → Security; anything else → Network."""
    identity_team.lead = engineer
    identity_team.save(update_fields=["lead"])
    made = {}
    for trigger in Trigger.values:
        if trigger == Trigger.SECURITY_CONCERN:
            continue
        made[trigger] = EscalationPath.objects.create(
            name=f"Account access {trigger}", category=category, trigger=trigger, to_queue=identity_team, owner=engineer
        )
    made[Trigger.SECURITY_CONCERN] = EscalationPath.objects.create(
        name="Security", trigger=Trigger.SECURITY_CONCERN, to_queue=security_team
    )
    for trigger in Trigger.values:
        if trigger != Trigger.SECURITY_CONCERN:
            EscalationPath.objects.create(name=f"Default {trigger}", trigger=trigger, to_queue=network_team)
    return made


@pytest.fixture
def checklist(category):
    return ChecklistItem.objects.create(
        category=category, key="account_lock_state", question="Account lock state checked", required=True
    )


def good_handoff(**changes) -> Handoff:
    values = {
        "problem_summary": "Account is locked after repeated MFA prompts the user did not start.",
        "steps_tried": "Checked sign-in logs, confirmed 12 failed MFA attempts, asked the user to deny prompts.",
        "error_evidence": "AADSTS50053: The account is locked.\n\tCorrelation ID: 4f1c2a9e",
        "affected_scope": "individual",
        "affected_count": 1,
        "urgency": "stopped",
        "checklist": {"account_lock_state": "Locked since 08:14 UTC (smart lockout)"},
    }
    values.update(changes)
    return Handoff(**values)


@pytest.fixture
def handoff(checklist):
    return good_handoff()


@pytest.fixture
def ticket(requester, category, agent, paths, checklist):
    """A Tier 1 ticket in the Service Desk, assigned to the agent."""
    ticket = make_ticket(requester=requester, category=category, acting_user=agent, title=TITLE)
    ticket_services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=agent)
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def escalated(ticket, agent, handoff):
    from escalation.services import ticket_escalate

    escalation = ticket_escalate(
        ticket_id=ticket.pk, trigger=Trigger.ACCESS_RESTRICTION, handoff=handoff, acting_user=agent
    )
    ticket.refresh_from_db()
    return escalation
