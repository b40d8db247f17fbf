"""Claim due outbox rows and deliver them, one channel at a time.

Delivery protocol, for a single row (delivery_attempt) and for the sweep (deliver_due):
1. Claim: pending and due (or stuck in `sending` longer than the timeout: its worker
   died) → `sending`, with `claimed_at` = now and attempts + 1. A conditional UPDATE
   (one row) or SELECT … FOR UPDATE SKIP LOCKED (a batch); either commits at once, so
   two workers never hold the same row and no transaction stays open during I/O.
2. Deliver outside any database transaction (SMTP, HTTP have their own timeouts).
3. Mark sent, or pending again with exponential backoff (failed after the last
   attempt) — conditionally on our claim still standing, so a slow worker whose row
   was reclaimed does not overwrite the newer outcome.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tickets import durations, events

from . import replyaddress, targets
from .models import DeliveryStatus, Notification, NotificationChannel, NotificationKind

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
LOOP_HEADER = "X-Handoff-Loop"


def _due_filter(now: datetime) -> Q:
    stale = now - timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS)
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lt=stale
    )


def claim_one(notification_id: int) -> datetime | None:
    """Take one row if it is due; the claim time is the token for marking it later."""
    now = timezone.now()
    claimed = (
        Notification.objects.filter(_due_filter(now), pk=notification_id)
        .exclude(channel=NotificationChannel.IN_APP)
        .update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    return now if claimed == 1 else None  # 0: sent already, not due, or another worker has it


def claim_batch(*, batch_size: int = BATCH_SIZE) -> tuple[list[int], datetime]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(_due_filter(now))
            .exclude(channel=NotificationChannel.IN_APP)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:batch_size]
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(
                status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    return ids, now


def delivery_attempt(notification_id: int) -> str | None:
    """Claim and deliver one row; returns its new status, or None if it was not ours to send."""
    claimed_at = claim_one(notification_id)
    if claimed_at is None:
        return None
    return _deliver_claimed(notification_id, claimed_at)


def deliver_many(notification_ids: list[int]) -> dict[str, int]:
    """delivery_attempt for each row of a chunk (one task message for many rows); counts by outcome.

    Each row is claimed just before it is sent, not the chunk up front: a claim held while the
    rows before it are sent could outlive NOTIFICATIONS_SENDING_TIMEOUT_SECONDS and be taken again
    by the redelivery sweep (sent twice). A row that fails is retried with its own backoff; a row
    that raises unexpectedly is logged and left to the redelivery sweep, and the rest go on."""
    counts = {"skipped": 0, DeliveryStatus.SENT: 0, DeliveryStatus.PENDING: 0, DeliveryStatus.FAILED: 0}
    for notification_id in notification_ids:
        try:
            status = delivery_attempt(notification_id)
        except Exception:
            logger.exception("Notification %s: delivery raised; the redelivery sweep retries it", notification_id)
            status = None
        counts[status or "skipped"] += 1
    return counts


def deliver_due(*, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """One bounded batch of due rows (the redelivery sweep); counts by outcome."""
    ids, claimed_at = claim_batch(batch_size=batch_size)
    counts = {"claimed": len(ids), DeliveryStatus.SENT: 0, DeliveryStatus.PENDING: 0, DeliveryStatus.FAILED: 0}
    for notification_id in ids:
        status = _deliver_claimed(notification_id, claimed_at)
        if status:
            counts[status] += 1
    return counts


def _deliver_claimed(notification_id: int, claimed_at: datetime) -> str | None:
    notification = (
        Notification.objects.select_related("recipient", "ticket", "ticket__queue", "webhook")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        return None
    if notification.attempts > settings.NOTIFICATIONS_MAX_ATTEMPTS:
        # Reclaimed after the last attempt's worker died: give up rather than loop.
        return _mark_failed(notification, claimed_at, "Gave up: no attempt completed.", final=True)
    try:
        send(notification)
    except targets.TargetRefused as exc:  # retrying will not make the address acceptable
        logger.warning("Notification %s refused: %s", notification.pk, exc)
        return _mark_failed(notification, claimed_at, str(exc), final=True)
    except Exception as exc:  # a transport failure: retry later, never lose the row
        logger.warning("Notification %s (%s) failed: %r", notification.pk, notification.channel, exc)
        final = notification.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS
        return _mark_failed(notification, claimed_at, repr(exc), final=final)
    return _mark_sent(notification, claimed_at)


@transaction.atomic
def _mark_sent(notification: Notification, claimed_at: datetime) -> str | None:
    now = timezone.now()
    updated = Notification.objects.filter(
        pk=notification.pk, status=DeliveryStatus.SENDING, claimed_at=claimed_at
    ).update(status=DeliveryStatus.SENT, sent_at=now, last_error="")
    if updated != 1:
        return None  # our claim expired and another worker took over
    if notification.ticket_id:
        events.notification_sent(
            ticket=notification.ticket,
            channel=notification.channel,
            to=_recipient_label(notification),
            kind=notification.kind,
        )
    return DeliveryStatus.SENT


def _recipient_label(notification: Notification) -> str:
    if notification.webhook_id:
        return notification.webhook.name
    if notification.recipient_id:
        return str(notification.recipient)
    return "webhook"


def _mark_failed(notification: Notification, claimed_at: datetime, error: str, *, final: bool) -> str | None:
    delay = settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(notification.attempts - 1, 0)
    status = DeliveryStatus.FAILED if final else DeliveryStatus.PENDING
    updated = Notification.objects.filter(
        pk=notification.pk, status=DeliveryStatus.SENDING, claimed_at=claimed_at
    ).update(status=status, last_error=error[:2000], next_attempt_at=timezone.now() + timedelta(seconds=delay))
    return status if updated == 1 else None


# --- transports ----------------------------------------------------------------------


def send(notification: Notification) -> None:
    if notification.channel == NotificationChannel.EMAIL:
        send_email(notification)
    elif notification.channel == NotificationChannel.WEBHOOK:
        send_webhook(notification)
    else:
        raise ValueError(f"Nothing to deliver on channel {notification.channel}")


def ticket_path(ticket_id: int) -> str:
    """The ticket page (the API's is "api:ticket-detail")."""
    return reverse("ticket-detail", args=[ticket_id])


def ticket_url(ticket) -> str:
    return settings.SITE_URL + ticket_path(ticket.pk)


# Kinds whose link goes straight to the page where the recipient acts, not the ticket page.
ACTION_PAGES = {NotificationKind.HANDOFF_INCOMPLETE: "ticket-handoff"}


def notification_path(notification: Notification) -> str:
    name = ACTION_PAGES.get(notification.kind)
    if name and notification.ticket_id:
        return reverse(name, args=[notification.ticket_id])  # a page name (the API's are "api:…")
    return ticket_path(notification.ticket_id) if notification.ticket_id else ""


def thread_id(ticket) -> str:
    """A stable per-ticket Message-ID every email about the ticket references, so mail
    clients thread them and a reply that quotes it finds the ticket."""
    domain = notification_domain()
    return f"<ticket.{ticket.reference}@{domain}>"


def notification_domain() -> str:
    from email.utils import parseaddr

    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "handoff.local"


def send_email(notification: Notification) -> None:
    ticket = notification.ticket
    recipient = notification.recipient
    if recipient is None or not recipient.email:
        raise ValueError("The recipient has no email address.")
    subject = notification.subject
    if ticket is not None and ticket.reference not in subject:
        subject = f"[{ticket.reference}] {subject}"
    event = notification.event
    # Times in the recipient's zone, named (tickets.durations, the one formatter).
    zone = durations.zone_named(recipient.display_time_zone)
    context = {
        "notification": notification,
        "ticket": ticket,
        "recipient": recipient,
        "url": settings.SITE_URL + notification_path(notification) if ticket else settings.SITE_URL,
        "sla_text": durations.sla_event_text(event.kind, event.data, zone) if event else None,
    }
    headers = {
        "Message-ID": notification.message_id,
        LOOP_HEADER: notification_domain(),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if ticket is not None:
        headers.update(
            {
                "References": thread_id(ticket),
                "In-Reply-To": thread_id(ticket),
                "X-Handoff-Ticket": ticket.reference,
                # Replies come back signed for this ticket (tickets.notifications.inbound checks the token).
                "Reply-To": replyaddress.reply_address(ticket),
            }
        )
    message = EmailMultiAlternatives(
        subject=subject,
        body=_render("notifications/email/notification.txt", context, zone),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers=headers,
    )
    message.attach_alternative(_render("notifications/email/notification.html", context, zone), "text/html")
    message.send(fail_silently=False)


def _render(template: str, context: dict, zone) -> str:
    with timezone.override(zone):
        return render_to_string(template, context)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a misconfigured endpoint: fail (and retry) rather than re-POST elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Straight to the checked address: no proxy from the environment, loopback/private refused (targets.py).
_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirects, targets.CheckedHTTPHandler, targets.CheckedHTTPSHandler
)


def webhook_payload(notification: Notification, *, timestamp: int) -> dict:
    ticket = notification.ticket
    url = ticket_url(ticket) if ticket else settings.SITE_URL
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "event_id": notification.event_id,
        "timestamp": timestamp,
        "text": f"{notification.subject} {url}",
        "ticket": None
        if ticket is None
        else {
            "id": ticket.pk,
            "reference": ticket.reference,
            "title": ticket.title,
            "status": ticket.status,
            "priority": ticket.priority,
            "tier": ticket.tier,
            "queue": ticket.queue.slug,
            "url": url,
        },
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _webhook_target(notification: Notification) -> tuple[str, str, int]:
    """(url, secret, timeout): an admin-configured endpoint, or a bare URL in the row's body
    (the SLA ladder's per-level webhook_url), signed with NOTIFICATIONS_WEBHOOK_SECRET."""
    endpoint = notification.webhook
    if endpoint is not None:
        return endpoint.url, endpoint.secret, endpoint.timeout_seconds
    try:
        url = json.loads(notification.body or "{}").get("url", "")
    except (ValueError, AttributeError):
        url = ""
    if not url:
        raise ValueError("A webhook row needs an endpoint or a URL.")
    return url, getattr(settings, "NOTIFICATIONS_WEBHOOK_SECRET", ""), 5


def send_webhook(notification: Notification) -> None:
    url, secret, timeout = _webhook_target(notification)
    timestamp = int(time.time())
    body = json.dumps(webhook_payload(notification, timestamp=timestamp), separators=(",", ":")).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Handoff-Webhook/1",
            "X-Handoff-Signature": sign(secret, body),
            "X-Handoff-Timestamp": str(timestamp),
            "X-Handoff-Delivery": str(notification.pk),
            "X-Handoff-Event": notification.kind,
        },
    )
    # urlopen raises HTTPError for any non-2xx answer (redirects included, see above).
    with _opener.open(request, timeout=timeout) as response:
        response.read(1024)
