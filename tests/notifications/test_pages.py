"""In-app channel pages: the bell, the list, read state, preferences — with query budgets."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from tests.factories import make_ticket
from tickets import services
from tickets.notifications.models import Notification, NotificationChannel, NotificationPreference


@pytest.fixture
def inbox(requester, category, agent, manager):
    """Twelve in-app notifications for the agent, about six tickets."""
    for index in range(6):
        ticket = make_ticket(requester=requester, category=category, title=f"Printer jam number {index}")
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
        services.ticket_comment_add(ticket_id=ticket.pk, body="Still jammed.", public=True, acting_user=requester)
    return Notification.objects.filter(recipient=agent, channel=NotificationChannel.IN_APP)


def render_bell(user):
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load notification_tags %}{% notification_bell %}").render(Context({"request": request}))


def test_the_bell_shows_the_unread_count_in_one_query(inbox, agent, django_assert_num_queries):
    assert inbox.count() == 12
    with django_assert_num_queries(1):
        html = render_bell(agent)
    assert 'class="count">12<' in html


def test_the_list_page_stays_within_its_query_budget(client, inbox, agent, django_assert_max_num_queries):
    client.force_login(agent)
    client.get("/notifications/")  # a warm process: configuration (the viewer's site zone) already cached
    # session + user + groups/permissions for the nav, the page count + rows, which of their tickets the
    # reader may still see (one query for the page), the bell
    with django_assert_max_num_queries(9):
        response = client.get("/notifications/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="notification unread"') == 12
    assert "Printer jam number 5" in page


def test_the_list_shows_only_my_notifications(client, inbox, requester):
    client.force_login(requester)
    page = client.get("/notifications/").content.decode()
    assert "was assigned to you" not in page


def test_marking_one_read_with_htmx_returns_the_row_and_the_bell(client, inbox, agent):
    client.force_login(agent)
    target = inbox.first()

    response = client.post(f"/notifications/{target.pk}/read/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notification-{target.pk}" class="notification"' in html
    assert 'hx-swap-oob="true"' in html and 'class="count">11<' in html
    target.refresh_from_db()
    assert target.read_at is not None


def test_nobody_marks_someone_elses_notification(client, inbox, requester):
    target = inbox.first()
    client.force_login(requester)
    client.post(f"/notifications/{target.pk}/read/")
    target.refresh_from_db()
    assert target.read_at is None


def test_mark_all_read(client, inbox, agent):
    client.force_login(agent)
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302
    assert not inbox.filter(read_at__isnull=True).exists()
    bell = render_bell(agent)
    assert "Notifications: 0 unread" in bell
    assert 'class="count"' not in bell  # no red badge when nothing is unread


def test_preferences_page_saves_choices_different_from_defaults(client, agent):
    client.force_login(agent)
    assert client.get("/notifications/preferences/").status_code == 200
    # untick "assigned by email" (default on), keep everything else at its default
    from tickets.notifications.models import EMAIL_ON_BY_DEFAULT, NotificationKind

    form = {f"{kind}:in_app": "on" for kind in NotificationKind.values}
    form.update({f"{kind}:email": "on" for kind in EMAIL_ON_BY_DEFAULT if kind != "assigned"})

    client.post("/notifications/preferences/", form)

    assert list(NotificationPreference.objects.filter(user=agent).values_list("kind", "channel", "enabled")) == [
        ("assigned", "email", False)
    ]


def test_pages_need_a_login(client):
    assert client.get("/notifications/").status_code == 302
