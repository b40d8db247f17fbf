"""Queue notifications in the outbox, inside the caller's transaction.

Delivery happens after commit (a Celery task per chunk of rows) and again from the
periodic redelivery sweep, so a broker outage delays a notification but never
loses it.
"""

import functools
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tickets import bulk
from tickets.access import ticket_list_for
from tickets.models import TicketEvent, User

from .models import (
    DeliveryStatus,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationPreference,
    WebhookEndpoint,
    channel_default,
    is_on_call_page,
)

logger = logging.getLogger(__name__)

SUBJECTS = {
    NotificationKind.ASSIGNED: "{ref} was assigned to you",
    NotificationKind.ESCALATED_TO_TEAM: "{ref} escalated to your team: {title}",
    NotificationKind.SLA_WARNING: "{ref} is close to its SLA deadline",
    NotificationKind.SLA_BREACHED: "{ref} breached its SLA",
    NotificationKind.RETURNED: "{ref} was returned to Tier 1",
    NotificationKind.REQUESTER_REPLIED: "The requester replied on {ref}",
    NotificationKind.PUBLIC_REPLY: "[{ref}] New reply: {title}",
    NotificationKind.RESOLVED: "[{ref}] Resolved: {title}",
    NotificationKind.REOPENED: "{ref} was reopened",
    NotificationKind.HANDOFF_INCOMPLETE: "{ref} was escalated automatically: complete the handoff",
    NotificationKind.HANDOFF_COMPLETED: "{ref}: Tier 1 added to the handoff",
    NotificationKind.ON_CALL_PAGE: "On call: {ref} needs you now: {title}",
    NotificationKind.RULE_FIRED: "A trigger rule fired on {ref}: {title}",
    NotificationKind.REASSIGNED: "{ref} transferred to your team: {title}",
    NotificationKind.WATCHING: "You are copied in on {ref}: {title}",
    NotificationKind.MERGED: "Your request now continues on {ref}: {title}",
}


@dataclass(frozen=True)
class Notice:
    """One event to announce: its kind, to whom, and the bare webhook URLs it also goes to."""

    event: TicketEvent
    kind: NotificationKind
    recipients: Iterable[User | None] = ()
    body: str = ""
    webhook_urls: Iterable[str] = ()
    team_webhooks: bool = True  # the admin-configured endpoints that want this kind

    def __post_init__(self):
        # An unknown kind is a programming error: fail loudly, never send a kind nobody can filter.
        object.__setattr__(self, "kind", NotificationKind(self.kind))


def notify(
    *, event: TicketEvent, kind: NotificationKind, recipients: Iterable[User | None], body: str = ""
) -> list[Notification]:
    """Write the outbox rows for one event: in-app and email per recipient (per their
    preferences; an on-call page always goes by the on-call channels), plus one row per
    matching team webhook. Delivery is enqueued on commit.

    In-app rows are delivered by being written (status sent); email and webhook rows
    wait for a worker. Calling twice for the same event adds nothing (unique rows), so
    page the person on call before telling the team: their page is the row that counts.
    """
    return notify_many([Notice(event=event, kind=kind, recipients=list(recipients), body=body)])


def notify_many(notices: list[Notice], *, returning: bool = True) -> list[Notification]:
    """The outbox rows of many events in a few queries (preferences, team webhooks, one insert),
    as notify() would write them one by one; the SLA sweep announces a whole batch this way.

    Returns the rows written, unsaved instances (as bulk_create with ignore_conflicts leaves
    them); a batch that does not look at them passes returning=False: on PostgreSQL the rows
    then go from plain tuples to one INSERT, without a model instance each (a sweep batch
    writes thousands)."""
    users_of = _cleared([_distinct_active(notice.recipients) for notice in notices], notices)
    everyone = {user.pk: user for users in users_of for user in users}
    wanted = _preferences(users=list(everyone.values()), kinds={notice.kind for notice in notices})
    queue_ids = {notice.event.ticket.queue_id for notice in notices}
    endpoints = (
        list(WebhookEndpoint.objects.filter(_webhook_scope(queue_ids), is_active=True).select_related("queue"))
        if notices
        else []
    )
    now = timezone.now()
    rows: list[dict] = []
    for notice, users in zip(notices, users_of, strict=True):
        event, kind = notice.event, str(notice.kind)
        ticket = event.ticket
        subject = SUBJECTS[kind].format(ref=ticket.reference, title=ticket.title)[:300]
        common = {"kind": kind, "ticket": ticket, "event": event, "subject": subject, "body": notice.body}
        for user in users:
            if wanted[(user.pk, kind, NotificationChannel.IN_APP)]:
                rows.append(
                    {**common, "recipient": user, "channel": NotificationChannel.IN_APP, "status": DeliveryStatus.SENT}
                )
            if user.email and wanted[(user.pk, kind, NotificationChannel.EMAIL)]:
                rows.append(
                    {**common, "recipient": user, "channel": NotificationChannel.EMAIL, "message_id": new_message_id()}
                )
        if notice.team_webhooks:
            for endpoint in endpoints:
                if (
                    endpoint.queue_id in (None, ticket.queue_id)
                    and endpoint.wants(kind)
                    and _may_post(endpoint, ticket)
                ):
                    rows.append({**common, "webhook": endpoint, "channel": NotificationChannel.WEBHOOK})
        for url in notice.webhook_urls:
            rows.append(
                {
                    **common,
                    "channel": NotificationChannel.WEBHOOK,
                    "subject": f"{ticket.reference}: {event.message}"[:300],
                    "body": json.dumps({"url": url, "ticket": ticket.reference, "event": event.pk}),
                }
            )
    rows = _one_per_delivery(rows)
    if not rows:
        return []
    # ON CONFLICT DO NOTHING (ignore_conflicts): the unique constraints make a repeated notify()
    # for the same event a no-op instead of a second delivery.
    fields = [_outbox_fields(row, now=now) for row in rows]
    instances = None
    if returning or connection.vendor != "postgresql":
        instances = [_instance(row, row_fields) for row, row_fields in zip(rows, fields, strict=True)]
    if instances is not None and connection.vendor != "postgresql":
        Notification.objects.bulk_create(instances, ignore_conflicts=True)
    else:
        _insert_rows([tuple(row_fields[name] for name in _COLUMN_NAMES) for row_fields in fields])
    event_ids = sorted({row["event"].pk for row in rows if row.get("status") != DeliveryStatus.SENT})
    if event_ids:
        transaction.on_commit(lambda: enqueue_events_deliveries(event_ids=event_ids))
    return instances or []


# The outbox columns _insert_rows writes, in order (the others keep their database defaults: none).
_COLUMN_NAMES = (
    "recipient_id", "webhook_id", "kind", "channel", "ticket_id", "event_id", "subject", "body", "status",
    "attempts", "last_error", "next_attempt_at", "claimed_at", "message_id", "created_at", "sent_at", "read_at",
)  # fmt: skip


def _outbox_fields(row: dict, *, now) -> dict:
    """One of notify_many's rows as the outbox row's column values: what an insert writes and an
    instance holds alike."""
    recipient, webhook = row.get("recipient"), row.get("webhook")
    status = str(row.get("status", DeliveryStatus.PENDING))
    return {
        "recipient_id": recipient.pk if recipient is not None else None,
        "webhook_id": webhook.pk if webhook is not None else None,
        "kind": row["kind"],
        "channel": str(row["channel"]),
        "ticket_id": row["ticket"].pk,
        "event_id": row["event"].pk,
        "subject": row["subject"],
        "body": row["body"],
        "status": status,
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": now,
        "claimed_at": None,
        "message_id": row.get("message_id", ""),
        "created_at": now,
        "sent_at": now if status == DeliveryStatus.SENT else None,
        "read_at": None,
    }


def _instance(row: dict, fields: dict) -> Notification:
    """The row as an unsaved Notification, its people, ticket and event in hand (no query to reach them)."""
    notification = Notification(**fields)
    notification.recipient, notification.webhook = row.get("recipient"), row.get("webhook")
    notification.ticket, notification.event = row["ticket"], row["event"]
    return notification


def _insert_rows(values: list[tuple]) -> None:
    """notify_many's rows (in _COLUMN_NAMES order) in one INSERT … ON CONFLICT DO NOTHING (PostgreSQL;
    a large batch through COPY, tickets.bulk)."""
    bulk.insert_rows(Notification._meta.db_table, _COLUMN_NAMES, values, suffix="ON CONFLICT DO NOTHING")


def _one_per_delivery(rows: list[dict]) -> list[dict]:
    """One row per event, recipient and channel (per event and endpoint for webhooks): a person
    named by two notices of one event (a watcher who is also in the team, an assignee who leads
    it, the lead who is on call) is told once, by the first notice, as the outbox's unique
    constraints keep it; the rows a call returns are the deliveries it asked for."""
    kept, seen = [], set()
    for row in rows:
        recipient, webhook = row.get("recipient"), row.get("webhook")
        bare_url = row["body"] if recipient is None and webhook is None else ""  # a ladder level's
        key = (
            row["event"].pk,
            row["channel"],
            recipient.pk if recipient is not None else None,
            webhook.pk if webhook is not None else None,
            bare_url,
        )
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _cleared(users_of: list[list[User]], notices: list[Notice]) -> list[list[User]]:
    """Clearance at write time: nobody is told about a ticket they may not read (a restricted
    ticket's title and notes included), whoever the caller listed. The access selector answers
    once per recipient for all their tickets in the batch."""
    wanted: dict[int, set[int]] = {}
    people: dict[int, User] = {}
    for notice, users in zip(notices, users_of, strict=True):
        for user in users:
            people[user.pk] = user
            wanted.setdefault(user.pk, set()).add(notice.event.ticket_id)
    readable = {
        pk: set(ticket_list_for(people[pk]).filter(pk__in=ids).values_list("pk", flat=True))
        for pk, ids in wanted.items()
    }
    return [
        [user for user in users if notice.event.ticket_id in readable[user.pk]]
        for notice, users in zip(notices, users_of, strict=True)
    ]


def _may_post(endpoint: WebhookEndpoint, ticket) -> bool:
    """A restricted ticket goes only to the security team's own webhooks, never a shared channel."""
    return not ticket.is_restricted or (endpoint.queue_id is not None and endpoint.queue.is_security)


def _webhook_scope(queue_ids: set[int | None]) -> Q:
    scope = Q(queue__isnull=True)
    if ids := {pk for pk in queue_ids if pk}:
        scope |= Q(queue_id__in=ids)
    return scope


def _distinct_active(recipients: Iterable[User | None]) -> list[User]:
    users, seen = [], set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        users.append(user)
    return users


def _preferences(*, users: list[User], kinds: set[str]) -> dict[tuple[int, str, str], bool]:
    """(user id, kind, channel) → send? One query for all recipients and kinds; an on-call
    page ignores preferences (the on-call channels, always)."""
    wanted = {
        (user.pk, kind, channel): channel_default(channel=channel, kind=kind)
        for user in users
        for kind in kinds
        for channel in (NotificationChannel.IN_APP, NotificationChannel.EMAIL)
    }
    chosen = {kind for kind in kinds if not is_on_call_page(kind)}
    if users and chosen:
        for user_id, kind, channel, enabled in NotificationPreference.objects.filter(
            user__in=[u.pk for u in users], kind__in=chosen
        ).values_list("user_id", "kind", "channel", "enabled"):
            wanted[(user_id, kind, channel)] = enabled
    return wanted


def new_message_id() -> str:
    """A Message-ID for an email we will send; stored on the row so replies thread back."""
    # 32 random hex digits, as uuid4().hex looked (which built a UUID object per email row)
    return f"<notification.{os.urandom(16).hex()}@{_domain_of(settings.DEFAULT_FROM_EMAIL)}>"


@functools.lru_cache(maxsize=4)
def _domain_of(from_email: str) -> str:
    # parsed once per address, not once per email row (a sweep batch writes thousands)
    return parseaddr(from_email)[1].rpartition("@")[2] or "handoff.local"


# --- enqueue on commit, never hanging the request -----------------------------------

_broker_down_until = 0.0
DELIVER_TASK = "tickets.notifications.tasks.notifications_deliver_many_task"
# Rows per delivery message: publishing costs ~1 ms a message, so a sweep batch's thousands of rows
# go in tens of messages; small enough that one worker's chunk does not hold back the rest for long.
DELIVERY_CHUNK = 200


def enqueue_events_deliveries(*, event_ids: list[int]) -> None:
    ids = list(
        Notification.objects.filter(event_id__in=event_ids, status=DeliveryStatus.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )
    enqueue_deliveries(ids)


def enqueue_deliveries(notification_ids: list[int]) -> int:
    """Publish one delivery task per chunk of up to DELIVERY_CHUNK rows; returns how many rows were published.

    The rows are already committed, so a broker failure costs nothing but latency:
    stop at the first failure (no retry loop) and skip the broker in this process
    for NOTIFICATIONS_BROKER_BACKOFF_SECONDS; the redelivery sweep sends them.
    """
    global _broker_down_until
    if not notification_ids or time.monotonic() < _broker_down_until:
        return 0
    # By name: the outbox sits below the task modules (entry points), which the app's
    # ready() registers in every process; eager mode (tests) still applies.
    app = current_app
    deliver_task = app.tasks[DELIVER_TASK]
    published = 0
    queue = getattr(settings, "NOTIFICATIONS_TASK_QUEUE", None)
    options = {"queue": queue} if queue else {}
    try:
        with app.connection_for_write() as connection:
            # One connection attempt, bounded by the broker connect timeout: kombu's own
            # default would sleep and retry (seconds) while the user waits for the page.
            connection.ensure_connection(max_retries=0, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)
            for start in range(0, len(notification_ids), DELIVERY_CHUNK):
                chunk = list(notification_ids[start : start + DELIVERY_CHUNK])
                deliver_task.apply_async(args=[chunk], retry=False, connection=connection, **options)
                published += len(chunk)
    except Exception as exc:  # broker unreachable: the rows are safe in the database
        _broker_down_until = time.monotonic() + settings.NOTIFICATIONS_BROKER_BACKOFF_SECONDS
        logger.warning(
            "Broker unavailable (%s); %d notification(s) left for the redelivery sweep",
            exc,
            len(notification_ids) - published,
        )
    return published


def reset_broker_backoff() -> None:
    global _broker_down_until
    _broker_down_until = 0.0


# --- in-app: read state and preferences ---------------------------------------------


def notification_mark_read(*, notification_id: int, acting_user: User) -> int:
    """Mark one of the user's in-app notifications read; returns rows changed (0 or 1)."""
    return Notification.objects.filter(
        pk=notification_id, recipient=acting_user, channel=NotificationChannel.IN_APP, read_at__isnull=True
    ).update(read_at=timezone.now())


def notifications_mark_read_for_ticket(*, ticket_id: int, acting_user: User) -> int:
    """Opening a ticket reads what was waiting about it: the badge counts only what is still news."""
    return Notification.objects.filter(
        ticket_id=ticket_id, recipient=acting_user, channel=NotificationChannel.IN_APP, read_at__isnull=True
    ).update(read_at=timezone.now())


def notification_mark_all_read(*, acting_user: User) -> int:
    return Notification.objects.filter(
        recipient=acting_user, channel=NotificationChannel.IN_APP, read_at__isnull=True
    ).update(read_at=timezone.now())


@transaction.atomic
def preferences_set(*, acting_user: User, choices: dict[tuple[str, str], bool]) -> None:
    """Store (kind, channel) → on/off; a choice equal to the default removes the row."""
    for (kind, channel), enabled in choices.items():
        if (
            kind not in NotificationKind.values
            or is_on_call_page(kind)
            or channel
            not in (
                NotificationChannel.IN_APP,
                NotificationChannel.EMAIL,
            )
        ):
            continue
        if enabled == channel_default(channel=channel, kind=kind):
            NotificationPreference.objects.filter(user=acting_user, kind=kind, channel=channel).delete()
        else:
            NotificationPreference.objects.update_or_create(
                user=acting_user, kind=kind, channel=channel, defaults={"enabled": enabled}
            )
