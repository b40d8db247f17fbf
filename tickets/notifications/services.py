"""Queue notifications in the outbox, inside the caller's transaction.

Delivery happens after commit (a Celery task per row) and again from the
periodic redelivery sweep, so a broker outage delays a notification but never
loses it.
"""

import json
import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tickets.models import Queue, TicketEvent, User
from tickets.selectors import can_see_ticket

from .models import (
    DeliveryStatus,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationPreference,
    WebhookEndpoint,
    channel_default,
)

logger = logging.getLogger(__name__)

SUBJECTS = {
    "assigned": "{ref} was assigned to you",
    "escalated_to_team": "{ref} escalated to your team: {title}",
    "sla_warning": "{ref} is close to its SLA deadline",
    "sla_breached": "{ref} breached its SLA",
    "returned": "{ref} was returned to Tier 1",
    "requester_replied": "The requester replied on {ref}",
    "public_reply": "[{ref}] New reply: {title}",
    "resolved": "[{ref}] Resolved: {title}",
    "reopened": "{ref} was reopened",
    "handoff_incomplete": "{ref} was escalated automatically: complete the handoff",
    "on_call_page": "On call: {ref} needs you now: {title}",
}


def notify(*, event: TicketEvent, kind: str, recipients: Iterable[User | None], body: str = "") -> list[Notification]:
    """Write the outbox rows for one event: in-app and email per recipient (per their
    preferences), plus one row per matching team webhook. Delivery is enqueued on commit.

    In-app rows are delivered by being written (status sent); email and webhook rows
    wait for a worker. Calling twice for the same event adds nothing (unique rows).
    """
    ticket = event.ticket
    subject = SUBJECTS.get(kind, "{ref}: {title}").format(ref=ticket.reference, title=ticket.title)[:300]
    # Clearance at write time: nobody is told about a ticket they may not read (a restricted
    # ticket's title and notes included), whoever the caller listed.
    users = [user for user in _distinct_active(recipients) if can_see_ticket(user, ticket)]
    wanted = _preferences(users=users, kind=kind)
    now = timezone.now()
    rows = []
    for user in users:
        common = {"kind": kind, "ticket": ticket, "event": event, "subject": subject, "body": body, "created_at": now}
        if wanted[(user.pk, NotificationChannel.IN_APP)]:
            rows.append(
                Notification(
                    recipient=user,
                    channel=NotificationChannel.IN_APP,
                    status=DeliveryStatus.SENT,
                    sent_at=now,
                    **common,
                )
            )
        if user.email and wanted[(user.pk, NotificationChannel.EMAIL)]:
            rows.append(
                Notification(recipient=user, channel=NotificationChannel.EMAIL, message_id=new_message_id(), **common)
            )
    endpoints = WebhookEndpoint.objects.filter(_webhook_scope(ticket.queue_id), is_active=True)
    if ticket.is_restricted:
        endpoints = endpoints.filter(queue__is_security=True)  # a restricted ticket stays in the security team's room
    for endpoint in endpoints:
        if endpoint.wants(kind):
            rows.append(
                Notification(
                    webhook=endpoint,
                    channel=NotificationChannel.WEBHOOK,
                    kind=kind,
                    ticket=ticket,
                    event=event,
                    subject=subject,
                    body=body,
                    created_at=now,
                )
            )
    if not rows:
        return []
    # ignore_conflicts: the unique constraints make a repeated notify() for the same
    # event a no-op instead of a second delivery.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if any(row.status == DeliveryStatus.PENDING for row in rows):
        event_id = event.pk
        transaction.on_commit(lambda: enqueue_event_deliveries(event_id=event_id))
    return rows


def notify_webhook_url(*, event: TicketEvent, kind: str, url: str) -> Notification:
    """One outbox row for a bare webhook URL (an SLA ladder level's), delivered like any other
    webhook row: signed with NOTIFICATIONS_WEBHOOK_SECRET, enqueued on commit."""
    ticket = event.ticket
    row = Notification.objects.create(
        recipient=None,
        kind=kind,
        channel=NotificationChannel.WEBHOOK,
        ticket=ticket,
        event=event,
        subject=f"{ticket.reference}: {event.message}"[:300],
        body=json.dumps({"url": url, "ticket": ticket.reference, "event": event.pk}),
    )
    event_id = event.pk
    transaction.on_commit(lambda: enqueue_event_deliveries(event_id=event_id))
    return row


def _webhook_scope(queue_id: int | None) -> Q:
    scope = Q(queue__isnull=True)
    if queue_id:
        scope |= Q(queue_id=queue_id)
    return scope


def _distinct_active(recipients: Iterable[User | None]) -> list[User]:
    users, seen = [], set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        users.append(user)
    return users


def _preferences(*, users: list[User], kind: str) -> dict[tuple[int, str], bool]:
    """(user id, channel) → send? One query for all recipients."""
    wanted = {
        (user.pk, channel): channel_default(channel=channel, kind=kind)
        for user in users
        for channel in (NotificationChannel.IN_APP, NotificationChannel.EMAIL)
    }
    if users:
        for user_id, channel, enabled in NotificationPreference.objects.filter(
            user__in=[u.pk for u in users], kind=kind
        ).values_list("user_id", "channel", "enabled"):
            wanted[(user_id, channel)] = enabled
    return wanted


def new_message_id() -> str:
    """A Message-ID for an email we will send; stored on the row so replies thread back."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "handoff.local"
    return f"<notification.{uuid.uuid4().hex}@{domain}>"


def team_recipients(*, queue: Queue, at: datetime | None = None) -> list[User]:
    """Who hears about work arriving in a team: its members in business hours; outside
    them the on-call engineer (falling back to the members when nobody is on call)."""
    from escalation.sla.calendars import queue_in_business_hours

    from .oncall import on_call_for

    at = at or timezone.now()
    if not queue_in_business_hours(queue=queue, at=at):
        person = on_call_for(queue=queue, at=at)
        if person is not None:
            return [person]
    return list(queue.members.filter(is_active=True))


# --- enqueue on commit, never hanging the request -----------------------------------

_broker_down_until = 0.0


def enqueue_event_deliveries(*, event_id: int) -> None:
    ids = list(
        Notification.objects.filter(event_id=event_id, status=DeliveryStatus.PENDING).values_list("id", flat=True)
    )
    enqueue_deliveries(ids)


def enqueue_deliveries(notification_ids: list[int]) -> int:
    """Publish one delivery task per row; returns how many were published.

    The rows are already committed, so a broker failure costs nothing but latency:
    stop at the first failure (no retry loop) and skip the broker in this process
    for NOTIFICATIONS_BROKER_BACKOFF_SECONDS; the redelivery sweep sends them.
    """
    global _broker_down_until
    if not notification_ids or time.monotonic() < _broker_down_until:
        return 0
    from helpdesk.celery import app

    from .tasks import notifications_deliver_task

    published = 0
    queue = getattr(settings, "NOTIFICATIONS_TASK_QUEUE", None)
    options = {"queue": queue} if queue else {}
    try:
        with app.connection_for_write() as connection:
            # One connection attempt, bounded by the broker connect timeout: kombu's own
            # default would sleep and retry (seconds) while the user waits for the page.
            connection.ensure_connection(max_retries=0, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)
            for notification_id in notification_ids:
                notifications_deliver_task.apply_async(
                    args=[notification_id], retry=False, connection=connection, **options
                )
                published += 1
    except Exception as exc:  # broker unreachable: the rows are safe in the database
        _broker_down_until = time.monotonic() + settings.NOTIFICATIONS_BROKER_BACKOFF_SECONDS
        logger.warning(
            "Broker unavailable (%s); %d notification(s) left for the redelivery sweep",
            exc,
            len(notification_ids) - published,
        )
    return published


def enqueue_redelivery() -> None:
    """Ask for another sweep batch now (best effort: beat runs one every minute anyway)."""
    from .tasks import notifications_redeliver_task

    try:
        notifications_redeliver_task.apply_async(retry=False)
    except Exception as exc:
        logger.warning("Broker unavailable (%s); the next scheduled sweep continues", exc)


def reset_broker_backoff() -> None:
    global _broker_down_until
    _broker_down_until = 0.0


# --- in-app: read state and preferences ---------------------------------------------


def notification_mark_read(*, notification_id: int, acting_user: User) -> int:
    """Mark one of the user's in-app notifications read; returns rows changed (0 or 1)."""
    return Notification.objects.filter(
        pk=notification_id, recipient=acting_user, channel=NotificationChannel.IN_APP, read_at__isnull=True
    ).update(read_at=timezone.now())


def notification_mark_all_read(*, acting_user: User) -> int:
    return Notification.objects.filter(
        recipient=acting_user, channel=NotificationChannel.IN_APP, read_at__isnull=True
    ).update(read_at=timezone.now())


@transaction.atomic
def preferences_set(*, acting_user: User, choices: dict[tuple[str, str], bool]) -> None:
    """Store (kind, channel) → on/off; a choice equal to the default removes the row."""
    for (kind, channel), enabled in choices.items():
        if kind not in NotificationKind.values or channel not in (
            NotificationChannel.IN_APP,
            NotificationChannel.EMAIL,
        ):
            continue
        if enabled == channel_default(channel=channel, kind=kind):
            NotificationPreference.objects.filter(user=acting_user, kind=kind, channel=channel).delete()
        else:
            NotificationPreference.objects.update_or_create(
                user=acting_user, kind=kind, channel=channel, defaults={"enabled": enabled}
            )
