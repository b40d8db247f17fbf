"""Reads for the in-app channel and the team page."""

from django.db.models import QuerySet

from tickets.access import ticket_list_for
from tickets.models import Queue, User

from .models import Notification, NotificationChannel, NotificationPreference, OnCallRotation


def notification_list_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, channel=NotificationChannel.IN_APP).select_related(
        "ticket", "event"
    )


def mark_restricted(user: User, notifications) -> list[Notification]:
    """Flag each row whose ticket the reader may not see (now): it renders as its reference and
    "restricted", never its subject, title or note. One query for the page."""
    rows = list(notifications)
    ids = {n.ticket_id for n in rows if n.ticket_id}
    visible = set(ticket_list_for(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    for n in rows:
        n.is_hidden = bool(n.ticket_id) and n.ticket_id not in visible
    return rows


def unread_count_for(user: User) -> int:
    """The bell: one indexed COUNT (recipient, channel, read_at)."""
    if not user.is_authenticated:
        return 0
    return notification_list_for(user).filter(read_at__isnull=True).count()


def preferences_for(user: User) -> dict[tuple[str, str], bool]:
    return {
        (kind, channel): enabled
        for kind, channel, enabled in NotificationPreference.objects.filter(user=user).values_list(
            "kind", "channel", "enabled"
        )
    }


def team_get(slug: str) -> Queue:
    return Queue.objects.select_related("lead").get(slug=slug)


def rotation_for(queue: Queue) -> OnCallRotation | None:
    return OnCallRotation.objects.filter(queue=queue).first()
