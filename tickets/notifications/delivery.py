"""Claim due outbox rows and deliver them, one channel at a time."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import DeliveryStatus, Notification, NotificationChannel

BATCH_SIZE = 100
MAX_ATTEMPTS = 5


def deliver_due(*, batch_size: int = BATCH_SIZE) -> int:
    """Deliver what is due; returns how many were sent.

    1. Claim a batch with SKIP LOCKED so several workers never take the same row.
    2. Deliver each; on failure push next_attempt_at out (exponential backoff).
    """
    sent = 0
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
            .select_related("recipient", "ticket")
            .order_by("next_attempt_at", "id")[:batch_size]
        )
        for notification in due:
            try:
                _deliver(notification)
            except Exception as exc:  # a transport failure: retry later, never lose the row
                notification.attempts += 1
                notification.last_error = repr(exc)[:2000]
                if notification.attempts >= MAX_ATTEMPTS:
                    notification.status = DeliveryStatus.FAILED
                notification.next_attempt_at = timezone.now() + timedelta(seconds=30 * 2**notification.attempts)
                notification.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
                continue
            notification.attempts += 1
            notification.status = DeliveryStatus.SENT
            notification.sent_at = timezone.now()
            notification.save(update_fields=["attempts", "status", "sent_at"])
            sent += 1
    return sent


def _deliver(notification: Notification) -> None:
    if notification.channel == NotificationChannel.IN_APP:
        return  # the row itself is the in-app notification
    if notification.channel == NotificationChannel.EMAIL:
        send_mail(
            subject=notification.subject,
            message=notification.body or notification.subject,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
        return
    raise ValueError(f"Unknown channel {notification.channel}")
