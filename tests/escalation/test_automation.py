"""Entry points compose an action with the trigger rules through escalation.automation, in one transaction."""

import pytest

from escalation import automation
from knowledgebase.models import SuggestionContext, SuggestionShown
from tests.factories import make_article
from tickets import services as ticket_services
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def intake(requester, category):
    return ticket_services.TicketIntake(
        title="VPN drops every ten minutes",
        description="Since this morning the VPN client disconnects every ten minutes.",
        category=category,
        impact="individual",
        urgency="slowed",
        requester=requester,
    )


def test_logging_a_call_claims_the_suggestions_shown_while_typing(requester, category, agent):
    article = make_article(author=agent)
    shown = SuggestionShown.objects.create(article=article, context=SuggestionContext.INTAKE, shown_to=agent)

    ticket = automation.ticket_intake(intake=intake(requester, category), acting_user=agent)

    shown.refresh_from_db()
    assert shown.ticket == ticket


def test_logging_a_call_is_all_or_nothing(requester, category, agent, monkeypatch):
    # given the second half (claiming the suggestions) fails
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(automation.kb_services, "suggestions_attach_to_ticket", broken)
    # when the page logs the call
    with pytest.raises(RuntimeError):
        automation.ticket_intake(intake=intake(requester, category), acting_user=agent)
    # then no ticket and no timeline survive: one transaction
    assert not Ticket.objects.exists()
    assert not TicketEvent.objects.exists()
