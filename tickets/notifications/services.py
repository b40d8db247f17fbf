"""Queue notifications in the outbox, inside the caller's transaction.

Delivery happens after commit (a Celery task per row) and again from the
periodic redelivery sweep, so a broker outage delays a notification but never
loses it.
"""

from collections.abc import Iterable

from django.db import transaction

from tickets.models import TicketEvent, User

from .models import Notification, NotificationChannel

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
}


def notify(*, event: TicketEvent, kind: str, recipients: Iterable[User | None], body: str = "") -> list[Notification]:
    ticket = event.ticket
    subject = SUBJECTS.get(kind, "{ref}: {title}").format(ref=ticket.reference, title=ticket.title)[:300]
    rows = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        for channel in (NotificationChannel.IN_APP, NotificationChannel.EMAIL):
            if channel == NotificationChannel.EMAIL and not user.email:
                continue
            rows.append(
                Notification(
                    recipient=user, kind=kind, channel=channel, ticket=ticket, event=event, subject=subject, body=body
                )
            )
    created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        transaction.on_commit(_enqueue_delivery)
    return created


def _enqueue_delivery() -> None:
    from .tasks import enqueue_pending_deliveries

    enqueue_pending_deliveries()
