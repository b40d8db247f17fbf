"""Reads for the in-app channel and the team page."""

from django.db.models import QuerySet

from tickets.models import Queue, User

from .models import Notification, NotificationChannel, NotificationPreference, OnCallRotation


def notification_list_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, channel=NotificationChannel.IN_APP).select_related(
        "ticket", "event"
    )


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
