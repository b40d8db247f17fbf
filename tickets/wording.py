"""Plain language: what a person reads instead of codes.

Statuses worded for the requester, labels for codes, and plurals that are right.
"""

from . import roles
from .models import Category, EventKind, Queue, TicketStatus, User

# The requester does not know our tiers: say what is happening to their request.
REQUESTER_STATUS_LABELS = {
    TicketStatus.NEW: "Received",
    TicketStatus.OPEN: "In progress",
    TicketStatus.PENDING: "Waiting for your reply",
    TicketStatus.ESCALATED: "With our specialist team",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.CLOSED: "Closed",
}


def status_label_for(ticket, viewer: User | None, *, viewer_is_agent: bool | None = None) -> str:
    """The status as this viewer should read it (agents see the desk's wording).

    viewer_is_agent: roles.is_agent(viewer) when the caller knows it already (a list asks per row)."""
    if viewer_is_agent is None:
        viewer_is_agent = viewer is not None and roles.is_agent(viewer)
    if viewer_is_agent:
        return ticket.get_status_display()
    if ticket.status == TicketStatus.OPEN and ticket.tier == 2:
        return REQUESTER_STATUS_LABELS[TicketStatus.ESCALATED]
    return REQUESTER_STATUS_LABELS.get(ticket.status, ticket.get_status_display())


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 person', '3 people', '0 tickets'."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def humanize_key(key: str) -> str:
    """'steps_tried' → 'Steps tried'; 'mfa-methods' → 'Mfa methods' (for keys with no label)."""
    text = key.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def join_words(items: list[str]) -> str:
    """['a'] → 'a'; ['a', 'b'] → 'a and b'; ['a', 'b', 'c'] → 'a, b and c'."""
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


class Names:
    """Queue and category names by slug, read once and only if an event needs them."""

    def __init__(self):
        self._names: dict[str, str] | None = None

    def __call__(self, slug) -> str:
        if not isinstance(slug, str):
            return "none" if slug is None else str(slug)
        if self._names is None:
            self._names = dict(Queue.objects.values_list("slug", "name"))
            self._names.update(Category.objects.values_list("slug", "name"))
        return self._names.get(slug, slug)


def event_plain_text(event, names: Names) -> str | None:
    """Timeline words with labels instead of codes, for the events whose stored message has codes.

    None keeps the event's own message. The stored record (and the API) keep the codes.
    """
    data = event.data or {}
    if event.kind == EventKind.ESCALATED and data.get("to_queue"):
        how = "Automatically" if data.get("automatic") else "Manually"
        text = f"{how}, for {humanize_key(data.get('trigger') or 'a reason').lower()}: "
        text += f"{names(data.get('from_queue'))} → {names(data.get('to_queue'))}"
        missing = [humanize_key(field).lower() for field in data.get("missing_fields") or []]
        if missing:
            text += f". Still missing: {join_words(missing)}"
        return text
    if event.kind == EventKind.RETURNED and data.get("to_queue"):
        reason = humanize_key(data.get("reason") or "").lower()
        missing = [humanize_key(field).lower() for field in data.get("missing_fields") or []]
        detail = f"missing {join_words(missing)}" if missing else data.get("kb_reference") or ""
        text = f"Back to {names(data.get('to_queue'))}" + (
            f" ({reason}{': ' + detail if detail else ''})" if reason else ""
        )
        return f"{text}. {data.get('note') or ''}".strip()
    if event.kind == EventKind.FIELD_CHANGED and data:
        parts = []
        for field, change in data.items():
            if not isinstance(change, dict):
                continue
            old, new = change.get("old"), change.get("new")
            if field in ("category", "queue"):
                old, new = names(old), names(new)
            parts.append(f"{humanize_key(field)}: {_short(old)} → {_short(new)}")
        return "; ".join(parts) or None
    return None


def _short(value) -> str:
    text = "none" if value in (None, "") else str(value)
    return text if len(text) <= 60 else text[:57] + "…"
