"""The outbox: rows written with the event, delivered outside the transaction, retried, never twice."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.utils import timezone

from tests.factories import UserFactory, make_ticket
from tickets import roles, services
from tickets.models import EventKind
from tickets.notifications import delivery
from tickets.notifications.models import DeliveryStatus, Notification, NotificationChannel
from tickets.notifications.services import preferences_set
from tickets.notifications.tasks import notifications_deliver_task, notifications_redeliver_task


class FlakyEmailBackend(EmailBackend):
    """Our test double for an SMTP server that refuses the first connection(s)."""

    failures_left = 0

    def send_messages(self, messages):
        if FlakyEmailBackend.failures_left > 0:
            FlakyEmailBackend.failures_left -= 1
            raise ConnectionRefusedError("SMTP server unavailable")
        return super().send_messages(messages)


@pytest.fixture
def flaky_smtp(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_outbox.FlakyEmailBackend"
    FlakyEmailBackend.failures_left = 1
    yield FlakyEmailBackend
    FlakyEmailBackend.failures_left = 0


@pytest.fixture
def ticket(requester, category, agent):
    return make_ticket(requester=requester, category=category)


def test_assignment_writes_in_app_and_email_rows_with_the_event(ticket, agent, manager):
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)

    rows = Notification.objects.filter(ticket=ticket, kind="assigned").order_by("channel")
    event = ticket.events.get(kind=EventKind.ASSIGNED)
    assert [(r.channel, r.recipient, r.status, r.event_id) for r in rows] == [
        (NotificationChannel.EMAIL, agent, DeliveryStatus.PENDING, event.pk),
        (NotificationChannel.IN_APP, agent, DeliveryStatus.SENT, event.pk),
    ]
    email = rows[0]
    assert email.subject == f"{ticket.reference} was assigned to you"
    assert email.message_id.startswith("<notification.") and email.message_id.endswith("@localhost>")


def test_an_event_rolled_back_leaves_no_notification(ticket, agent, manager):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
        assert Notification.objects.filter(kind="assigned").count() == 2  # written inside the transaction
        raise RuntimeError("the action failed after the event was recorded")

    assert not Notification.objects.filter(kind="assigned").exists()
    assert not ticket.events.filter(kind=EventKind.ASSIGNED).exists()


def test_the_same_event_notified_twice_is_one_row_per_channel(ticket, agent, manager):
    from tickets.notifications.services import notify

    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    event = ticket.events.get(kind=EventKind.ASSIGNED)

    notify(event=event, kind="assigned", recipients=[agent, agent])

    assert Notification.objects.filter(event=event).count() == 2


def test_delivery_is_enqueued_on_commit_and_sends_the_email(
    ticket, agent, manager, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the per-row task runs in-process on publish
    from helpdesk.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    finally:
        app.conf.task_always_eager = False

    row = Notification.objects.get(kind="assigned", channel=NotificationChannel.EMAIL)
    assert row.status == DeliveryStatus.SENT and row.attempts == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [agent.email]
    assert ticket.reference in sent.subject
    assert sent.extra_headers["Message-ID"] == row.message_id
    assert sent.extra_headers["X-Handoff-Loop"] == "localhost"
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    html = sent.alternatives[0][0]
    assert f"/tickets/{ticket.pk}/" in sent.body or "http://127.0.0.1:8000" in sent.body
    assert "http://127.0.0.1:8000" in html
    # the timeline says it was sent
    assert ticket.events.filter(kind=EventKind.NOTIFIED, data__channel="email").count() == 1


def test_delivery_is_retried_after_a_transport_failure_and_sent_once(ticket, agent, manager, flaky_smtp, settings):
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    row = Notification.objects.get(kind="assigned", channel=NotificationChannel.EMAIL)
    start = timezone.now()

    # when: the first attempt meets a dead SMTP server
    with time_machine.travel(start, tick=False):
        assert delivery.delivery_attempt(row.pk) == DeliveryStatus.PENDING
    row.refresh_from_db()
    assert row.attempts == 1
    assert "SMTP server unavailable" in row.last_error
    assert row.next_attempt_at == start + timedelta(seconds=30)  # base × 2^0
    assert mail.outbox == []

    # the sweep does not retry before the backoff is over
    with time_machine.travel(start + timedelta(seconds=29), tick=False):
        assert notifications_redeliver_task.apply().get()["claimed"] == 0

    # then: the retry succeeds, and later sweeps / duplicate tasks send nothing more
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        counts = notifications_redeliver_task.apply().get()
        assert counts["claimed"] == 1 and counts["sent"] == 1
        assert notifications_redeliver_task.apply().get()["claimed"] == 0
        assert notifications_deliver_task.apply(args=[row.pk]).get() is None
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 2, "")
    assert len(mail.outbox) == 1


def test_backoff_doubles_and_the_row_fails_after_the_last_attempt(ticket, agent, manager, flaky_smtp, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    flaky_smtp.failures_left = 99
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    row = Notification.objects.get(kind="assigned", channel=NotificationChannel.EMAIL)
    moment = timezone.now()
    waits = []
    for _ in range(3):
        with time_machine.travel(moment, tick=False):
            delivery.delivery_attempt(row.pk)
        row.refresh_from_db()
        waits.append((row.next_attempt_at - moment).total_seconds())
        moment = row.next_attempt_at
    assert waits[:2] == [30, 60]
    assert row.status == DeliveryStatus.FAILED and row.attempts == 3
    assert mail.outbox == []


def test_a_row_stuck_in_sending_is_reclaimed_after_the_timeout(ticket, agent, manager, settings):
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    row = Notification.objects.get(kind="assigned", channel=NotificationChannel.EMAIL)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert delivery.claim_one(row.pk) is not None  # a worker claimed it, then was killed

    with time_machine.travel(start + timedelta(seconds=599), tick=False):
        assert delivery.deliver_due()["claimed"] == 0  # still someone else's
    with time_machine.travel(start + timedelta(seconds=601), tick=False):
        assert delivery.deliver_due()["sent"] == 1

    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert len(mail.outbox) == 1


def test_the_recovery_task_sends_what_the_broker_never_got(ticket, agent, manager, engineer):
    # given: three events committed while no task was ever published (broker down, on_commit never ran)
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    services.ticket_comment_add(
        ticket_id=ticket.pk, body="Rebooted it; same error.", public=True, acting_user=ticket.requester
    )
    services.ticket_assign(ticket_id=ticket.pk, assignee=engineer, acting_user=manager)
    pending = Notification.objects.filter(channel=NotificationChannel.EMAIL, status=DeliveryStatus.PENDING)
    assert pending.count() == 2  # assigned ×2 (requester_replied is in-app only by default)

    counts = notifications_redeliver_task.apply().get()

    assert counts == {"claimed": 2, "sent": 2, "pending": 0, "failed": 0}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([agent.email, engineer.email])
    assert notifications_redeliver_task.apply().get()["claimed"] == 0


def test_preferences_switch_channels_per_kind(ticket, agent, manager):
    preferences_set(acting_user=agent, choices={("assigned", "email"): False, ("requester_replied", "email"): True})

    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    services.ticket_comment_add(ticket_id=ticket.pk, body="Any news?", public=True, acting_user=ticket.requester)

    assert set(Notification.objects.filter(recipient=agent).values_list("kind", "channel")) == {
        ("assigned", "in_app"),
        ("requester_replied", "in_app"),
        ("requester_replied", "email"),
    }


def test_inactive_and_emailless_people_get_no_email(ticket, manager):
    quiet = UserFactory(username="quiet", email="", role=roles.TIER1_AGENT)
    services.ticket_assign(ticket_id=ticket.pk, assignee=quiet, acting_user=manager)
    assert list(Notification.objects.filter(recipient=quiet).values_list("channel", flat=True)) == ["in_app"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_row_send_it_once(requester, category, agent, manager):
    ticket = make_ticket(requester=requester, category=category)
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    row = Notification.objects.get(kind="assigned", channel=NotificationChannel.EMAIL)
    barrier = threading.Barrier(4)
    results = []

    def worker(sweep: bool):
        try:
            barrier.wait()
            results.append(
                delivery.deliver_due()["sent"] if sweep else int(delivery.delivery_attempt(row.pk) == "sent")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(results) == 1
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 1)


# --- delivery by chunks: one task message for many rows ---------------------------------


@pytest.fixture
def five_emails(requester, category, agent, manager):
    """Five pending email rows (five tickets assigned), oldest first."""
    for index in range(5):
        ticket = make_ticket(requester=requester, category=category, title=f"Printer {index} jams")
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, acting_user=manager)
    return list(
        Notification.objects.filter(kind="assigned", channel=NotificationChannel.EMAIL)
        .order_by("id")
        .values_list("id", flat=True)
    )


def test_rows_are_published_in_chunks_and_each_is_sent_once(five_emails, monkeypatch):
    from celery import current_app

    from tickets.notifications import services as notification_services
    from tickets.notifications.tasks import notifications_deliver_many_task

    published = []
    monkeypatch.setattr(notification_services, "DELIVERY_CHUNK", 2)
    monkeypatch.setattr(
        current_app.tasks[notification_services.DELIVER_TASK],
        "apply_async",
        lambda args, **options: published.append(args[0]),
    )

    assert notification_services.enqueue_deliveries(five_emails) == 5

    assert published == [five_emails[0:2], five_emails[2:4], five_emails[4:]]  # 3 messages, not 5
    for chunk in published:
        assert notifications_deliver_many_task.apply(args=[chunk]).get()["sent"] == len(chunk)
    # a message delivered twice (a worker redelivery, a late publish) sends nothing more
    assert notifications_deliver_many_task.apply(args=[five_emails]).get()["skipped"] == 5
    assert len(mail.outbox) == 5
    assert set(Notification.objects.filter(pk__in=five_emails).values_list("status", "attempts")) == {
        (DeliveryStatus.SENT, 1)
    }


def test_a_row_that_fails_in_a_chunk_is_retried_later_and_the_others_go_on(five_emails, flaky_smtp):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        counts = delivery.deliver_many(five_emails)
    assert (counts["pending"], counts["sent"]) == (1, 4)  # the first met the dead SMTP server
    first = Notification.objects.get(pk=five_emails[0])
    assert (first.status, first.attempts) == (DeliveryStatus.PENDING, 1)
    assert first.next_attempt_at == start + timedelta(seconds=30)

    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert notifications_redeliver_task.apply().get() == {"claimed": 1, "sent": 1, "pending": 0, "failed": 0}
        assert delivery.deliver_many(five_emails)["skipped"] == 5

    assert len(mail.outbox) == 5
    assert sorted(Notification.objects.filter(pk__in=five_emails).values_list("attempts", flat=True)) == [1, 1, 1, 1, 2]


def test_a_row_that_raises_in_a_chunk_is_left_to_the_redelivery_sweep(five_emails, monkeypatch, settings):
    real = delivery._deliver_claimed

    def crashing(notification_id, claimed_at):
        if notification_id == five_emails[2]:
            raise RuntimeError("the worker's database connection dropped")
        return real(notification_id, claimed_at)

    monkeypatch.setattr(delivery, "_deliver_claimed", crashing)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert delivery.deliver_many(five_emails) == {"skipped": 1, "sent": 4, "pending": 0, "failed": 0}
    monkeypatch.setattr(delivery, "_deliver_claimed", real)

    # claimed but never finished: someone else's until the sending timeout, then the sweep's
    with time_machine.travel(start + timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS + 1), tick=False):
        assert delivery.deliver_due()["sent"] == 1
    assert len(mail.outbox) == 5


def test_a_message_for_one_row_published_before_chunks_is_still_delivered(five_emails):
    from celery import current_app

    # the per-row task stays registered for messages still in the broker when workers upgrade
    task = current_app.tasks["tickets.notifications.tasks.notifications_deliver_task"]
    assert task.apply(args=[five_emails[0]]).get() == DeliveryStatus.SENT
    assert len(mail.outbox) == 1
