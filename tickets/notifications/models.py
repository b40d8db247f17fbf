"""Notifications and coverage: the outbox, channels, preferences, on-call rotations, inbound mail.

The outbox: one row per (event, recipient, channel) — or (event, webhook endpoint) —
written in the same transaction as the event it announces, delivered later by workers.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.models import TIME_ZONE_CHOICES

from .targets import validate_webhook_url


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", "In-app"
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", "Assigned to you"
    ESCALATED_TO_TEAM = "escalated_to_team", "Escalated to your team"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breached"
    RETURNED = "returned", "Returned to Tier 1"
    REQUESTER_REPLIED = "requester_replied", "Requester replied"
    PUBLIC_REPLY = "public_reply", "Reply to the requester"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    HANDOFF_INCOMPLETE = "handoff_incomplete", "Automatic escalation needs its handoff completed"
    HANDOFF_COMPLETED = "handoff_completed", "Handoff completed for your team"
    ON_CALL_PAGE = "on_call_page", "Paged while on call"
    RULE_FIRED = "rule_fired", "A trigger rule fired on your team's ticket"
    REASSIGNED = "reassigned", "Reassigned to your team"
    WATCHING = "watching", "Copied in on a ticket"
    MERGED = "merged", "Your request merged into another"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class WebhookEndpoint(models.Model):
    """An outgoing webhook for a team's chat tool, configured in the admin."""

    name = models.CharField(max_length=100)
    queue = models.ForeignKey(
        "tickets.Queue",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="Events on tickets owned by this team. Empty: every team.",
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Shared secret for the X-Handoff-Signature HMAC.")
    is_active = models.BooleanField(default=True)
    kinds = models.JSONField(
        default=list,
        blank=True,
        help_text='Event kinds to send, e.g. ["escalated_to_team", "sla_breached"]. Empty: all.',
    )
    timeout_seconds = models.PositiveSmallIntegerField(default=5)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        unknown = sorted(set(self.kinds or []) - set(NotificationKind.values))
        if unknown:
            raise ValidationError({"kinds": f"Unknown kinds: {', '.join(unknown)}."})
        if not 1 <= self.timeout_seconds <= 30:
            raise ValidationError({"timeout_seconds": "Between 1 and 30 seconds."})
        if self.url:
            try:
                validate_webhook_url(self.url)
            except ValidationError as exc:
                raise ValidationError({"url": exc.messages})

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class Notification(models.Model):
    # Indexes are paid on every outbox insert (a sweep catch-up writes ~7 rows a ticket): the
    # recipient's own index is the inbox index's leading column, and only emails carry a
    # Message-ID worth finding (inbound threading), so neither has an index of its own.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    webhook = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    channel = models.CharField(max_length=16, choices=NotificationChannel.choices)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        "tickets.TicketEvent", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took it (status sending).")
    message_id = models.CharField(
        max_length=255, blank=True, help_text="Message-ID of the email we sent (threads replies)."
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient", "channel"],
                condition=Q(webhook__isnull=True),
                name="one_delivery_per_event_recipient_channel",
            ),
            models.UniqueConstraint(
                fields=["event", "webhook"], condition=Q(webhook__isnull=False), name="one_delivery_per_event_webhook"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["recipient", "channel", "read_at"], name="notification_inbox"),
            # inbound.py finds the email a reply answers: channel = email AND message_id IN (…)
            models.Index(fields=["message_id"], condition=Q(channel="email"), name="notification_email_message_id"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.webhook or self.recipient} ({self.channel})"


# Email is on by default only where someone must act (or where the conversation
# with the requester happens by mail); everything is in-app by default.
EMAIL_ON_BY_DEFAULT = frozenset(
    {
        NotificationKind.ASSIGNED,
        NotificationKind.ESCALATED_TO_TEAM,
        NotificationKind.SLA_BREACHED,
        NotificationKind.ON_CALL_PAGE,
        NotificationKind.PUBLIC_REPLY,
        NotificationKind.RESOLVED,
    }
)


# The on-call channel: a page reaches the person on call in-app and by email, whatever
# their preferences (a muted page is a missed incident). notify() ignores preferences for it.
ON_CALL_CHANNELS = frozenset({NotificationChannel.IN_APP, NotificationChannel.EMAIL})


def is_on_call_page(kind: str) -> bool:
    return kind == NotificationKind.ON_CALL_PAGE


def channel_default(*, channel: str, kind: str) -> bool:
    if is_on_call_page(kind):
        return channel in ON_CALL_CHANNELS
    if channel == NotificationChannel.IN_APP:
        return True
    if channel == NotificationChannel.EMAIL:
        return kind in EMAIL_ON_BY_DEFAULT
    return False


class NotificationPreference(models.Model):
    """A person's choice for one channel × kind; no row means the default (channel_default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    channel = models.CharField(
        max_length=16, choices=[(NotificationChannel.IN_APP, "In-app"), (NotificationChannel.EMAIL, "Email")]
    )
    enabled = models.BooleanField()

    class Meta:
        ordering = ["user", "kind", "channel"]
        constraints = [models.UniqueConstraint(fields=["user", "kind", "channel"], name="one_preference_per_choice")]

    def __str__(self):
        return f"{self.user}: {self.kind} by {self.channel} {'on' if self.enabled else 'off'}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class OnCallRotation(models.Model):
    """A team's on-call rotation: members take turns of `rotation_length_days`, handing over
    at `handover_time` (wall clock in `time_zone`), on `handover_weekday` or any day."""

    queue = models.OneToOneField("tickets.Queue", on_delete=models.CASCADE, related_name="on_call_rotation")
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    handover_time = models.TimeField(default="09:00")
    handover_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, null=True, blank=True, help_text="Empty: hand over on any day (daily rotations)."
    )
    rotation_length_days = models.PositiveSmallIntegerField(default=7)
    starts_on = models.DateField(help_text="The first shift (of the member in position 1) starts on this date.")

    class Meta:
        ordering = ["queue__name"]

    def __str__(self):
        return f"On call: {self.queue}"

    def clean(self):
        if self.rotation_length_days < 1:
            raise ValidationError({"rotation_length_days": "At least one day."})
        if self.handover_weekday is not None and self.rotation_length_days % 7:
            raise ValidationError(
                {"rotation_length_days": "With a hand-over weekday, a turn lasts whole weeks (7, 14, …)."}
            )


class OnCallMember(models.Model):
    rotation = models.ForeignKey(OnCallRotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["rotation", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["rotation", "user"], name="one_turn_per_member")]

    def __str__(self):
        return f"{self.position}. {self.user}"


class OnCallOverride(models.Model):
    """Someone covers for the scheduled person (holiday, swap). Wins over the rotation."""

    rotation = models.ForeignKey(OnCallRotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["rotation", "starts_at", "ends_at"], name="oncall_override_window")]

    def __str__(self):
        return f"{self.user} covers {self.rotation.queue} ({self.reason})"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "An override ends after it starts."})


class InboundOutcome(models.TextChoices):
    TICKET_CREATED = "ticket_created", "Created a ticket"
    COMMENT_ADDED = "comment_added", "Added a reply"
    IGNORED_AUTO_REPLY = "ignored_auto_reply", "Ignored: auto-reply"
    IGNORED_LOOP = "ignored_loop", "Ignored: mail loop"
    REJECTED = "rejected", "Rejected"
    ERROR = "error", "Error"


class InboundMessage(models.Model):
    """Every mail we read, once (Message-ID is unique): what we did with it and why."""

    message_id = models.CharField(max_length=255, unique=True)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=24, choices=InboundOutcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.message_id} → {self.outcome}"
