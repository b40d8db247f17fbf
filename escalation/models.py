"""Escalation data: the five-field handoff, the paths it travels, the category
checklists it must answer, and the automatic trigger rules that start one.

Fields and cheap properties only. Every write goes through escalation.services.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from tickets.conditions import Conditions, KeywordRule
from tickets.models import Category, Impact, Priority, Queue, Ticket, Tier, Urgency


class Trigger(models.TextChoices):
    TIME_EXCEEDED = "time_exceeded", "Time exceeded"
    ACCESS_RESTRICTION = "access_restriction", "Access restriction"
    COMPLEXITY_LIMIT = "complexity_limit", "Complexity limit"
    INTEGRATION_FAILURE = "integration_failure", "Integration failure"
    SECURITY_CONCERN = "security_concern", "Security / compliance"
    BUSINESS_IMPACT = "business_impact", "Business impact"


TRIGGER_DESCRIPTIONS = {
    Trigger.TIME_EXCEEDED: "The ticket outlived its Tier 1 time budget (automatic).",
    Trigger.ACCESS_RESTRICTION: "Needs permissions Tier 1 does not hold.",
    Trigger.COMPLEXITY_LIMIT: "Cross-system dependencies beyond Tier 1 scope.",
    Trigger.INTEGRATION_FAILURE: "Two systems stopped talking; needs backend access.",
    Trigger.SECURITY_CONCERN: (
        "Possible data exposure, unauthorized access, regulatory risk. Fast-tracked to the security path, "
        "priority at least P2, visibility restricted."
    ),
    Trigger.BUSINESS_IMPACT: "A business-critical service is hit, e.g. an organization-wide outage.",
}

# The five fields of a handoff, in the order a person fills them in.
HANDOFF_FIELDS = ("problem_summary", "steps_tried", "error_evidence", "affected_scope", "urgency")
HANDOFF_FIELD_LABELS = {
    "problem_summary": "What is wrong",
    "steps_tried": "What was already tried",
    "error_evidence": "Evidence, verbatim",
    "affected_scope": "Who is affected",
    "urgency": "How urgent",
}


class Outcome(models.TextChoices):
    AWAITING = "awaiting", "Awaiting Tier 2"
    ACCEPTED = "accepted", "Accepted"
    RETURNED = "returned", "Returned to Tier 1"


class ReturnReason(models.TextChoices):
    HANDOFF_INCOMPLETE = "handoff_incomplete", "Handoff incomplete"
    WITHIN_TIER1_SCOPE = "within_tier1_scope", "Within Tier 1 scope"
    WRONG_TEAM = "wrong_team", "Wrong team"


class EscalationPath(models.Model):
    """(category or queue, trigger) → a Tier 2 team, with an owner and an after-hours target.

    The most specific active path wins: category + trigger, then Tier 1 queue +
    trigger, then the trigger-only default (both empty).
    """

    name = models.CharField(max_length=100)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The Tier 1 queue escalating (leave empty to match any).",
    )
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    to_queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+", help_text="The Tier 2 team.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The named owner of this path (usually the team lead).",
    )
    after_hours_queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Used outside the Tier 2 team's business hours (empty: the team itself).",
    )
    after_hours_notify_on_call = models.BooleanField(
        default=True, help_text="Outside business hours, page whoever is on call for the target team."
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=100, help_text="Lower wins among equally specific paths.")

    class Meta:
        ordering = ["trigger", "position", "id"]

    def __str__(self):
        return self.name

    @property
    def specificity(self) -> int:
        if self.category_id:
            return 2
        if self.queue_id:
            return 1
        return 0

    def clean(self):
        errors = {}
        if self.to_queue_id and self.to_queue.tier != Tier.TWO:
            errors["to_queue"] = "An escalation path leads to a Tier 2 team."
        if self.after_hours_queue_id and self.after_hours_queue.tier != Tier.TWO:
            errors["after_hours_queue"] = "The after-hours target must be a Tier 2 team too."
        if self.queue_id and self.queue.tier != Tier.ONE:
            errors["queue"] = "Paths start from a Tier 1 queue."
        if errors:
            raise ValidationError(errors)


class ChecklistItem(models.Model):
    """One documentation question a category's escalations must answer (admin-defined)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="checklist_items")
    key = models.SlugField(max_length=50, help_text="Stable name used by the API (checklist: {key: answer}).")
    question = models.CharField(max_length=200)
    required = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["category", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["category", "key"], name="one_checklist_key_per_category")]

    def __str__(self):
        return f"{self.category}: {self.question}"


class TriggerRule(KeywordRule, models.Model):
    """An automatic trigger: when every set condition holds, do every set action.

    Evaluated at intake, on update and by the SLA sweep (escalation.rules). It
    fires at most once per ticket per cycle (a reopen starts a new cycle).
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    is_active = models.BooleanField(default=True)
    # conditions (empty = any)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, null=True, blank=True)
    min_priority = models.CharField(
        max_length=2, choices=Priority.choices, blank=True, help_text="Matches this priority or higher."
    )
    impact = models.CharField(max_length=16, choices=Impact.choices, blank=True)
    keywords = models.CharField(
        max_length=500, blank=True, help_text="Comma-separated; any one in the title or description matches."
    )
    requester_is_vip = models.BooleanField(null=True, blank=True, help_text="Match VIP (yes) or non-VIP (no).")
    min_reopen_count = models.PositiveIntegerField(null=True, blank=True)
    min_minutes_in_tier = models.PositiveIntegerField(
        null=True, blank=True, help_text="Time in the current tier; checked by the periodic SLA sweep."
    )
    # actions
    escalate_with_trigger = models.CharField(
        max_length=32, choices=Trigger.choices, blank=True, help_text="Escalate along the path for this trigger."
    )
    raise_priority_to = models.CharField(
        max_length=2, choices=Priority.choices, blank=True, help_text="Raise to at least this priority."
    )
    notify_team_lead = models.BooleanField(default=False, help_text="Notify the owning team's lead.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @property
    def conditions(self) -> Conditions:
        return Conditions(
            category_id=self.category_id,
            category=self.category,
            tier=self.tier,
            min_priority=self.min_priority,
            impact=self.impact,
            keywords=tuple(self.keyword_list),
            requester_is_vip=self.requester_is_vip,
            min_reopen_count=self.min_reopen_count,
            min_minutes_in_tier=self.min_minutes_in_tier,
        )

    def clean(self):
        if self.conditions.is_empty():
            raise ValidationError("A trigger rule needs at least one condition.")
        if not (self.escalate_with_trigger or self.raise_priority_to or self.notify_team_lead):
            raise ValidationError("A trigger rule must escalate, raise the priority or notify (or several).")


class TriggerRuleFiring(models.Model):
    """When a rule fired for a ticket; the unique key makes it fire once per ticket per cycle."""

    rule = models.ForeignKey(TriggerRule, on_delete=models.CASCADE, related_name="firings")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    reopen_count = models.PositiveIntegerField(help_text="The ticket's cycle when it fired.")
    moment = models.CharField(max_length=16)
    fired_at = models.DateTimeField(default=timezone.now)
    actions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-fired_at"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "ticket", "reopen_count"], name="rule_fires_once_per_cycle")
        ]

    def __str__(self):
        return f"{self.rule} on {self.ticket_id}"


class RuleCheck(models.Model):
    """When the sweep must next evaluate a ticket's time-based trigger rules ("time in tier ≥ N min").

    One row per open ticket that has such a rule still to come; the sweep reads the due
    ones through the index, so a time rule runs on time whether or not an SLA clock is due.
    """

    ticket = models.OneToOneField(Ticket, primary_key=True, on_delete=models.CASCADE, related_name="+")
    next_check_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"Rules of {self.ticket_id} at {self.next_check_at}"


class Escalation(models.Model):
    """One handoff from Tier 1 to Tier 2 and what Tier 2 made of it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    # the five fields
    problem_summary = models.TextField(blank=True)
    steps_tried = models.TextField(blank=True)
    error_evidence = models.TextField(blank=True, help_text="Exactly as pasted: never stripped or normalised.")
    affected_scope = models.CharField(max_length=16, choices=Impact.choices, blank=True)
    affected_count = models.PositiveIntegerField(null=True, blank=True)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, blank=True)
    checklist = models.JSONField(default=dict, blank=True, help_text="Category checklist answers {key: answer}.")
    # the route
    from_queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    to_queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    path = models.ForeignKey(EscalationPath, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    after_hours = models.BooleanField(default=False, help_text="Sent outside the Tier 2 team's business hours.")
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tier1_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who owned the ticket in Tier 1; a return goes back to them.",
    )
    escalated_at = models.DateTimeField(default=timezone.now)
    is_automatic = models.BooleanField(default=False)
    missing_fields = models.JSONField(default=list, blank=True, help_text="Automatic escalations: what is missing.")
    rule = models.ForeignKey(TriggerRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Tier 2's outcome
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.AWAITING)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.CharField(max_length=32, choices=ReturnReason.choices, blank=True)
    return_note = models.TextField(blank=True)
    returned_missing_fields = models.JSONField(default=list, blank=True)
    kb_reference = models.CharField(max_length=500, blank=True, help_text="The article or playbook that solves it.")
    rerouted_to = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Returned as the wrong team: the Tier 2 team it was re-routed to.",
    )
    # handoff quality, rated by Tier 2
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-escalated_at", "-id"]
        indexes = [
            # The Tier 2 queue: awaiting escalations per team, oldest first.
            models.Index(fields=["to_queue", "outcome", "escalated_at"], name="escalation_tier2_queue"),
            models.Index(fields=["ticket", "-escalated_at"], name="escalation_ticket_recent"),
            models.Index(fields=["escalated_at"], name="escalation_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="escalation_rating_1_to_5",
            )
        ]

    def __str__(self):
        return f"{self.ticket_id} → {self.to_queue_id} ({self.trigger})"

    @property
    def is_current(self) -> bool:
        """Still Tier 2's to act on or working: the handoff can be completed or amended."""
        return self.outcome in (Outcome.AWAITING, Outcome.ACCEPTED)

    @property
    def missing_handoff_fields(self) -> list[str]:
        return [name for name in self.missing_fields if name in HANDOFF_FIELDS]

    @property
    def completeness(self) -> int:
        """How many of the five fields the handoff carries (5 = complete)."""
        return len(HANDOFF_FIELDS) - len(self.missing_handoff_fields)

    @property
    def time_to_accept(self):
        if self.accepted_at is None:
            return None
        return self.accepted_at - self.escalated_at
