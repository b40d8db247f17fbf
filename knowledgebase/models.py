"""Knowledge base: articles (with revisions, votes, solved tickets), playbooks, suggestions shown.

Fields and cheap properties only. Every write goes through knowledgebase.services.
"""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    category = models.ForeignKey(
        "tickets.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    tags = models.CharField(max_length=300, blank=True, help_text="Comma-separated, e.g. “mfa, lockout”.")
    body_markdown = models.TextField(help_text="Markdown; rendered and sanitized when shown.")
    status = models.CharField(max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    is_public = models.BooleanField(default=False, help_text="Visible to requesters in the portal when published.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="kb_articles"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    # Denormalised from ArticleVote, changed in the same transaction as the vote row.
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)
    # PostgreSQL only (title A, tags B, body C); kept current by services._refresh_search_vector.
    # The GIN index is created by migration 0002 on PostgreSQL only; SQLite leaves this column empty.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    solved_tickets = models.ManyToManyField(
        "tickets.Ticket", through="ArticleTicketLink", related_name="kb_articles", blank=True
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["status", "is_public"], name="kb_article_visibility")]

    def __str__(self):
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleRevision(models.Model):
    """One row per save through the services; the history page reads these."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body_markdown = models.TextField()
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    edited_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="kb_one_revision_number")]

    def __str__(self):
        return f"{self.article} r{self.number}"


class ArticleVote(models.Model):
    """“Was this helpful?” — one vote per person per article (a second vote changes it)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    voted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="kb_one_vote_per_user")]

    def __str__(self):
        return f"{self.user} {'👍' if self.helpful else '👎'} {self.article}"


class ArticleTicketLink(models.Model):
    """An article that solved a ticket."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="kb_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-linked_at"]
        constraints = [models.UniqueConstraint(fields=["article", "ticket"], name="kb_one_link_per_ticket")]

    def __str__(self):
        return f"{self.article} ↔ {self.ticket_id}"


class Playbook(models.Model):
    """Ordered troubleshooting steps Tier 1 works through for a category."""

    category = models.ForeignKey("tickets.Category", on_delete=models.CASCADE, related_name="playbooks")
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    required_for_triggers = models.JSONField(
        default=list,
        blank=True,
        help_text='Escalation triggers that need every step worked first, e.g. ["complexity_limit"].',
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category__name", "name"]

    def __str__(self):
        return self.name


class PlaybookStep(models.Model):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=1)
    instruction = models.CharField(max_length=300)
    expected_outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["playbook", "position", "id"]

    def __str__(self):
        return f"{self.position}. {self.instruction}"


class StepOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class TicketPlaybookStep(models.Model):
    """A playbook step worked on a ticket. Ticking again updates it (and the timeline records both)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="playbook_steps")
    step = models.ForeignKey(PlaybookStep, on_delete=models.CASCADE, related_name="ticket_records")
    outcome = models.CharField(max_length=16, choices=StepOutcome.choices)
    result = models.TextField(blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["step__playbook_id", "step__position", "step_id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "step"], name="kb_one_record_per_ticket_step")]

    def __str__(self):
        return f"{self.step} on {self.ticket_id}: {self.outcome}"


class SuggestionContext(models.TextChoices):
    INTAKE = "intake", "At intake"
    ESCALATE = "escalate", "Before escalating"
    PORTAL = "portal", "While a requester asks for help"


class SuggestionShown(models.Model):
    """An article suggested to someone; with the ticket's outcome this measures deflection."""

    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="kb_suggestions"
    )
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="suggestions_shown")
    context = models.CharField(max_length=16, choices=SuggestionContext.choices)
    shown_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shown_at = models.DateTimeField(default=timezone.now, db_index=True)
    opened_at = models.DateTimeField(
        null=True, blank=True, help_text="They followed the suggestion; with no ticket after, it deflected one."
    )

    class Meta:
        ordering = ["-shown_at"]

    def __str__(self):
        return f"{self.article} shown ({self.context})"
