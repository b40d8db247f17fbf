"""SLA configuration (calendars, policies, ladders) and per-ticket SLA records.

Fields and cheap properties only; every write goes through escalation.sla.services.
"""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tickets.conditions import Conditions
from tickets.models import TIME_ZONE_CHOICES, Category, Priority, Queue, Site
from tickets.notifications.targets import validate_webhook_url


class Calendar(models.Model):
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    is_24x7 = models.BooleanField("24×7", default=False, help_text="Every second counts; intervals are ignored.")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, for importing public holidays")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class WorkingInterval(models.Model):
    """One working interval on one weekday, in the calendar's local wall time.

    An end of 00:00 means midnight at the end of the day (24:00).
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["calendar", "weekday", "start"]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def start_minutes(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minutes(self) -> int:
        minutes = self.end.hour * 60 + self.end.minute
        return 24 * 60 if minutes == 0 else minutes

    def clean(self):
        if self.start is not None and self.end is not None and self.end != time(0) and self.end <= self.start:
            raise ValidationError({"end": "The interval must end after it starts (00:00 = midnight)."})


class Holiday(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="one_holiday_per_calendar_day")]

    def __str__(self):
        return f"{self.date} {self.name}"


class QueueCalendar(models.Model):
    """A team's business hours (kept here so the tickets app needs no SLA column)."""

    queue = models.OneToOneField(Queue, on_delete=models.CASCADE, related_name="sla_calendar")
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="+")

    def __str__(self):
        return f"{self.queue} · {self.calendar}"


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"
    TIER1_BUDGET = "tier1_budget", "Tier 1 budget"
    TIER2_ACCEPT = "tier2_accept", "Tier 2 time-to-accept"


class SlaPolicy(models.Model):
    """Chosen by the first active policy (by position) whose conditions all hold; else the default.

    Empty conditions match anything.
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=100, help_text="Lower is tried first.")
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="Used when no other policy matches.")
    priority = models.CharField(max_length=2, choices=Priority.choices, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    requester_is_vip = models.BooleanField(null=True, blank=True, help_text="Match VIP (yes) or non-VIP (no).")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    security = models.BooleanField(
        null=True,
        blank=True,
        help_text="Match security tickets (restricted to the Security team: yes) or the others (no).",
    )
    calendar = models.ForeignKey(
        Calendar, null=True, blank=True, on_delete=models.PROTECT, related_name="policies", help_text="Empty: 24×7."
    )
    use_site_time_zone = models.BooleanField(
        default=False, help_text="Count the calendar's hours in the ticket's site time zone."
    )
    pause_first_response = models.BooleanField(
        default=False, help_text="Also pause a first response not yet given while waiting on the requester."
    )
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    tier1_budget_minutes = models.PositiveIntegerField(null=True, blank=True)
    tier2_accept_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_sla_policy")
        ]

    def __str__(self):
        return self.name

    @property
    def conditions(self) -> Conditions:
        """Empty for the default policy; a non-default one without conditions matches nothing."""
        return Conditions(
            priority=self.priority,
            category_id=self.category_id,
            requester_is_vip=self.requester_is_vip,
            site_id=self.site_id,
            restricted=self.security,
        )

    def target_minutes(self, target: str) -> int | None:
        return getattr(self, f"{target}_minutes")


class OffsetKind(models.TextChoices):
    PERCENT = "percent", "% of the target"
    MINUTES = "minutes", "business minutes from due (negative = before)"


class LadderLevel(models.Model):
    """One rung of a policy's escalation ladder: fires once per SLA record when its moment comes."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="ladder")
    target = models.CharField(max_length=16, choices=Target.choices)
    position = models.PositiveIntegerField(default=0)
    offset_kind = models.CharField(max_length=8, choices=OffsetKind.choices, default=OffsetKind.PERCENT)
    offset = models.IntegerField(help_text="Percent of the target (50, 100, 150) or minutes relative to due.")
    notify_assignee = models.BooleanField(default=True)
    notify_team_lead = models.BooleanField(default=False)
    notify_managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    raise_priority = models.BooleanField(default=False, help_text="Raise the ticket's priority one step.")
    escalate = models.BooleanField(default=False, help_text="Escalate along the category's path (time exceeded).")
    page_on_call = models.BooleanField(default=False)
    webhook_url = models.URLField(blank=True)

    class Meta:
        ordering = ["policy", "target", "position", "id"]

    def __str__(self):
        unit = "%" if self.offset_kind == OffsetKind.PERCENT else " min from due"
        return f"{self.get_target_display()} at {self.offset}{unit}"

    def clean(self):
        if self.webhook_url:
            try:
                validate_webhook_url(self.webhook_url)
            except ValidationError as exc:
                raise ValidationError({"webhook_url": exc.messages})

    def offset_seconds(self, target_seconds: int) -> int:
        """Business seconds from the record's start to this level's moment (never negative)."""
        if self.offset_kind == OffsetKind.PERCENT:
            return max(0, target_seconds * self.offset // 100)
        return max(0, target_seconds + self.offset * 60)

    def is_at_or_after_due(self, target_seconds: int) -> bool:
        return self.offset_seconds(target_seconds) >= target_seconds


class Stage(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


class Segment(models.TextChoices):
    TIER1 = "tier1", "Tier 1"
    AWAITING_TIER2 = "awaiting_tier2", "Awaiting Tier 2"
    TIER2 = "tier2", "Tier 2"
    PAUSED = "paused", "Paused"


class SlaRecord(models.Model):
    """One clock: a ticket's target in one cycle (reopen starts the next cycle).

    A record is live while stopped_at is empty. A breached record stays live
    (stage breached) until the work it measures is done: later ladder levels
    still fire and the elapsed time keeps being attributed to tiers.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_records")
    target = models.CharField(max_length=16, choices=Target.choices)
    cycle = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField(default=True, help_text="Belongs to the ticket's current cycle.")
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    calendar = models.ForeignKey(Calendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    time_zone = models.CharField(max_length=64, default="UTC")
    target_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    original_due_at = models.DateTimeField()
    warn_at = models.DateTimeField(null=True, blank=True, help_text="First ladder level before due (at risk).")
    paused_business_seconds = models.PositiveIntegerField(default=0)
    paused_since = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.RUNNING)
    stopped_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    ever_breached = models.BooleanField(default=False)
    tier1_seconds = models.PositiveIntegerField(default=0)
    awaiting_tier2_seconds = models.PositiveIntegerField(default=0)
    tier2_seconds = models.PositiveIntegerField(default=0)
    paused_seconds = models.PositiveIntegerField(default=0)
    segment_started_at = models.DateTimeField(null=True, blank=True)
    segment_tier = models.CharField(max_length=16, choices=Segment.choices, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "cycle", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target"], condition=Q(stopped_at__isnull=True), name="one_live_sla_record_per_target"
            )
        ]
        indexes = [
            # The sweep: "what needs looking at now", never a scan of open tickets.
            models.Index(fields=["next_check_at"], condition=Q(next_check_at__isnull=False), name="sla_next_check"),
            # Queues: live clocks by due time; breached / paused filters.
            models.Index(fields=["stage", "due_at"], condition=Q(stopped_at__isnull=True), name="sla_live_stage_due"),
            models.Index(fields=["ticket", "is_current"], name="sla_ticket_current"),
            models.Index(fields=["ever_breached", "ticket"], condition=Q(ever_breached=True), name="sla_ever_breached"),
            # The dashboard reads a period's finished clocks and breaches by time. Covering: every
            # column its figures read is in the index, so a 90-day period is an index-only scan
            # (305k finished clocks at 1M tickets: 590 → 207 ms for SLA attainment, breaches 719 →
            # 166 ms; bench/README.md "Reads at scale").
            models.Index(
                fields=["target", "stopped_at"],
                include=[
                    "stage",
                    "ticket",
                    "id",
                    "started_at",
                    "target_seconds",
                    "tier1_seconds",
                    "awaiting_tier2_seconds",
                    "tier2_seconds",
                    "paused_seconds",
                    "paused_business_seconds",
                ],
                condition=Q(stopped_at__isnull=False),
                name="sla_stopped_cover",
            ),
            models.Index(
                fields=["breached_at"],
                include=[
                    "ticket",
                    "id",
                    "target",
                    "tier1_seconds",
                    "awaiting_tier2_seconds",
                    "tier2_seconds",
                    "segment_tier",
                ],
                condition=Q(ever_breached=True),
                name="sla_breached_cover",
            ),
        ]

    def __str__(self):
        return f"{self.get_target_display()} · cycle {self.cycle} · {self.get_stage_display()}"

    @property
    def is_live(self) -> bool:
        return self.stopped_at is None

    @property
    def elapsed_business_seconds(self) -> int:
        return self.tier1_seconds + self.awaiting_tier2_seconds + self.tier2_seconds + self.paused_seconds


class LadderFiring(models.Model):
    """A ladder level that fired (or was deliberately skipped) for one record: the exactly-once guard."""

    record = models.ForeignKey(SlaRecord, on_delete=models.CASCADE, related_name="firings")
    level = models.ForeignKey(LadderLevel, on_delete=models.CASCADE, related_name="+")
    fired_at = models.DateTimeField()
    suppressed = models.BooleanField(
        default=False, help_text="Passed while recomputing (priority change, repair): recorded, not announced."
    )
    event = models.ForeignKey("tickets.TicketEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["record", "fired_at"]
        constraints = [models.UniqueConstraint(fields=["record", "level"], name="ladder_level_fires_once")]

    def __str__(self):
        return f"{self.level} for {self.record_id}"


class SweepState(models.Model):
    """Single row: when the sweep last finished (operators' view of catching up)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_swept_at = models.DateTimeField(null=True, blank=True)
    last_report = models.CharField(max_length=300, blank=True)
    running_until = models.DateTimeField(
        null=True, blank=True, help_text="A sweep run holds the lease until then (one run at a time)."
    )

    def __str__(self):
        return f"Last sweep {self.last_swept_at}"
