"""The ticket page's actions in a real browser, by keyboard: Tab reaches each control and Enter acts.

Assign to a named colleague, transfer with a reason, change the category, add a watcher, link a
related ticket, merge a duplicate (both timelines say so), reply and wait in one step.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import CategoryFactory, QueueFactory, UserFactory, make_ticket
from tickets import roles
from tickets.models import Comment, EventKind, Ticket, TicketStatus, Tier
from tickets.notifications.models import Notification

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def colleague(site, service_desk):
    user = UserFactory(username="agent2", first_name="Robin", last_name="Diaz", site=site, role=roles.TIER1_AGENT)
    service_desk.members.add(user)
    return user


@pytest.fixture
def ticket(requester, category, agent):
    return make_ticket(requester=requester, category=category, acting_user=agent, title="Shared drive is read-only")


def open_panel(page, summary: str):
    """Focus the panel's summary and open it with Enter, as a keyboard user does."""
    toggle = page.locator("summary", has_text=summary)
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle.locator("xpath=..")).to_have_attribute("open", "")


def tab_to(page, locator):
    """Tab once and land on the control (the tab order is what a keyboard user gets)."""
    page.keyboard.press("Tab")
    expect(locator).to_be_focused()


def choose(page, select, label: str):
    """A focused <select> picks an option by typing its first letters."""
    page.keyboard.type(label)
    expect(select.locator("option:checked")).to_have_text(label)


def flash(page, text: str):
    expect(page.locator(".messages")).to_contain_text(text)


def test_assign_transfer_and_recategorise_by_keyboard(
    page, live_server, agent, colleague, requester, ticket, service_desk
):
    field_services = QueueFactory(name="Field Services", slug="field-services", tier=Tier.ONE)
    field_services.members.add(colleague)
    CategoryFactory(name="Hardware", slug="hardware", default_queue=service_desk)
    sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")

    # change the category: the ticket is routed again (Hardware lands on the Service Desk)
    open_panel(page, "Change category")
    category = page.locator("#id_category-category")
    tab_to(page, category)
    choose(page, category, "Hardware")
    tab_to(page, page.get_by_role("button", name="Change category"))
    page.keyboard.press("Enter")
    flash(page, "Category is now Hardware; routed to Service Desk.")
    assert Ticket.objects.get(pk=ticket.pk).category.slug == "hardware"
    expect(page.locator(".timeline")).to_contain_text("Category: Account access → Hardware")

    # assign to a named colleague
    open_panel(page, "Assign to a colleague")
    colleague_select = page.locator("#id_assign-assignee")
    tab_to(page, colleague_select)
    choose(page, colleague_select, "Robin Diaz")
    tab_to(page, page.get_by_role("button", name="Assign", exact=True))
    page.keyboard.press("Enter")
    flash(page, "Assigned to Robin Diaz.")
    assert Ticket.objects.get(pk=ticket.pk).assignee == colleague
    assert Notification.objects.filter(ticket=ticket, recipient=colleague, kind="assigned").exists()

    # transfer to another team with a reason (Enter in the reason field sends the form)
    open_panel(page, "Transfer to another team")
    team = page.locator("#id_transfer-queue")
    tab_to(page, team)
    choose(page, team, "Field Services")
    tab_to(page, page.get_by_label("Reason (the receiving team reads it)"))
    page.keyboard.type("Needs someone on site to check the NAS.")
    page.keyboard.press("Enter")
    flash(page, "Transferred to Field Services.")
    moved = Ticket.objects.get(pk=ticket.pk)
    assert (moved.queue, moved.assignee) == (field_services, colleague)  # Robin is in the new team too
    expect(page.locator(".timeline")).to_contain_text("Needs someone on site to check the NAS.")


def test_watch_link_and_merge_by_keyboard(page, live_server, agent, colleague, requester, other_requester, ticket):
    primary = make_ticket(
        requester=other_requester, category=ticket.category, acting_user=agent, title="Shared drive read-only (finance)"
    )
    related = make_ticket(requester=requester, category=ticket.category, acting_user=agent, title="NAS is slow")
    sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")

    # add a watcher: the field, then Enter
    watcher = page.get_by_label("Add a watcher")
    watcher.focus()
    page.keyboard.type("agent2")
    page.keyboard.press("Enter")
    flash(page, "Robin Diaz now watches this ticket.")
    expect(page.locator("section[aria-labelledby=people-title]")).to_contain_text("Robin Diaz")
    assert list(Ticket.objects.get(pk=ticket.pk).watchers.all()) == [colleague]

    # link a related ticket: both timelines say so
    open_panel(page, "Link a related ticket")
    tab_to(page, page.locator("#id_link-ticket"))
    page.keyboard.type(related.reference)
    page.keyboard.press("Enter")
    flash(page, f"Linked to {related.reference}.")
    expect(page.locator("section[aria-labelledby=links-title]")).to_contain_text(related.reference)
    assert related.events.filter(kind=EventKind.LINKED).count() == 1

    # merge this duplicate into the primary: the button is reached by Tab, pressed with Enter
    open_panel(page, "Merge into another ticket")
    tab_to(page, page.locator("#id_merge-ticket"))
    page.keyboard.type(primary.reference)
    tab_to(page, page.get_by_label("Note to the requester (optional)"))
    page.keyboard.type("Same NAS fault as your colleague's.")
    tab_to(page, page.get_by_role("button", name="Merge and close this one"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/tickets/{primary.pk}/$"))
    flash(page, f"{ticket.reference} merged into {primary.reference} and closed.")
    expect(page.locator(".timeline")).to_contain_text(ticket.reference)  # the primary's timeline
    assert primary.events.filter(kind=EventKind.MERGED).count() == 1
    duplicate = Ticket.objects.get(pk=ticket.pk)
    assert (duplicate.status, duplicate.merged_into) == (TicketStatus.CLOSED, primary)

    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.locator("[role=note]")).to_contain_text(f"Merged into {primary.reference}")
    expect(page.locator(".timeline")).to_contain_text(primary.reference)  # the duplicate's timeline
    assert ticket.events.filter(kind=EventKind.MERGED).count() == 1


def test_reply_and_wait_in_one_step_by_keyboard(page, live_server, agent, requester, ticket):
    sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")

    page.keyboard.press("r")  # the composer's shortcut
    expect(page.locator("#reply-body")).to_be_focused()
    page.keyboard.type("Could you send a screenshot of the error?")
    send_and_wait = page.get_by_role("button", name="Send and wait for reply")
    for _ in range(6):  # the visibility choice and the file input come first
        page.keyboard.press("Tab")
        if send_and_wait.evaluate("button => button === document.activeElement"):
            break
    expect(send_and_wait).to_be_focused()
    page.keyboard.press("Enter")

    flash(page, "Reply sent; waiting on the requester.")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING
    reply = Comment.objects.get(ticket=ticket, author=agent)
    assert (reply.body, reply.is_public) == ("Could you send a screenshot of the error?", True)
    assert Notification.objects.filter(ticket=ticket, recipient=requester, kind="public_reply").exists()
    expect(page.locator(".timeline")).to_contain_text("Waiting on requester")
