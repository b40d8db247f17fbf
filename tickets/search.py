"""Global search: every ticket the user may see, by reference, title, people and text.

A read, so it starts from the single access selector (selectors.ticket_list_for):
a ticket the user may not see is never found, and a requester's search never
looks into internal notes. On PostgreSQL results are ranked by full text
(title above people above description and replies) plus pg_trgm similarity,
so "pasword" still finds "password"; elsewhere a plain contains match.
"""

from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, Exists, F, FloatField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Greatest

from . import roles
from .models import Comment, Ticket, User, parse_reference
from .selectors import ticket_list_for

MAX_QUERY_LENGTH = 200
# Below this word similarity a title or name is not a typo of the query but another word.
TRIGRAM_THRESHOLD = 0.45


@dataclass(frozen=True)
class SearchResult:
    tickets: QuerySet[Ticket]
    exact: Ticket | None  # the query was this ticket's reference


def ticket_search_for(user: User, query: str) -> SearchResult:
    query = " ".join(query.split())[:MAX_QUERY_LENGTH]
    visible = ticket_list_for(user).select_related("queue", "category", "requester", "assignee")
    if not query:
        return SearchResult(tickets=visible.none(), exact=None)
    number = parse_reference(query)
    exact = visible.filter(pk=number).first() if number else None
    comments = Comment.objects.filter(ticket=OuterRef("pk"))
    if not roles.is_agent(user):
        comments = comments.filter(is_public=True)  # a requester never searches internal notes
    if connection.vendor == "postgresql":
        tickets = _ranked_postgres(visible, query, comments, number)
    else:
        tickets = _plain_contains(visible, query, comments, number)
    return SearchResult(tickets=tickets, exact=exact)


def _people_match(query: str) -> Q:
    condition = Q()
    for word in query.split():
        condition &= (
            Q(requester__first_name__icontains=word)
            | Q(requester__last_name__icontains=word)
            | Q(requester__username__iexact=word)
        )
    return condition | Q(requester__email__iexact=query)


def _ranked_postgres(visible, query, comments, number):
    text_query = SearchQuery(query, search_type="websearch", config="english")
    vector = (
        SearchVector("title", weight="A", config="english")
        + SearchVector("requester__first_name", "requester__last_name", weight="B", config="simple")
        + SearchVector("description", weight="C", config="english")
    )
    comment_hit = Exists(comments.annotate(v=SearchVector("body", config="english")).filter(v=text_query).values("pk"))
    typo = Greatest(
        TrigramWordSimilarity(query, "title"),
        TrigramWordSimilarity(query, "requester__first_name"),
        TrigramWordSimilarity(query, "requester__last_name"),
    )
    tickets = visible.annotate(
        document=vector,
        text_rank=SearchRank(vector, text_query),
        typo=typo,
        in_comments=comment_hit,
        people=Case(When(_people_match(query), then=Value(1.0)), default=Value(0.0), output_field=FloatField()),
    )
    condition = (
        Q(document=text_query)  # ts_rank is never 0, so match with @@ rather than by rank
        | Q(typo__gte=TRIGRAM_THRESHOLD)
        | Q(in_comments=True)
        | Q(people__gt=0)
        | Q(title__icontains=query)
    )
    if number:
        condition |= Q(pk=number)
    exact = Case(When(pk=number or 0, then=Value(10.0)), default=Value(0.0), output_field=FloatField())
    score = (
        exact
        + F("people")
        + Coalesce(F("text_rank"), Value(0.0)) * 2
        + F("typo")
        + Case(When(in_comments=True, then=Value(0.1)), default=Value(0.0), output_field=FloatField())
    )
    return tickets.filter(condition).annotate(score=score).order_by("-score", "-created_at", "-pk")


def _plain_contains(visible, query, comments, number):
    comment_hit = Exists(comments.filter(body__icontains=query).values("pk"))
    condition = Q(title__icontains=query) | Q(description__icontains=query) | _people_match(query) | Q(comment_hit=True)
    if number:
        condition |= Q(pk=number)
    score = Case(
        When(pk=number or 0, then=Value(3)),
        When(title__icontains=query, then=Value(2)),
        When(_people_match(query), then=Value(1)),
        default=Value(0),
    )
    return (
        visible.annotate(comment_hit=comment_hit)
        .filter(condition)
        .annotate(score=score)
        .order_by("-score", "-created_at", "-pk")
    )
