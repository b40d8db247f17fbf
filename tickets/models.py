"""Intake data: who, where, what, and the append-only record of what happened.

Fields and cheap properties only. Every write goes through tickets.services.
"""

import copy
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .conditions import Conditions, KeywordRule

TIME_ZONE_CHOICES = sorted((tz, tz) for tz in available_timezones())


class Impact(models.TextChoices):
    INDIVIDUAL = "individual", "One person"
    TEAM = "team", "A team"
    SITE = "site", "A site or department"
    ORGANIZATION = "organization", "The whole organization"


class Urgency(models.TextChoices):
    MINOR = "minor", "Minor / inconvenience"
    SLOWED = "slowed", "Work slowed"
    STOPPED = "stopped", "Work stopped"


class Priority(models.TextChoices):
    # Stored as P1..P4 so that lexical order is severity order.
    P1 = "P1", "P1 · Critical"
    P2 = "P2", "P2 · High"
    P3 = "P3", "P3 · Medium"
    P4 = "P4", "P4 · Low"


class Tier(models.IntegerChoices):
    ONE = 1, "Tier 1"
    TWO = 2, "Tier 2"


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    WALK_UP = "walk_up", "Walk-up"
    PORTAL = "portal", "Portal"
    EMAIL = "email", "Email"
    API = "api", "API"


class Site(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, for public holidays")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


def sites_by_id() -> dict[int, Site]:
    """Every site by id, shared by the process (copy one before hanging anything on it). Sites are
    configuration: read once per change (tickets.configcache)."""
    from . import configcache

    return configcache.cached("sites", lambda: {site.pk: site for site in Site.objects.all()})


def site_time_zone(site_id: int) -> str:
    """A site's time zone ("" if there is no such site)."""
    site = sites_by_id().get(site_id)
    return site.time_zone if site else ""


def site_get(site_id: int | None) -> Site | None:
    """A site by id from the configuration cache (a copy: the cached one stays clean); None for None."""
    if site_id is None:
        return None
    site = sites_by_id().get(site_id)
    return copy.copy(site) if site else Site.objects.filter(pk=site_id).first()


class User(AbstractUser):
    """A person: requester, agent, engineer, manager or admin (roles are groups)."""

    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="people")
    department = models.CharField(max_length=100, blank=True)
    is_vip = models.BooleanField("VIP", default=False)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, blank=True)

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def display_time_zone(self) -> str:
        if self.time_zone:
            return self.time_zone
        if self.site_id:
            return site_time_zone(self.site_id) or settings.TIME_ZONE
        return settings.TIME_ZONE


class Queue(models.Model):
    """A team and the queue of tickets it owns. Tier 1 desks and Tier 2 teams alike."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.ONE)
    description = models.TextField(blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_queues"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="queues")
    is_security = models.BooleanField(
        default=False, help_text="Tickets here are restricted to people allowed to see security tickets."
    )
    is_default_intake = models.BooleanField(
        default=False, help_text="Where a ticket lands when no rule and no category says otherwise."
    )
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")

    class Meta:
        ordering = ["tier", "name"]

    def __str__(self):
        return self.name


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    default_queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, related_name="+", help_text="Routing target when no rule matches."
    )
    default_impact = models.CharField(max_length=16, choices=Impact.choices, default=Impact.INDIVIDUAL)
    default_urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.SLOWED)
    is_security = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class ConfigStamp(models.Model):
    """Single row: a new token whenever configuration changes (tickets.configcache)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)

    def __str__(self):
        return self.token


class PriorityMatrixCell(models.Model):
    """One cell of the admin-editable impact × urgency → priority matrix."""

    impact = models.CharField(max_length=16, choices=Impact.choices)
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [models.UniqueConstraint(fields=["impact", "urgency"], name="one_priority_per_cell")]

    def __str__(self):
        return f"{self.get_impact_display()} × {self.get_urgency_display()} → {self.priority}"


class RoutingRule(KeywordRule, models.Model):
    """Intake routing: the first active rule (by position) whose conditions all hold decides.

    Empty conditions match anything; a rule with no condition at all is refused.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    is_active = models.BooleanField(default=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    keywords = models.CharField(
        max_length=500, blank=True, help_text="Comma-separated; any one in the title or description matches."
    )
    requester_is_vip = models.BooleanField(null=True, blank=True, help_text="Match VIP (yes) or non-VIP (no).")
    requester_site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    requester_department = models.CharField(max_length=100, blank=True)
    target_queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    raise_priority_to = models.CharField(
        max_length=2, choices=Priority.choices, blank=True, help_text="Raise to at least this priority."
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @property
    def conditions(self) -> Conditions:
        return Conditions(
            category_id=self.category_id,
            category=self.category,
            keywords=tuple(self.keyword_list),
            requester_is_vip=self.requester_is_vip,
            site_id=self.requester_site_id,
            site=self.requester_site,
            department=self.requester_department,
        )

    def clean(self):
        if self.conditions.is_empty():
            raise ValidationError("A routing rule needs at least one condition.")
        if not self.target_queue_id and not self.raise_priority_to:
            raise ValidationError("A routing rule must choose a queue, raise the priority, or both.")
        if self.target_queue_id and self.target_queue.tier != Tier.ONE:
            # Routing is not escalation: intake never lands in a Tier 2 queue.
            raise ValidationError({"target_queue": "Routing targets a Tier 1 queue; Tier 2 is reached by escalation."})


class TicketStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Waiting on requester"
    ESCALATED = "escalated", "Escalated · awaiting Tier 2"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ESCALATED)


class Ticket(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField()
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PORTAL)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tickets")
    impact = models.CharField(max_length=16, choices=Impact.choices)
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices, db_index=True)
    priority_override_reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.ONE)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    tier1_queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The Tier 1 queue a returned escalation goes back to.",
    )
    is_restricted = models.BooleanField(default=False, help_text="Security: only people allowed may see it.")
    reopen_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every change (optimistic locking).")
    routing_rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    routing_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Denormalised from the running SLA records so queues sort on one indexed column.
    first_response_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # No index of its own: walking every ticket in due order, PostgreSQL took it for the desk and
    # read the whole closed history (due first) before the first open ticket (237 ms at 200k).
    # The queues use the partial open-ticket indexes below; the API's tier filter ticket_tier_due.
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="watched_tickets",
        help_text="CC: people told about replies and changes, who may follow the ticket.",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_duplicates",
        help_text="This ticket was a duplicate, closed and carried over into that one.",
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("work_tickets", "Can work tickets as a support agent"),
            ("escalate_ticket", "Can escalate tickets to Tier 2"),
            ("work_tier2", "Can accept and return Tier 2 escalations"),
            ("view_restricted_ticket", "Can see security-restricted tickets"),
            ("override_priority", "Can override a ticket's derived priority"),
            ("view_dashboard", "Can see the manager dashboard"),
        ]
        indexes = [
            models.Index(fields=["status", "tier", "queue"], name="ticket_status_tier_queue"),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester_recent"),
            # The work queues at 1M tickets: only open tickets are indexed, in the pages' order
            # (most urgent due first, no target last). The Tier 1 desk filters by tier, the
            # Tier 2 queue by team; both count and page through these without touching history.
            models.Index(
                fields=["tier", "resolution_due_at", "created_at", "id"],
                condition=Q(status__in=["new", "open", "pending", "escalated"]),
                name="ticket_open_tier_due",
            ),
            models.Index(
                fields=["queue", "resolution_due_at", "created_at", "id"],
                condition=Q(status__in=["new", "open", "pending", "escalated"]),
                name="ticket_open_queue_due",
            ),
            # The API's tier filter with its due-time ordering, over every status.
            models.Index(fields=["tier", "resolution_due_at", "id"], name="ticket_tier_due"),
            # The desk's "my open tickets", in the pages' order: a few rows instead of an agent's
            # whole history (a BitmapAnd of the assignee and status indexes, then a sort).
            models.Index(
                fields=["assignee", "resolution_due_at", "created_at", "id"],
                condition=Q(status__in=["new", "open", "pending", "escalated"]),
                name="ticket_open_assignee_due",
            ),
            # The Tier 2 queue's "awaiting acceptance" (a team's escalated tickets, most urgent first,
            # the first 50): PostgreSQL read every awaiting ticket of the team through
            # ticket_visible_tier_status and sorted them (3–11 ms for 1,948 at 1M) rather than walk
            # ticket_open_queue_due past the team's accepted work. Small: escalated tickets only.
            models.Index(
                fields=["queue", "resolution_due_at", "created_at", "id"],
                condition=Q(status="escalated", is_restricted=False),
                name="ticket_awaiting_queue_due",
            ),
            # The page counts (the desk's open Tier 1 tickets, the API's `count` for ?tier=) as
            # index-only scans: visibility (`NOT is_restricted`) is the index's condition, so
            # the heap is not read row by row. Small: tier and status deduplicate.
            models.Index(
                fields=["tier", "status", "queue"], condition=Q(is_restricted=False), name="ticket_visible_tier_status"
            ),
            # The dashboard at 1M: tickets resolved in a period (open ones have no resolved_at); the
            # few restricted tickets a viewer may not see, so SLA records and escalations are scoped
            # by leaving those out instead of joining every ticket; and the ids a viewer without
            # clearance sees, so a tile's "tickets with a matching record" reads a narrow index
            # (index-only) rather than the whole ticket table.
            # Covering (index-only scans for the dashboard's one pass over the period's resolved and
            # created tickets: per day, assignee, team, first contact; per hour, site, escalated).
            models.Index(
                fields=["resolved_at"],
                include=["status", "is_restricted", "assignee", "queue", "tier", "reopen_count", "id"],
                condition=Q(resolved_at__isnull=False),
                name="ticket_resolved_cover",
            ),
            models.Index(fields=["created_at"], include=["is_restricted", "site", "id"], name="ticket_created_cover"),
            models.Index(fields=["id"], condition=Q(is_restricted=True), name="ticket_restricted"),
            models.Index(fields=["id"], condition=Q(is_restricted=False), name="ticket_unrestricted"),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return format_reference(self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def requester_is_vip(self) -> bool:
        """VIP treatment needs a verified requester: mail that nobody logged proves only a From header."""
        return self.requester.is_vip and not (self.channel == Channel.EMAIL and self.created_by_id is None)


def format_reference(number: int | None) -> str:
    return f"HD-{number:06d}" if number else "HD-new"


def parse_reference(value: str) -> int | None:
    """'HD-000123', 'hd-123' or '123' → 123; anything else → None."""
    text = value.strip().upper().removeprefix("HD-")
    return int(text) if text.isdigit() else None


class Comment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    is_public = models.BooleanField(help_text="A reply the requester sees; otherwise an internal note.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{'Reply' if self.is_public else 'Note'} on {self.ticket.reference}"


def attachment_path(instance, filename):
    return f"attachments/{instance.ticket_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    is_public = models.BooleanField(default=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    ROUTED = "routed", "Routed"
    COMMENTED = "commented", "Replied"
    NOTE_ADDED = "note_added", "Internal note"
    FIELD_CHANGED = "field_changed", "Changed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    ASSIGNED = "assigned", "Assigned"
    ATTACHMENT_ADDED = "attachment_added", "Attachment added"
    PENDING = "pending", "Waiting on requester"
    RESUMED = "resumed", "Resumed"
    ESCALATED = "escalated", "Escalated"
    HANDOFF_COMPLETED = "handoff_completed", "Handoff completed"
    ACCEPTED = "accepted", "Accepted by Tier 2"
    RETURNED = "returned", "Returned to Tier 1"
    RATED = "rated", "Handoff rated"
    REASSIGNED = "reassigned", "Reassigned"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    CLOSED = "closed", "Closed"
    RULE_FIRED = "rule_fired", "Trigger rule fired"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breached"
    SLA_RECOMPUTED = "sla_recomputed", "SLA recomputed"
    NOTIFIED = "notified", "Notification sent"
    PLAYBOOK_STEP = "playbook_step", "Playbook step"
    RESTRICTED = "restricted", "Restricted to Security"
    RESTRICTION_LIFTED = "restriction_lifted", "Restriction lifted"
    WATCHERS_CHANGED = "watchers_changed", "Watchers changed"
    LINKED = "linked", "Linked"
    MERGED = "merged", "Merged"


class TicketLink(models.Model):
    """Two related tickets (e.g. the same outage reported twice). Stored once, lower id first."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    other = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "other"], name="one_link_per_pair"),
            models.CheckConstraint(condition=models.Q(ticket__lt=models.F("other")), name="link_lower_id_first"),
        ]

    def __str__(self):
        return f"{format_reference(self.ticket_id)} ↔ {format_reference(self.other_id)}"


class AppendOnlyError(Exception):
    pass


class TicketEvent(models.Model):
    """The timeline: one row per thing that happened. Never updated, never deleted."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    is_public = models.BooleanField(default=False, help_text="Shown to the requester.")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_time")]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.ticket_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Timeline events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Timeline events are append-only.")
