"""The escalate page and the knowledge base: suggestions before escalating, ticked steps as 'what was tried'."""

import html as html_lib

import pytest
from django.urls import reverse

from escalation.models import Escalation
from knowledgebase.models import SuggestionShown
from tests.factories import make_article, make_playbook

from .test_pages import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def playbook(category):
    return make_playbook(
        category=category,
        name="Laptop power checks",
        steps=[("Hold the power button for 30 seconds", "Fans spin"), ("Try another charger", "Charging light")],
    )


def test_ticked_steps_on_the_ticket_page_prefill_what_was_tried_and_reach_tier2(client, agent, ticket, playbook):
    client.force_login(agent)
    first, second = playbook.steps.order_by("position")
    # given: the agent ticks both steps from the ticket page (plain POST, as without JavaScript)
    for step, outcome, result in ((first, "failed", "No fans at all"), (second, "succeeded", "Charging light on")):
        response = client.post(
            reverse("kb:ticket-step-tick", args=[ticket.pk, step.pk]),
            {"outcome": outcome, "result": result, "next": f"/tickets/{ticket.pk}/"},
        )
        assert response.status_code == 302

    # when: the escalate form opens
    response = client.get(reverse("ticket-escalate", args=[ticket.pk]))

    # then: "what was tried" lists the ticked steps, in playbook order
    expected = "✘ Hold the power button for 30 seconds — No fans at all\n✔ Try another charger — Charging light on"
    assert response.context["form"]["steps_tried"].value() == expected
    assert html_lib.escape(expected, quote=False).split("\n")[0] in response.content.decode()

    # and escalating with it carries the text into the handoff Tier 2 reads
    response = client.post(reverse("ticket-escalate", args=[ticket.pk]), form_data(steps_tried=expected))
    assert response.status_code == 302
    assert Escalation.objects.get(ticket=ticket).steps_tried == expected


def test_escalate_page_asks_for_suggestions_for_this_ticket(client, agent, ticket):
    client.force_login(agent)

    html = client.get(reverse("ticket-escalate", args=[ticket.pk])).content.decode()

    assert "Before you escalate: these might solve it" in html
    assert f"/kb/suggest/?context=escalate&amp;ticket={ticket.pk}&amp;" in html
    assert 'hx-trigger="load"' in html


def test_suggestions_before_escalating_are_recorded_against_the_ticket(client, agent, ticket, category):
    article = make_article(
        author=agent,
        title="Laptop will not start after a BIOS update",
        category=category,
        body="If the power light blinks twice and nothing else happens, drain the battery and reset the BIOS.",
    )
    client.force_login(agent)

    response = client.get(
        "/kb/suggest/",
        {"context": "escalate", "ticket": ticket.pk, "q": f"{ticket.title} {ticket.description}"},
    )

    assert response.status_code == 200
    assert "Before you escalate: these might solve it" in response.content.decode()
    assert "Laptop will not start after a BIOS update" in response.content.decode()
    shown = SuggestionShown.objects.get()
    assert (shown.article, shown.context, shown.ticket, shown.shown_to) == (article, "escalate", ticket, agent)
