"""Handoff quality, outcome and checklist on the card, the Tier 2 queue and the escalation pages."""

from functools import lru_cache

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from escalation.handoff import checklist_items_for, handoff_quality, urgency_note
from escalation.models import Outcome, ReturnReason
from escalation.substance import COMPLETE, MISSING, WEAK

register = template.Library()

SYMBOLS = {COMPLETE: "✓", WEAK: "!", MISSING: "✗"}


@register.simple_tag
def quality_for(handoff, ticket=None):
    return handoff_quality(handoff, ticket) if handoff is not None else []


@register.simple_tag
def quality_chip(item):
    return format_html(
        '<span class="quality-chip quality-chip-{}" title="{}">{}</span>',
        item.status,
        item.problem or "Tier 2 can act on this",
        item.status,
    )


@register.simple_tag
def quality_summary(quality):
    """Five marks, one per field, and the counts in words ("4 complete · 1 weak")."""
    if not quality:
        return ""
    return _summary_html(tuple(quality))


@lru_cache(maxsize=1024)
def _summary_html(quality: tuple) -> str:
    """quality_summary's markup, by the (immutable) field qualities: a queue repeats a few of them."""
    counts = [(status, sum(q.status == status for q in quality)) for status in (COMPLETE, WEAK, MISSING)]
    words = " · ".join(f"{n} {status}" for status, n in counts if n)
    marks = format_html_join(
        "",
        '<span class="quality-mark quality-mark-{}" title="{}: {}" aria-hidden="true">{}</span>',
        ((q.status, q.label, q.status, SYMBOLS[q.status]) for q in quality),
    )
    label = "; ".join(f"{q.label}: {q.status}" for q in quality)
    return format_html(
        '<span class="quality-summary" title="{}">{}<span class="quality-words">{}</span></span>', label, marks, words
    )


@register.simple_tag
def outcome_line(handoff):
    """What Tier 2 made of it, and the rating beside it."""
    if handoff.outcome == Outcome.AWAITING:
        text = format_html('<span class="badge badge-outcome-awaiting">Awaiting {}</span>', handoff.to_queue)
    elif handoff.outcome == Outcome.ACCEPTED:
        after = timesince(handoff.escalated_at, handoff.accepted_at) if handoff.accepted_at else ""
        text = format_html(
            '<span class="badge badge-outcome-accepted">Accepted</span> by {}{}',
            handoff.accepted_by or "Tier 2",
            f", {after} after escalation" if after else "",
        )
    elif handoff.return_reason == ReturnReason.WRONG_TEAM:
        text = format_html(
            '<span class="badge badge-outcome-returned">Re-routed</span> by {} to {} (wrong team){}',
            handoff.returned_by or "Tier 2",
            handoff.rerouted_to or "another team",
            f": “{handoff.return_note}”" if handoff.return_note else "",
        )
    else:
        text = format_html(
            '<span class="badge badge-outcome-returned">Returned</span> by {}: {}{}',
            handoff.returned_by or "Tier 2",
            return_reason_text(handoff),
            f" “{handoff.return_note}”" if handoff.return_note else "",
        )
    rating = ""
    if handoff.rating:
        stars = "★" * handoff.rating + "☆" * (5 - handoff.rating)
        rating = format_html(
            '<span class="handoff-rating" title="Handoff quality as rated by Tier 2">'
            '<span aria-hidden="true">{}</span> Rated {}/5 by {}{}</span>',
            stars,
            handoff.rating,
            handoff.rated_by or "Tier 2",
            f": “{handoff.rating_comment}”" if handoff.rating_comment else "",
        )
    return format_html('<p class="handoff-outcome">{} {}</p>', text, rating)


def return_reason_text(handoff) -> str:
    from escalation.models import HANDOFF_FIELD_LABELS

    if handoff.return_reason == ReturnReason.HANDOFF_INCOMPLETE:
        missing = ", ".join(HANDOFF_FIELD_LABELS.get(name, name) for name in handoff.returned_missing_fields)
        return f"handoff incomplete (missing {missing})." if missing else "handoff incomplete."
    if handoff.return_reason == ReturnReason.WITHIN_TIER1_SCOPE:
        return f"within Tier 1 scope; use {handoff.kb_reference}." if handoff.kb_reference else "within Tier 1 scope."
    if handoff.return_reason == ReturnReason.WRONG_TEAM:
        return f"wrong team; re-routed to {handoff.rerouted_to}."
    return ""


register.filter("return_reason_text", return_reason_text)


@register.simple_tag
def urgency_differs(handoff):
    note = urgency_note(ticket=handoff.ticket, urgency=handoff.urgency or "")
    return format_html('<small class="quality-problem">{}</small>', note) if note else ""


@register.simple_tag
def checklist_rows(handoff):
    """(question, answer) in the checklist's order, as admins wrote the questions."""
    answers = dict(handoff.checklist or {})
    rows = []
    for item in checklist_items_for(handoff.ticket.category_id):
        rows.append((item.question, answers.pop(item.key, "")))
    rows += [(key.replace("_", " ").capitalize(), answer) for key, answer in answers.items()]
    return rows
