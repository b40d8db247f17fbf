"""Template helpers for the workspace: SLA countdowns and badges."""

import html
from datetime import datetime
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from tickets import durations, wording
from tickets.durations import SOON
from tickets.wording import status_label_for

register = template.Library()


@register.filter
def countdown(due: datetime | None, now: datetime | None = None) -> str:
    """'due in 25 min' / 'overdue 3 h' from a due datetime ('' when there is none)."""
    return durations.relative(due, now)


@register.filter
def when(moment: datetime | None) -> str:
    """'Mon 30 Nov, 16:00 GMT' in the viewer's zone, the zone named."""
    return durations.when(moment)


@register.filter
def event_text(event) -> str:
    """A timeline event's words; SLA events re-worded with their times in the viewer's zone."""
    return durations.sla_event_text(event.kind, event.data) or getattr(event, "plain", None) or event.message


@register.filter
def due_state(due: datetime | None, now: datetime | None = None) -> str:
    """'overdue' (red), 'soon' (amber), 'ok' (green) or 'none'."""
    if not due:
        return "none"
    delta = due - (now or timezone.now())
    if delta.total_seconds() < 0:
        return "overdue"
    if delta < SOON:
        return "soon"
    return "ok"


@register.simple_tag
def countdown_chip(due: datetime | None, label: str = "", done: bool = False):
    """A coloured chip the JS keeps fresh (data-due) between page loads."""
    if done:
        return format_html('<span class="chip chip-done">{}met</span>', f"{label} " if label else "")
    if not due:
        return format_html('<span class="chip chip-none">{}no target</span>', f"{label} " if label else "")
    # format_html's markup, escaped piece by piece as it would (html.escape is what Django's escape
    # calls, without its lazy-string wrapper): a list renders one chip or two per row.
    now = timezone.now()
    label = html.escape(label)
    return mark_safe(
        f'<span class="chip chip-{due_state(due, now)}" data-due="{html.escape(due.isoformat())}" '
        f'data-label="{label}" title="{html.escape(durations.when(due))}">'
        f"{f'{label} ' if label else ''}{html.escape(durations.relative(due, now))}</span>"
    )


@register.simple_tag
def row_url(name: str, pk: int) -> str:
    """{% url name pk %} for a page of one ticket (`tickets/<pk>/…`), as a list row links to it.

    reverse() matches and re-checks the pattern on every call (~15–50 µs); the Tier 2 queue asks
    for up to four links a row on 75 rows. The URL is reversed once per name with a marker for
    the number, which each row then replaces.
    """
    before, after = _url_around_pk(name, get_script_prefix(), get_urlconf())
    return f"{before}{int(pk)}{after}"


_PK_MARKER = 987654321987


@lru_cache(maxsize=64)
def _url_around_pk(name: str, prefix: str, urlconf) -> tuple[str, str]:
    before, marker, after = reverse(name, args=[_PK_MARKER], urlconf=urlconf).rpartition(str(_PK_MARKER))
    if not marker:
        raise ValueError(f"{name} does not take a ticket number")
    return before, after


@register.simple_tag
def priority_badge(priority: str):
    return format_html('<span class="badge badge-{}" title="Priority">{}</span>', (priority or "").lower(), priority)


@register.simple_tag(takes_context=True)
def status_badge(context, ticket):
    """The status in the reader's words: a requester reads "With our specialist team", not tiers."""
    request = context.get("request")
    viewer = request.user if request else None
    # The navigation's flag (tickets.context_processors.workspace), read once per request, when there.
    is_agent = context.get("is_agent") if viewer is not None and viewer.is_authenticated else None
    label = status_label_for(ticket, viewer, viewer_is_agent=is_agent)
    return format_html('<span class="badge status status-{}">{}</span>', ticket.status, label)


@register.filter
def status_for(ticket, viewer) -> str:
    return status_label_for(ticket, viewer)


@register.simple_tag
def plural(count, singular: str, plural_form: str = "") -> str:
    """{% plural n "person" "people" %} → '1 person' / '3 people'."""
    return wording.plural(int(count or 0), singular, plural_form or None)


@register.filter
def initials(user) -> str:
    if not user:
        return "·"
    first, last = getattr(user, "first_name", ""), getattr(user, "last_name", "")
    text = f"{first[:1]}{last[:1]}" or getattr(user, "username", "?")[:2]
    return text.upper()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
