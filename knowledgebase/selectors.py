"""Knowledge-base reads: who sees which article, search and suggestions, playbook state, deflection.

Search runs on PostgreSQL full-text search (weighted tsvector, websearch
queries, SearchRank) and falls back on SQLite to icontains per word, ranked
by how many words match with the title weighted highest. The code picks by
connection.vendor, so a laptop and production answer the same questions.
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, Count, Exists, F, FloatField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Greatest

from tickets import roles
from tickets.models import Category, EventKind, Ticket, TicketEvent, TicketStatus, User

from .models import (
    Article,
    ArticleStatus,
    Playbook,
    PlaybookStep,
    StepOutcome,
    SuggestionShown,
    TicketPlaybookStep,
)
from .rendering import plain_text

SEARCH_CONFIG = "english"
MAX_QUERY_TERMS = 30
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "cannot",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "i",
        "im",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "please",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "why",
        "will",
        "with",
        "you",
        "your",
        "after",
        "again",
        "all",
        "any",
        "been",
        "before",
        "being",
        "could",
        "did",
        "get",
        "got",
        "just",
        "keeps",
        "more",
        "now",
        "only",
        "some",
        "still",
        "than",
        "them",
        "then",
        "there",
        "they",
        "too",
        "very",
    ]
)
_WORD = re.compile(r"[\w']+", re.UNICODE)


# ---------------------------------------------------------------- visibility


def article_list_for(user: User) -> QuerySet[Article]:
    """Requesters: published and public. Agents (work_tickets): everything, drafts included.
    Anyone else signed in: published public articles plus drafts they wrote."""
    if not user.is_authenticated or not user.is_active:
        return Article.objects.none()
    articles = Article.objects.all()
    if roles.is_agent(user):
        return articles
    return articles.filter(Q(status=ArticleStatus.PUBLISHED, is_public=True) | Q(author=user))


def article_list_with_related(user: User) -> QuerySet[Article]:
    return (
        article_list_for(user)
        .select_related("category", "author")
        .annotate(solved_count=Count("ticket_links", distinct=True))
    )


def published_for(user: User) -> QuerySet[Article]:
    return article_list_for(user).filter(status=ArticleStatus.PUBLISHED)


# ---------------------------------------------------------------- search


def query_terms(text: str) -> list[str]:
    """Lower-case words worth searching for: stop words and one-letter words dropped, duplicates removed."""
    terms: list[str] = []
    for word in _WORD.findall((text or "").lower()):
        word = word.strip("'_")
        if len(word) < 2 or word in STOP_WORDS or word in terms:
            continue
        terms.append(word)
    return terms[:MAX_QUERY_TERMS]


def stem(term: str) -> str:
    """A crude suffix strip for the SQLite fallback, so “disconnects” finds “disconnecting”."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(term) > len(suffix) + 3 and term.endswith(suffix):
            return term[: -len(suffix)]
    return term


def fallback_score(*, terms: list[str], title: str, tags: str, body: str) -> int:
    """SQLite ranking: per matching term 3 for the title, 2 for the tags, 1 for the body."""
    title, tags, body = title.lower(), tags.lower(), body.lower()
    score = 0
    for term in terms:
        root = stem(term)
        score += 3 * (root in title) + 2 * (root in tags) + 1 * (root in body)
    return score


@dataclass
class SearchHit:
    article: Article
    rank: float
    snippet: str = ""
    terms: list[str] = field(default_factory=list)


def snippet_for(body_markdown: str, terms: list[str], *, width: int = 220) -> str:
    """A short plain-text window around the first matching term (the template escapes it)."""
    text = plain_text(body_markdown)
    lowered = text.lower()
    positions = [lowered.find(stem(term)) for term in terms]
    positions = [p for p in positions if p >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    if start > 0 and " " in text[start : start + 30]:
        start = text.index(" ", start) + 1  # begin on a whole word
    snippet = text[start : start + width].strip()
    if start > 0:
        snippet = "… " + snippet
    if start + width < len(text):
        snippet += " …"
    return snippet


# How people describe a problem → the words articles use for it. Added to "any word" searches
# (suggestions), so "locked out" reaches the lockout article before one that merely says "account".
SYNONYMS = {
    "locked out": "lockout locked unlock",
    "lock out": "lockout locked unlock",
    "lockout": "locked unlock",
    "can't log in": "sign-in locked",
    "cannot log in": "sign-in locked",
    "can't sign in": "sign-in locked",
    "log in": "sign-in",
    "login": "sign-in",
    "wifi": "wi-fi wireless",
    "wireless": "wi-fi",
    "e-mail": "email",
    "mfa": "authenticator",
    "2fa": "authenticator mfa",
}
# Below this similarity a title or tag is another word, not a typo of the query.
TYPO_SIMILARITY = 0.4


def with_synonyms(text: str) -> str:
    lowered = f" {text.lower()} "
    extra = [words for phrase, words in SYNONYMS.items() if f" {phrase} " in lowered or f" {phrase}," in lowered]
    return f"{text} {' '.join(extra)}" if extra else text


def _postgres_search(queryset: QuerySet[Article], text: str, *, match_all: bool, boost_category: Category | None):
    every_word = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
    if match_all:
        query = every_word
    else:
        # Free text (a ticket description) rarely has every word in one article: any word may match.
        query = None
        for term in query_terms(with_synonyms(text)):
            part = SearchQuery(term, search_type="plain", config=SEARCH_CONFIG)
            query = part if query is None else query | part
        if query is None:
            return queryset.none()
    rank = SearchRank(F("search_vector"), query)
    if not match_all:
        # An article with every word the person typed beats one that shares a single common word.
        rank = rank + Case(
            When(search_vector=every_word, then=Value(1.0)), default=Value(0.0), output_field=FloatField()
        )
    if boost_category is not None:
        rank = rank * Case(
            When(category=boost_category, then=Value(1.5)), default=Value(1.0), output_field=FloatField()
        )
    return queryset.filter(search_vector=query).annotate(rank=rank).order_by("-rank", "-updated_at", "-id")


def _typo_search(queryset: QuerySet[Article], text: str):
    """Nothing matched word for word: titles and tags that look like the query ("outlok", "pasword")."""
    similarity = Greatest(TrigramWordSimilarity(text, "title"), TrigramWordSimilarity(text, "tags"))
    return queryset.annotate(rank=similarity).filter(rank__gte=TYPO_SIMILARITY).order_by("-rank", "-updated_at", "-id")


def _fallback_search(queryset: QuerySet[Article], terms: list[str], *, boost_category: Category | None, limit: int):
    if not terms:
        return []
    condition = Q()
    for term in terms:
        root = stem(term)
        condition |= Q(title__icontains=root) | Q(tags__icontains=root) | Q(body_markdown__icontains=root)
    scored = []
    for article in queryset.filter(condition):
        score = float(fallback_score(terms=terms, title=article.title, tags=article.tags, body=article.body_markdown))
        if boost_category is not None and article.category_id == boost_category.pk:
            score *= 1.5
        scored.append((score, article.updated_at, article.pk, article))
    scored.sort(key=lambda row: (row[0], row[1], row[2]), reverse=True)
    return [(article, score) for score, _, _, article in scored[:limit]]


def _search(
    queryset: QuerySet[Article],
    text: str,
    *,
    limit: int,
    match_all: bool,
    boost_category: Category | None = None,
) -> list[SearchHit]:
    text = (text or "").strip()[:500]
    terms = query_terms(text)
    if not terms:
        return []
    if connection.vendor == "postgresql":
        found = list(_postgres_search(queryset, text, match_all=match_all, boost_category=boost_category)[:limit])
        if not found and match_all:
            # Nothing has every word: widen to any word rather than answer “no results”.
            found = list(_postgres_search(queryset, text, match_all=False, boost_category=boost_category)[:limit])
        if not found:
            found = list(_typo_search(queryset, text)[:limit])
        pairs = [(article, float(article.rank)) for article in found]
    else:
        pairs = _fallback_search(queryset, terms, boost_category=boost_category, limit=limit)
    return [
        SearchHit(article=article, rank=rank, snippet=snippet_for(article.body_markdown, terms), terms=terms)
        for article, rank in pairs
    ]


def article_search(user: User, query: str, category: Category | None = None, limit: int = 5) -> list[SearchHit]:
    """The KB search page and API: published articles this user may see, best first."""
    queryset = published_for(user).select_related("category", "author")
    if category is not None:
        queryset = queryset.filter(category=category)
    return _search(queryset, query, limit=limit, match_all=True)


def suggest_for_text(user: User, text: str, category: Category | None = None, limit: int = 5) -> list[SearchHit]:
    """Articles that might solve what this text describes (intake, before escalating).

    Any word may match; the ticket's category lifts its own articles rather than hiding others.
    """
    queryset = published_for(user).select_related("category")
    return _search(queryset, text, limit=limit, match_all=False, boost_category=category)


def latest_showings(*, articles: list[Article], context: str, shown_to: User, ticket: Ticket | None) -> dict[int, int]:
    """article id → the id of its latest showing to this person (links carry it to record a follow)."""
    rows = SuggestionShown.objects.filter(context=context, shown_to=shown_to, ticket=ticket, article__in=articles)
    return dict(rows.order_by("article_id", "shown_at").values_list("article_id", "pk"))  # newest wins


# ---------------------------------------------------------------- playbooks


def playbook_list_for(user: User, category: Category | None = None) -> QuerySet[Playbook]:
    if not roles.is_agent(user):
        return Playbook.objects.none()
    playbooks = Playbook.objects.filter(is_active=True).select_related("category").prefetch_related("steps")
    if category is not None:
        playbooks = playbooks.filter(category=category)
    return playbooks


@dataclass
class StepState:
    step: PlaybookStep
    record: TicketPlaybookStep | None
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.record is not None


@dataclass
class PlaybookState:
    playbook: Playbook
    steps: list[StepState]

    @property
    def done_count(self) -> int:
        return sum(1 for state in self.steps if state.done)

    @property
    def is_complete(self) -> bool:
        return all(state.done for state in self.steps)


def ticket_playbooks(*, ticket: Ticket) -> list[PlaybookState]:
    """The active playbooks for the ticket's category with each step's state on this ticket (3 queries)."""
    playbooks = list(
        Playbook.objects.filter(category_id=ticket.category_id, is_active=True).prefetch_related("steps").order_by("id")
    )
    if not playbooks:
        return []
    records = {
        record.step_id: record
        for record in TicketPlaybookStep.objects.filter(ticket=ticket, step__playbook__in=playbooks).select_related(
            "done_by"
        )
    }
    return [
        PlaybookState(playbook=playbook, steps=[StepState(step, records.get(step.pk)) for step in playbook.steps.all()])
        for playbook in playbooks
    ]


OUTCOME_MARK = {StepOutcome.SUCCEEDED: "✔", StepOutcome.FAILED: "✘", StepOutcome.SKIPPED: "–"}


def steps_tried_text(*, ticket) -> str:
    """Ticked playbook steps on this ticket as text for the handoff's 'what was tried'.

    One line per step in playbook order: “✔ Step — result”, “✘ Step — result”, “– Step — skipped: reason”.
    """
    return steps_tried_texts(ticket_ids=[ticket.pk])[ticket.pk]


def steps_tried_texts(*, ticket_ids) -> dict[int, str]:
    """steps_tried_text for many tickets in one query (ticket id → text; "" when nothing was ticked)."""
    lines: dict[int, list[str]] = {pk: [] for pk in ticket_ids}
    records = (
        TicketPlaybookStep.objects.filter(ticket_id__in=list(lines))
        .select_related("step")
        .order_by("ticket_id", "step__playbook_id", "step__position", "step_id")
    )
    for record in records:
        result = record.result.strip()
        if record.outcome == StepOutcome.SKIPPED:
            result = f"skipped: {result}" if result else "skipped"
        line = f"{OUTCOME_MARK.get(record.outcome, '•')} {record.step.instruction}"
        lines[record.ticket_id].append(f"{line} — {result}" if result else line)
    return {pk: "\n".join(text) for pk, text in lines.items()}


def playbook_missing_for_escalation(*, ticket, trigger: str) -> str | None:
    """A message if the category's playbook must be worked before escalating with this trigger, else None."""
    missing: list[str] = []
    for state in ticket_playbooks(ticket=ticket):
        if trigger not in (state.playbook.required_for_triggers or []):
            continue
        missing += [f"{s.step.position}. {s.step.instruction}" for s in state.steps if not s.done]
        if missing:
            name = state.playbook.name
            return (
                f"Work the “{name}” playbook before escalating for this reason; "
                f"steps not yet done: {'; '.join(missing)}."
            )
    return None


# ---------------------------------------------------------------- deflection


@dataclass(frozen=True)
class Deflection:
    tickets_shown: int
    resolved_without_escalation: int
    suggestions_without_ticket: int
    # a requester opened a suggested article and filed nothing: left with an answer instead of a ticket
    left_with_article: int = 0

    @property
    def rate(self) -> float | None:
        """Share of tickets shown a suggestion that were resolved without escalating (None with no data)."""
        if not self.tickets_shown:
            return None
        return self.resolved_without_escalation / self.tickets_shown


def deflection_stats(*, since=None, until=None, context: str | None = None) -> Deflection:
    """Tickets shown a suggestion, and how many of them were then resolved with no escalation."""
    shown = SuggestionShown.objects.all()
    if since is not None:
        shown = shown.filter(shown_at__gte=since)
    if until is not None:
        shown = shown.filter(shown_at__lt=until)
    if context:
        shown = shown.filter(context=context)
    tickets = Ticket.objects.filter(pk__in=shown.filter(ticket__isnull=False).values("ticket_id"))
    escalated = TicketEvent.objects.filter(ticket=OuterRef("pk"), kind=EventKind.ESCALATED)
    resolved = tickets.filter(status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED]).exclude(Exists(escalated))
    return Deflection(
        tickets_shown=tickets.count(),
        resolved_without_escalation=resolved.count(),
        suggestions_without_ticket=shown.filter(ticket__isnull=True).count(),
        left_with_article=shown.filter(ticket__isnull=True, opened_at__isnull=False)
        .values("shown_to", "article")
        .distinct()
        .count(),
    )
