"""The one conditions matcher: routing rules, trigger rules and SLA policies all ask it.

Each kind of rule states its conditions as a `Conditions` (empty = any); the thing
being decided about is a `Facts` (a ticket, or an intake not saved yet). A rule
matches when it sets at least one condition and every condition it sets holds; a
rule without conditions never matches (it would swallow everything).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import priorities

if TYPE_CHECKING:  # the models use this module (their `conditions`), so it never imports them
    from .models import Category, Site, Ticket, User


def split_keywords(keywords: str) -> list[str]:
    """'Outage, everyone ' → ['outage', 'everyone']: how routing and trigger rules store keywords."""
    return [word.strip().lower() for word in keywords.split(",") if word.strip()]


class KeywordRule:
    """Mixed into the routing and trigger rule models: their comma-separated keywords, split one way."""

    keywords: str

    @property
    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)


def keyword_in(keywords: list[str], *, title: str, description: str) -> str | None:
    """The first keyword found in the ticket's title or description (case-insensitive), else None."""
    text = f"{title}\n{description}".lower()
    return next((word for word in keywords if word in text), None)


@dataclass(frozen=True)
class Conditions:
    category_id: int | None = None
    keywords: tuple[str, ...] = ()  # any one in the title or description
    requester_is_vip: bool | None = None
    site_id: int | None = None
    department: str = ""  # the requester's, case-insensitive
    tier: int | None = None
    priority: str = ""  # exactly this priority
    min_priority: str = ""  # this priority or more severe
    impact: str = ""
    min_reopen_count: int | None = None
    min_minutes_in_tier: int | None = None
    restricted: bool | None = None  # a security ticket (restricted to the Security team), or not
    # Only to name them in the reason (compared by id); cached with the rule.
    category: Category | None = None
    site: Site | None = None

    def is_empty(self) -> bool:
        return self == Conditions(category=self.category, site=self.site)


@dataclass(frozen=True)
class Facts:
    category_id: int
    title: str
    description: str
    priority: str
    # Asked only when a condition needs it (it may cost a query).
    requester: Callable[[], User]
    # Mail with only a From header: the sender may not be who they claim, so no VIP or department condition holds.
    requester_verified: bool = True
    restricted: bool = False
    site_id: int | None = None
    tier: int | None = None
    impact: str = ""
    reopen_count: int = 0
    minutes_in_tier: Callable[[], float] | None = None

    @classmethod
    def of_ticket(cls, ticket: Ticket, *, minutes_in_tier: Callable[[], float] | None = None) -> Facts:
        return cls(
            category_id=ticket.category_id,
            title=ticket.title,
            description=ticket.description,
            priority=ticket.priority,
            requester=lambda: ticket.requester,
            # As Ticket.requester_is_vip: mail that nobody logged proves only a From header.
            requester_verified=not (ticket.channel == "email" and ticket.created_by_id is None),
            restricted=ticket.is_restricted,
            site_id=ticket.site_id,
            tier=ticket.tier,
            impact=ticket.impact,
            reopen_count=ticket.reopen_count,
            minutes_in_tier=minutes_in_tier,
        )


def why_matched(conditions: Conditions, facts: Facts) -> str | None:
    """Why every condition holds ("category vpn, keyword “outage”"), or None when one fails or none is set.

    Cheap checks first; the time in tier (possibly a query) last.
    """
    if conditions.is_empty():
        return None
    why = []
    if conditions.category_id is not None:
        if conditions.category_id != facts.category_id:
            return None
        why.append(f"category {conditions.category.slug if conditions.category else conditions.category_id}")
    if conditions.restricted is not None:
        if conditions.restricted != facts.restricted:
            return None
        why.append("security ticket" if facts.restricted else "not a security ticket")
    if conditions.tier is not None:
        if conditions.tier != facts.tier:
            return None
        why.append(f"Tier {facts.tier}")
    if conditions.priority:
        if conditions.priority != facts.priority:
            return None
        why.append(f"priority {facts.priority}")
    if conditions.min_priority:
        if not priorities.at_least(facts.priority, conditions.min_priority):
            return None
        why.append(f"priority {facts.priority} (at least {conditions.min_priority})")
    if conditions.impact:
        if conditions.impact != facts.impact:
            return None
        why.append(f"impact {facts.impact}")
    if conditions.keywords:
        hit = keyword_in(list(conditions.keywords), title=facts.title, description=facts.description)
        if hit is None:
            return None
        why.append(f"keyword “{hit}”")
    if conditions.requester_is_vip is not None:
        is_vip = facts.requester_verified and facts.requester().is_vip
        if is_vip != conditions.requester_is_vip:
            return None
        why.append("VIP requester" if conditions.requester_is_vip else "non-VIP requester")
    if conditions.site_id is not None:
        if conditions.site_id != facts.site_id:
            return None
        why.append(f"site {conditions.site or conditions.site_id}")
    if conditions.department:
        department = facts.requester().department or ""
        if not facts.requester_verified or department.lower() != conditions.department.lower():
            return None
        why.append(f"department {department}")
    if conditions.min_reopen_count is not None:
        if facts.reopen_count < conditions.min_reopen_count:
            return None
        why.append(f"reopened {facts.reopen_count}×")
    if conditions.min_minutes_in_tier is not None:
        if facts.minutes_in_tier is None or facts.minutes_in_tier() < conditions.min_minutes_in_tier:
            return None
        why.append(f"{conditions.min_minutes_in_tier}+ minutes in the tier")
    return ", ".join(why)


def matches(conditions: Conditions, facts: Facts) -> bool:
    return why_matched(conditions, facts) is not None
