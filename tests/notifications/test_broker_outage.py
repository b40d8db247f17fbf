"""Nothing is lost, and no request hangs, while the broker is down.

The "down" phase points Celery at a closed port on 127.0.0.1 (the machine's real
Redis keeps running for everyone else); the "back" phase uses the real REDIS_URL
and a queue of this test's own, consumed the way a worker does.
"""

import os
import socket
import time
import uuid
from contextlib import contextmanager

import pytest
from django.core import mail

from escalation.models import EscalationPath
from tickets.models import TicketStatus
from tickets.notifications import services as notification_services
from tickets.notifications.models import DeliveryStatus, Notification, NotificationChannel
from tickets.notifications.tasks import notifications_redeliver_task


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: connections are refused


@contextmanager
def celery_broker(url: str):
    """Point the Celery app (and its connection pools) at another broker for a while."""
    from helpdesk.celery import app

    def reset_pools():
        # Drop the app's references only: kombu keeps pools in a registry keyed by
        # broker URL, and closing them would break later publishes to the real one.
        app._pool = None
        app.amqp._producer_pool = None
        notification_services.reset_broker_backoff()

    old = app.conf.broker_url
    reset_pools()
    app.conf.broker_url = url
    try:
        yield app
    finally:
        reset_pools()
        app.conf.broker_url = old


HANDOFF = {
    "trigger": "access_restriction",
    "problem_summary": "User cannot open the Finance share after the role change; access denied on every folder.",
    "steps_tried": "Checked group membership in the directory, logged off and on, cleared cached credentials.",
    "error_evidence": "\\\\fs01\\finance is not accessible. Access is denied. (0x80070005)",
    "affected_scope": "individual",
    "urgency": "stopped",
}


@pytest.fixture
def escalation_path(category, identity_team, engineer):
    return EscalationPath.objects.create(
        name="Access to Identity", category=category, trigger="access_restriction", to_queue=identity_team
    )


def create_and_escalate(*, api_for, requester, agent, category, capture):
    """Through the API, timing each request with the on-commit publishing included."""
    timings = {}
    started = time.monotonic()
    with capture(execute=True):
        response = api_for(requester).post(
            "/api/v1/tickets/",
            {
                "title": "Cannot open the Finance share",
                "description": "Access denied on every folder of the Finance share since this morning.",
                "category": category.slug,
                "impact": "individual",
                "urgency": "stopped",
            },
        )
    timings["create"] = time.monotonic() - started
    assert response.status_code == 201, response.json()
    ticket_id = response.json()["id"]
    started = time.monotonic()
    with capture(execute=True):
        response = api_for(agent).post(f"/api/v1/tickets/{ticket_id}/escalate/", HANDOFF)
    timings["escalate"] = time.monotonic() - started
    assert response.status_code in (200, 201), response.json()
    return ticket_id, timings


def test_creating_and_escalating_answer_quickly_with_the_broker_unreachable(
    api_for, requester, agent, engineer, category, escalation_path, django_capture_on_commit_callbacks
):
    with celery_broker(f"redis://127.0.0.1:{closed_port()}/0"):
        ticket_id, timings = create_and_escalate(
            api_for=api_for,
            requester=requester,
            agent=agent,
            category=category,
            capture=django_capture_on_commit_callbacks,
        )

    # measured on the dev machine: ~0.1 s each (one refused connection, no retry loop)
    assert timings["create"] < 1.5 and timings["escalate"] < 1.5, timings
    email = Notification.objects.get(ticket_id=ticket_id, channel=NotificationChannel.EMAIL, recipient=engineer)
    assert (email.kind, email.status, email.attempts) == ("escalated_to_team", DeliveryStatus.PENDING, 0)
    assert mail.outbox == []


def test_the_page_answers_with_the_broker_unreachable(client, agent):
    with celery_broker(f"redis://127.0.0.1:{closed_port()}/0"):
        client.force_login(agent)
        started = time.monotonic()
        response = client.get("/notifications/")
    assert response.status_code == 200
    assert time.monotonic() - started < 1.5


@pytest.mark.redis
def test_notifications_queued_while_redis_was_down_are_delivered_once_it_is_back(
    api_for, requester, agent, engineer, category, escalation_path, django_capture_on_commit_callbacks, settings
):
    # given: Redis unreachable while a ticket is created and escalated
    with celery_broker(f"redis://127.0.0.1:{closed_port()}/0"):
        ticket_id, _ = create_and_escalate(
            api_for=api_for,
            requester=requester,
            agent=agent,
            category=category,
            capture=django_capture_on_commit_callbacks,
        )
    ticket_rows = Notification.objects.filter(ticket_id=ticket_id).exclude(channel=NotificationChannel.IN_APP)
    waiting = list(ticket_rows.values_list("id", flat=True))
    assert waiting and set(ticket_rows.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    from tickets.models import Ticket

    assert Ticket.objects.get(pk=ticket_id).status == TicketStatus.ESCALATED

    # when: Redis is back; beat publishes the sweep, a late on-commit publish repeats the delivery (one
    # message for the rows, a chunk), and a worker consumes everything from the queue
    queue_name = f"handoff-test-notify-{uuid.uuid4().hex[:8]}"
    settings.NOTIFICATIONS_TASK_QUEUE = queue_name
    with celery_broker(os.environ.get("REDIS_URL", settings.CELERY_BROKER_URL)) as app:
        notifications_redeliver_task.apply_async(queue=queue_name, retry=False)
        assert notification_services.enqueue_deliveries(waiting) == len(waiting)
        ran = consume(app, queue_name)

    # then: every row sent exactly once, whatever ran twice
    assert ran == 2
    assert set(ticket_rows.values_list("status", "attempts")) == {(DeliveryStatus.SENT, 1)}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ticket_rows.filter(channel=NotificationChannel.EMAIL).values_list("recipient__email", flat=True)
    )


def consume(app, queue_name: str) -> int:
    """Run what a worker would: each task message in the queue, in order; then drop the queue."""
    ran = 0
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(queue_name)
        try:
            while True:
                try:
                    message = queue.get(timeout=1)
                except queue.Empty:
                    break
                args, kwargs, _ = message.payload
                app.tasks[message.headers["task"]].apply(args=args, kwargs=kwargs).get()
                message.ack()
                ran += 1
        finally:
            queue.clear()
            connection.default_channel.queue_delete(queue_name)
            queue.close()
    return ran
