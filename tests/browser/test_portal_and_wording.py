"""The requester's side and plain language in a real browser: suggestions while typing (debounced,
on screen at 768 px, an opened article counted as deflection), requester-worded statuses, a
timeline of labels with one "Notified N people" line per event."""

import re

import pytest
from playwright.sync_api import expect

from escalation import services as escalation_services
from escalation.models import EscalationPath
from knowledgebase import selectors as kb_selectors
from knowledgebase.models import SuggestionShown
from tests.factories import make_article, make_ticket
from tickets import services
from tickets.models import Ticket
from tickets.notifications import delivery
from tickets.notifications.models import Notification

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_portal_suggests_while_typing_on_screen_at_768_and_counts_the_deflection(
    page, live_server, requester, agent, category
):
    article = make_article(
        author=agent,
        title="Locked out of your account",
        body="If you are **locked out**, wait 15 minutes or use the self-service unlock page.",
        category=category,
        public=True,
    )
    page.set_viewport_size({"width": 768, "height": 720})  # a small tablet window
    sign_in(page, live_server, requester)
    page.goto(f"{live_server.url}/portal/new/")
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/kb/suggest/" in request.url else None)

    # typed at a person's pace (a key every 60 ms): the 500 ms debounce asks once, at the end
    page.get_by_label("Summary").type("I am locked out", delay=60)
    link = page.locator("#portal-suggestions a", has_text=article.title)
    expect(link).to_be_visible()
    assert len(asked) == 1, asked
    assert "title=I%20am%20locked%20out" in asked[0]
    expect(page.locator("#portal-suggestions .kb-snippet")).not_to_contain_text("**")  # rendered, not markdown

    # where the requester is looking: on screen without scrolling, not below the form
    assert page.evaluate("window.scrollY") == 0
    box = link.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 720, box
    send = page.get_by_role("button", name="Send request").bounding_box()
    assert box["y"] < send["y"]  # beside the form, not after it
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    # leaving with the article instead of a ticket is the deflection the product counts
    link.click()
    page.wait_for_url(re.compile(r"/kb/articles/\d+/\?shown=\d+$"))
    expect(page.locator("h1")).to_contain_text(article.title)
    assert kb_selectors.deflection_stats().left_with_article == 1
    assert SuggestionShown.objects.get(article=article).opened_at is not None
    assert not Ticket.objects.exists()


def test_requester_wording_and_agent_timeline_labels(
    page, live_server, requester, agent, engineer, other_engineer, category, identity_team
):
    EscalationPath.objects.create(
        name="Too slow → Identity", category=category, trigger="time_exceeded", to_queue=identity_team
    )
    ticket = make_ticket(requester=requester, category=category, acting_user=agent, title="Locked out since Monday")
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=agent)
    # the sweep's automatic escalation: nobody wrote the handoff, so most of it is missing
    escalation_services.ticket_escalate(
        ticket_id=ticket.pk,
        trigger="time_exceeded",
        handoff=escalation_services.handoff_from_ticket(ticket=ticket),
        acting_user=None,
        automatic=True,
    )
    delivery.deliver_due()  # the worker sends the e-mails: each delivery is recorded on the ticket
    escalated = ticket.events.get(kind="escalated")
    assert escalated.data["missing_fields"]  # codes such as steps_tried are stored…
    told = set(Notification.objects.filter(event=escalated).values_list("recipient", flat=True)) - {None}
    assert told == {agent.pk, engineer.pk, other_engineer.pk}  # the owner to complete it, the team to act

    # --- the requester reads where their request is, in their words
    sign_in(page, live_server, requester)
    page.goto(f"{live_server.url}/portal/?show=all")
    expect(page.locator("main")).to_contain_text("With our specialist team")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    main = page.locator("main")
    expect(main).to_contain_text("With our specialist team")
    expect(main).to_contain_text("Passed to our specialist team")
    expect(main).not_to_contain_text("Tier 2")
    expect(main).not_to_contain_text("identity-access")

    # --- the agent's timeline: labels, not codes, and one "Notified" line per event
    page.context.clear_cookies()
    sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    body = page.locator("body")
    expect(page.locator(".timeline")).to_contain_text(
        "Automatically, for time exceeded: Service Desk → Identity & Access"
    )
    expect(page.locator(".timeline")).to_contain_text("Still missing: ")
    for code in ("Missing: steps_tried", "steps_tried", "error_evidence", "affected_scope", "time_exceeded"):
        expect(body).not_to_contain_text(code)
    expect(page.locator(".timeline")).not_to_contain_text("Notification sent")
    escalation_item = page.locator(".timeline .tl-escalated")
    expect(escalation_item.locator(".reason", has_text="Notified")).to_have_count(1)
    expect(escalation_item).to_contain_text("Notified 3 people")
    items = page.locator(".timeline .tl-item")
    for index in range(items.count()):
        assert items.nth(index).locator(".reason", has_text="Notified").count() <= 1
