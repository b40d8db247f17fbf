"""One formatter for deadlines: every page, the timeline, the e-mail and the in-app notification
word the same deadline the same way, in the reader's time zone with the zone named."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from escalation.sla.sweep import sla_sweep
from tests.factories import UserFactory, make_ticket
from tickets import roles
from tickets.durations import relative, sla_event_text, when
from tickets.notifications.delivery import send_email
from tickets.notifications.models import Notification, NotificationChannel

from .conftest import make_policy

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 19, 10, 0, tzinfo=UTC)  # Monday; London is on GMT (UTC+0), New York on EST (UTC−5)


@pytest.fixture
def ticket(always, requester, category, agent, paths, checklist):
    make_policy(name="Standard", calendar=always, is_default=True, first_response_minutes=60, resolution_minutes=240)
    with time_machine.travel(T0, tick=False):
        return make_ticket(requester=requester, category=category, acting_user=agent, title="Cannot print payslips")


def test_moments_name_their_zone():
    moment = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert when(moment, UTC) == "Mon 30 Nov, 16:00 UTC"
    assert when(moment, ZoneInfo("Europe/London")) == "Mon 30 Nov, 16:00 GMT"
    assert when(moment, ZoneInfo("America/New_York")) == "Mon 30 Nov, 11:00 EST"
    assert when(moment, ZoneInfo("Asia/Singapore")) == "Tue 1 Dec, 00:00 Asia/Singapore (UTC+08)"
    assert relative(moment, moment - timedelta(minutes=25)) == "due in 25 min"
    assert relative(moment, moment + timedelta(hours=46)) == "overdue 46 h"


def test_one_deadline_reads_the_same_on_the_ticket_page_the_escalate_page_and_the_timeline(client, agent, ticket):
    # given the resolution (due 14:00 UTC) breached and announced by the sweep
    with time_machine.travel(T0 + timedelta(hours=4, minutes=1), tick=False):
        sla_sweep()
    client.force_login(agent)  # the agent's site is London
    due = "Mon 19 Jan, 14:00 GMT"

    # when the agent looks at it an hour after the deadline
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        page = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
        escalate = client.get(reverse("ticket-escalate", args=[ticket.pk])).content.decode()

    # then every reading says the same: overdue 1 h, due 14:00 London time, zone named
    assert "Resolution breached · overdue 1 h" in page
    assert f"due {due}" in page
    assert f"Resolution was due {due}" in page  # the breach on the timeline
    assert "Resolution overdue 1 h" in escalate
    assert "ago" not in page.split('aria-label="SLA"')[1].split("</div>")[0]
    assert "2026-01-19 14:00" not in page


def test_the_breach_mail_and_in_app_row_give_the_deadline_in_the_readers_zone(client, ticket, category):
    # given a team lead in New York who is told about the breach
    lead = UserFactory(username="lead-ny", time_zone="America/New_York", role=roles.TIER1_AGENT)
    ticket.queue.lead = lead
    ticket.queue.save(update_fields=["lead"])
    with time_machine.travel(T0 + timedelta(hours=4, minutes=1), tick=False):
        sla_sweep()

    email = Notification.objects.get(
        recipient=lead, kind="sla_breached", channel=NotificationChannel.EMAIL, event__data__target="resolution"
    )
    send_email(email)
    assert "Resolution was due Mon 19 Jan, 09:00 EST" in mail.outbox[-1].body

    client.force_login(lead)
    html = client.get(reverse("notification-list")).content.decode()
    assert "Resolution was due Mon 19 Jan, 09:00 EST" in html
    # the stored record names UTC, for the API and webhooks
    event = email.event
    assert event.message == "Resolution was due Mon 19 Jan, 14:00 UTC"
    assert sla_event_text(event.kind, event.data, UTC) == event.message
