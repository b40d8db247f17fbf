"""Every write to the knowledge base: articles, revisions, votes, links, playbook steps, suggestions.

Each action runs in one transaction. Ticket-touching actions lock the ticket
first (tickets.locks) and write the timeline through tickets.events.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import FieldError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from tickets import events, roles
from tickets.errors import InvalidInput, InvalidTransition, NotAllowed
from tickets.locks import lock_ticket
from tickets.models import Category, Ticket, TicketStatus, User
from tickets.transitions import check_transition

from .models import (
    Article,
    ArticleRevision,
    ArticleStatus,
    ArticleTicketLink,
    ArticleVote,
    PlaybookStep,
    StepOutcome,
    SuggestionContext,
    SuggestionShown,
    TicketPlaybookStep,
)

SEARCH_CONFIG = "english"
# The same article shown to the same person in the same context within this window is one showing.
SUGGESTION_DEDUP_WINDOW = timedelta(minutes=30)


def _require_agent(user: User | None) -> None:
    if user is None or not roles.is_agent(user):
        raise NotAllowed("Only support agents can do this.")


def _normalise_tags(tags: str | list[str]) -> str:
    items = tags.split(",") if isinstance(tags, str) else tags
    seen: list[str] = []
    for tag in items:
        clean = tag.strip().lower()
        if clean and clean not in seen:
            seen.append(clean)
    return ", ".join(seen)


def _validate_article(*, title: str, body_markdown: str, tags: str) -> None:
    errors: dict[str, list[str]] = {}
    if len(title.strip()) < 5:
        errors["title"] = ["Give the article a title of at least 5 characters."]
    if len(title) > 200:
        errors["title"] = ["Keep the title under 200 characters."]
    if len(body_markdown.strip()) < 20:
        errors["body_markdown"] = ["Write at least a few sentences (20 characters or more)."]
    if len(tags) > 300:
        errors["tags"] = ["Too many tags (300 characters at most)."]
    if errors:
        raise InvalidInput(errors)


def _unique_slug(title: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:200] or "article"
    slug, n = base, 2
    others = Article.objects.exclude(pk=exclude_pk) if exclude_pk else Article.objects.all()
    while others.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _refresh_search_vector(article_id: int) -> None:
    """Recompute the weighted tsvector (title A, tags B, body C). PostgreSQL only; SQLite searches live."""
    if connection.vendor != "postgresql":
        return
    Article.objects.filter(pk=article_id).update(
        search_vector=SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("tags", weight="B", config=SEARCH_CONFIG)
        + SearchVector("body_markdown", weight="C", config=SEARCH_CONFIG)
    )


def _append_revision(article: Article, *, acting_user: User | None, note: str = "") -> ArticleRevision:
    last = article.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    return ArticleRevision.objects.create(
        article=article,
        number=last + 1,
        title=article.title,
        body_markdown=article.body_markdown,
        edited_by=acting_user,
        edited_at=article.updated_at,
        note=note[:200],
    )


@transaction.atomic
def article_create(
    *,
    title: str,
    body_markdown: str,
    acting_user: User,
    category: Category | None = None,
    tags: str | list[str] = "",
    is_public: bool = False,
    publish: bool = False,
    link_ticket: Ticket | None = None,
) -> Article:
    """A new article (a draft unless publish=True), with revision 1; optionally linked to the ticket it solved."""
    _require_agent(acting_user)
    tags = _normalise_tags(tags)
    _validate_article(title=title, body_markdown=body_markdown, tags=tags)
    now = timezone.now()
    article = Article.objects.create(
        title=title.strip(),
        slug=_unique_slug(title),
        category=category,
        tags=tags,
        body_markdown=body_markdown,
        is_public=is_public,
        status=ArticleStatus.PUBLISHED if publish else ArticleStatus.DRAFT,
        published_at=now if publish else None,
        author=acting_user,
        created_at=now,
        updated_at=now,
    )
    _append_revision(article, acting_user=acting_user, note="Created")
    _refresh_search_vector(article.pk)
    if link_ticket is not None:
        article_link_ticket(article_id=article.pk, ticket_id=link_ticket.pk, acting_user=acting_user)
    return article


@transaction.atomic
def article_update(
    *,
    article_id: int,
    acting_user: User,
    title: str | None = None,
    body_markdown: str | None = None,
    category: Category | None | type[...] = ...,
    tags: str | list[str] | None = None,
    is_public: bool | None = None,
    note: str = "",
) -> Article:
    """Edit an article; every call appends a revision. Arguments left out stay as they are."""
    _require_agent(acting_user)
    article = Article.objects.select_for_update().get(pk=article_id)
    if title is not None:
        article.title = title.strip()
    if body_markdown is not None:
        article.body_markdown = body_markdown
    if category is not ...:
        article.category = category
    if tags is not None:
        article.tags = _normalise_tags(tags)
    if is_public is not None:
        article.is_public = is_public
    _validate_article(title=article.title, body_markdown=article.body_markdown, tags=article.tags)
    article.updated_at = timezone.now()
    article.save()
    _append_revision(article, acting_user=acting_user, note=note or "Edited")
    _refresh_search_vector(article.pk)
    return article


@transaction.atomic
def article_publish(*, article_id: int, acting_user: User, publish: bool = True) -> Article:
    """Publish (or take back to draft). Content is unchanged, so no revision is appended."""
    _require_agent(acting_user)
    article = Article.objects.select_for_update().get(pk=article_id)
    target = ArticleStatus.PUBLISHED if publish else ArticleStatus.DRAFT
    if article.status == target:
        return article
    article.status = target
    now = timezone.now()
    if publish:
        article.published_at = now
    article.updated_at = now
    article.save(update_fields=["status", "published_at", "updated_at"])
    return article


@transaction.atomic
def article_vote(*, article_id: int, helpful: bool, acting_user: User) -> ArticleVote:
    """“Was this helpful?” — once per person; voting again changes the vote, never counts twice."""
    if not isinstance(helpful, bool):
        raise InvalidInput({"helpful": ["Answer yes (true) or no (false)."]})
    # Lock the article so two votes never race on the counters.
    article = Article.objects.select_for_update().get(pk=article_id)
    if not article.is_published:
        raise InvalidTransition("Only published articles take votes.")
    vote = ArticleVote.objects.filter(article=article, user=acting_user).first()
    if vote is not None and vote.helpful == helpful:
        return vote
    counters: dict = {"helpful_yes" if helpful else "helpful_no": F("helpful_yes" if helpful else "helpful_no") + 1}
    if vote is None:
        vote = ArticleVote.objects.create(article=article, user=acting_user, helpful=helpful)
    else:
        old_field = "helpful_yes" if vote.helpful else "helpful_no"
        counters[old_field] = F(old_field) - 1
        vote.helpful = helpful
        vote.voted_at = timezone.now()
        vote.save(update_fields=["helpful", "voted_at"])
    Article.objects.filter(pk=article.pk).update(**counters)
    return vote


@transaction.atomic
def article_link_ticket(*, article_id: int, ticket_id: int, acting_user: User) -> ArticleTicketLink:
    """Record that this article solved the ticket (idempotent)."""
    _require_agent(acting_user)
    article = Article.objects.get(pk=article_id)
    ticket = lock_ticket(ticket_id)
    link, _ = ArticleTicketLink.objects.get_or_create(
        article=article, ticket=ticket, defaults={"linked_by": acting_user, "linked_at": timezone.now()}
    )
    return link


@transaction.atomic
def playbook_step_record(
    *, ticket_id: int, step_id: int, outcome: str, result: str = "", acting_user: User
) -> TicketPlaybookStep:
    """Tick a playbook step on a ticket with its outcome; the timeline records it.

    1. refuse bad input before touching anything;
    2. lock the ticket, check it is still being worked (new, open, pending, escalated);
    3. the step must belong to an active playbook of the ticket's category;
    4. upsert the (ticket, step) record and write a PLAYBOOK_STEP event with old and new outcome.
    """
    _require_agent(acting_user)
    result = (result or "").strip()
    errors: dict[str, list[str]] = {}
    if outcome not in StepOutcome.values:
        errors["outcome"] = [f"Choose one of: {', '.join(StepOutcome.values)}."]
    elif outcome != StepOutcome.SUCCEEDED and not result:
        errors["result"] = ["Say what happened (or why it was skipped); Tier 2 reads this."]
    if len(result) > 2000:
        errors["result"] = ["Keep the result under 2000 characters; attach logs to the ticket."]
    step = PlaybookStep.objects.select_related("playbook").filter(pk=step_id).first()
    if step is None:
        errors["step"] = ["No such playbook step."]
    if errors:
        raise InvalidInput(errors)
    ticket = lock_ticket(ticket_id)
    check_transition(ticket, "update")
    if step.playbook.category_id != ticket.category_id or not step.playbook.is_active:
        raise InvalidInput({"step": [f"This step is not in an active playbook for {ticket.category}."]})
    now = timezone.now()
    record = TicketPlaybookStep.objects.filter(ticket=ticket, step=step).first()
    old_outcome = record.outcome if record else None
    if record is None:
        record = TicketPlaybookStep.objects.create(
            ticket=ticket, step=step, outcome=outcome, result=result, done_by=acting_user, done_at=now
        )
    else:
        record.outcome, record.result, record.done_by, record.done_at = outcome, result, acting_user, now
        record.save(update_fields=["outcome", "result", "done_by", "done_at"])
    events.playbook_step_recorded(
        ticket=ticket,
        actor=acting_user,
        playbook=step.playbook.name,
        step=step.instruction,
        outcome=outcome,
        result=result,
        old_outcome=old_outcome,
    )
    return record


@dataclass(frozen=True)
class ArticleDraft:
    """The prefilled form for “create article from ticket”; nothing is saved until the agent submits."""

    title: str
    body_markdown: str
    category: Category | None
    tags: str
    ticket: Ticket


def _latest_escalation(ticket: Ticket):
    """The ticket's latest escalation, or None. Looked up lazily: the escalation app may not define it yet."""
    try:
        model = apps.get_model("escalation", "Escalation")
    except LookupError:
        return None
    try:
        return model.objects.filter(ticket=ticket).order_by("-pk").first()
    except FieldError:
        return None


def article_draft_from_ticket(*, ticket: Ticket) -> ArticleDraft:
    """Prefill an article from a resolved ticket: problem, evidence, what was tried, resolution."""
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise InvalidTransition(
            f"{ticket.reference} is not resolved yet; only a resolved ticket can become an article."
        )
    from .selectors import steps_tried_text  # selectors import models only; no cycle at import time

    escalation = _latest_escalation(ticket)
    problem = (getattr(escalation, "problem_summary", "") or "").strip() or ticket.description.strip()
    evidence = (getattr(escalation, "error_evidence", "") or "").strip()
    tried_lines = [line for line in steps_tried_text(ticket=ticket).splitlines() if line.strip()]
    escalation_tried = (getattr(escalation, "steps_tried", "") or "").strip()
    resolution = (
        ticket.comments.filter(is_public=True).order_by("-created_at", "-id").values_list("body", flat=True).first()
        or ""
    ).strip()

    parts = ["## Symptoms", "", problem, ""]
    if evidence:
        # Evidence stays verbatim: a fenced block keeps it exact and never rendered as markup.
        fence = "````" if "```" in evidence else "```"
        parts += ["## Error message", "", fence + "text", evidence, fence, ""]
    if escalation_tried:
        # The handoff's "what was tried" already starts from the ticked steps; the agent's edit wins.
        parts += ["## What to check first", "", escalation_tried, ""]
    elif tried_lines:
        parts += ["## What to check first", "", *[f"- {line}" for line in tried_lines], ""]
    parts += ["## Resolution", "", resolution or "_Describe the fix that worked._", ""]
    tags = ticket.category.slug if ticket.category_id else ""
    return ArticleDraft(
        title=ticket.title.strip(),
        body_markdown="\n".join(parts).strip() + "\n",
        category=ticket.category,
        tags=tags,
        ticket=ticket,
    )


@transaction.atomic
def suggestion_record(
    *,
    articles: list[Article],
    context: str,
    shown_to: User | None,
    ticket: Ticket | None = None,
) -> list[SuggestionShown]:
    """Remember which articles were suggested (deflection). Re-showing within the window is not a new showing."""
    if context not in SuggestionContext.values:
        raise InvalidInput({"context": [f"Choose one of: {', '.join(SuggestionContext.values)}."]})
    now = timezone.now()
    recent = SuggestionShown.objects.filter(
        context=context,
        shown_to=shown_to,
        ticket=ticket,
        shown_at__gte=now - SUGGESTION_DEDUP_WINDOW,
        article__in=articles,
    ).values_list("article_id", flat=True)
    already = set(recent)
    rows = [
        SuggestionShown(article=article, context=context, shown_to=shown_to, ticket=ticket, shown_at=now)
        for article in articles
        if article.pk not in already
    ]
    return SuggestionShown.objects.bulk_create(rows)


@transaction.atomic
def suggestion_opened(*, shown_id: int, acting_user: User) -> bool:
    """The person followed a suggestion shown to them. If they then file no ticket, it deflected one."""
    return bool(
        SuggestionShown.objects.filter(pk=shown_id, shown_to=acting_user, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )
    )


def suggestions_attach_to_ticket(*, ticket: Ticket, shown_to: User, within: timedelta = timedelta(hours=1)) -> int:
    """After intake: the suggestions just shown to this person (no ticket yet) belong to the ticket they filed."""
    return SuggestionShown.objects.filter(
        ticket__isnull=True,
        shown_to=shown_to,
        context__in=[SuggestionContext.INTAKE, SuggestionContext.PORTAL],
        shown_at__gte=timezone.now() - within,
    ).update(ticket=ticket)
