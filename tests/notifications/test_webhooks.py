"""Outgoing webhooks against a real HTTP server on 127.0.0.1: signed JSON, retries, one row per endpoint."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from tests.factories import make_ticket
from tickets import services
from tickets.notifications import delivery
from tickets.notifications.models import DeliveryStatus, Notification, NotificationChannel, WebhookEndpoint

SECRET = "s3cret-shared-with-the-chat-tool"


class ChatTool:
    """A tiny HTTP receiver: records each request; answers with the next queued status (default 200)."""

    def __init__(self):
        self.requests = []
        self.statuses = []
        tool = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                tool.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = tool.statuses.pop(0) if tool.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/identity"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def local_receiver_allowed(settings):
    # The receiver listens on 127.0.0.1, which webhooks refuse unless this setting is on.
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def chat_tool():
    with ChatTool() as tool:
        yield tool


@pytest.fixture
def ticket(requester, category, agent):
    return make_ticket(requester=requester, category=category)


@pytest.fixture
def endpoint(chat_tool, service_desk):
    return WebhookEndpoint.objects.create(
        name="Service desk chat", queue=service_desk, url=chat_tool.url, secret=SECRET
    )


def test_the_webhook_body_is_signed_with_the_shared_secret(ticket, agent, manager, endpoint, chat_tool):
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    row = Notification.objects.get(channel=NotificationChannel.WEBHOOK)

    assert delivery.delivery_attempt(row.pk) == DeliveryStatus.SENT

    [request] = chat_tool.requests
    headers, body = request["headers"], request["body"]
    # what an integrator does: HMAC-SHA256 of the raw body with the shared secret
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Handoff-Signature"], expected)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Handoff-Event"] == "assigned"
    assert headers["X-Handoff-Delivery"] == str(row.pk)
    payload = json.loads(body)
    assert payload["timestamp"] == int(headers["X-Handoff-Timestamp"])
    assert payload["kind"] == "assigned"
    assert payload["ticket"]["reference"] == ticket.reference
    assert payload["ticket"]["queue"] == "service-desk"
    assert payload["ticket"]["url"].startswith("http://127.0.0.1:8000/")
    # a tampered body or a wrong secret does not verify
    wrong = "sha256=" + hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(headers["X-Handoff-Signature"], wrong)


def test_a_failing_endpoint_is_retried_with_backoff(ticket, agent, manager, endpoint, chat_tool):
    chat_tool.statuses = [503]
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    row = Notification.objects.get(channel=NotificationChannel.WEBHOOK)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        assert delivery.delivery_attempt(row.pk) == DeliveryStatus.PENDING
    row.refresh_from_db()
    assert "503" in row.last_error

    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert delivery.deliver_due()[DeliveryStatus.SENT] == 2  # the webhook and the email

    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert len(chat_tool.requests) == 2


def test_an_unreachable_endpoint_times_out_and_stays_pending(ticket, agent, manager, service_desk):
    # a port nobody listens on: the connection is refused at once; the row waits for a retry
    endpoint = WebhookEndpoint.objects.create(
        name="Dead", queue=service_desk, url="http://127.0.0.1:9/hook", secret=SECRET, timeout_seconds=1
    )
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    row = Notification.objects.get(webhook=endpoint)
    assert delivery.delivery_attempt(row.pk) == DeliveryStatus.PENDING


def test_a_team_webhook_is_one_row_per_event_whatever_the_recipients(
    ticket, agent, manager, endpoint, chat_tool, service_desk, other_requester
):
    from tests.factories import UserFactory
    from tickets import roles

    second = UserFactory(username="agent2", role=roles.TIER1_AGENT)
    service_desk.members.add(second)
    # a requester reply on an unassigned ticket notifies every team member
    services.ticket_comment_add(
        ticket_id=ticket.pk, body="Still broken after lunch.", public=True, acting_user=ticket.requester
    )

    webhook_rows = Notification.objects.filter(channel=NotificationChannel.WEBHOOK)
    assert webhook_rows.count() == 1
    assert Notification.objects.filter(kind="requester_replied", channel=NotificationChannel.IN_APP).count() == 2
    delivery.deliver_due()
    delivery.deliver_due()
    assert len(chat_tool.requests) == 1


def test_webhooks_follow_their_team_kinds_and_switch(ticket, agent, manager, chat_tool, service_desk, identity_team):
    WebhookEndpoint.objects.create(name="Other team", queue=identity_team, url=chat_tool.url, secret=SECRET)
    WebhookEndpoint.objects.create(name="Off", queue=service_desk, url=chat_tool.url, secret=SECRET, is_active=False)
    WebhookEndpoint.objects.create(
        name="Breaches only", queue=service_desk, url=chat_tool.url, secret=SECRET, kinds=["sla_breached"]
    )
    everything = WebhookEndpoint.objects.create(name="All teams", url=chat_tool.url, secret=SECRET)

    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)

    assert list(Notification.objects.filter(channel=NotificationChannel.WEBHOOK).values_list("webhook", flat=True)) == [
        everything.pk
    ]
