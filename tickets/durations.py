"""The one formatter for deadlines, moments and durations: every page, e-mail, notification and
timeline message words SLA time through these, so one deadline reads the same everywhere.

Moments are shown in the reader's time zone with the zone named ("Mon 30 Nov, 16:00 GMT"):
the zone active at the time of rendering — the viewer's for pages (tickets.middleware), the
recipient's for e-mail (delivery activates it), UTC for stored timeline text and webhooks.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

# A due time closer than this is "at risk" (amber).
SOON = timedelta(hours=1)
# strftime's %a and %b in the C locale, which the process keeps (Python never sets another):
# looked up instead of formatted, for the lists that word a due time on every row.
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def span(delta: timedelta) -> str:
    """'12 min', '3 h 5 min', '2 d' — the sign is the caller's to word ('due in' / 'overdue')."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 1:
        return "< 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        rest = minutes % 60
        return f"{hours} h {rest} min" if hours < 4 and rest else f"{hours} h"
    return f"{hours // 24} d"


def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(moment: datetime | None, zone=None) -> str:
    """'Mon 30 Nov, 16:00 GMT' in `zone` (default: the active one, i.e. the reader's)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment, zone or timezone.get_current_timezone())
    name = local.tzname() or ""
    if name[:1] in "+-":  # zones without an abbreviation ("+08"): name the zone itself
        name = f"{local.tzinfo} (UTC{name})"
    day, month = WEEKDAYS[local.weekday()], MONTHS[local.month - 1]
    return f"{day} {local.day} {month}, {local.hour:02d}:{local.minute:02d} {name}".strip()


def relative(due: datetime | None, now: datetime | None = None) -> str:
    """'due in 25 min' / 'overdue 3 h' ('' without a due time): one wording for every page."""
    if not due:
        return ""
    delta = due - (now or timezone.now())
    if delta.total_seconds() < 0:
        return f"overdue {span(delta)}"
    return f"due in {span(delta)}"


def target_label(target: str) -> str:
    return (target or "").replace("_", " ").capitalize().replace("Tier1", "Tier 1").replace("Tier2", "Tier 2")


def _parse(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def sla_event_text(kind: str, data: dict, zone=None) -> str | None:
    """The words of an SLA warning, breach or recompute event, with its times in `zone`.

    None for any other kind (its stored message is what it says).
    """
    data = data or {}
    if kind in ("sla_warning", "sla_breached"):
        due = when(_parse(data.get("due_at")), zone)
        verb = "was due" if kind == "sla_breached" else "due"
        levels = ", ".join(data.get("levels") or [])
        return f"{target_label(data.get('target', ''))} {verb} {due}" + (f": {levels}" if levels else "")
    if kind == "sla_recomputed":
        parts = []
        for name, change in data.items():
            if isinstance(change, dict) and "new" in change:
                new = _parse(change.get("new"))
                moved = f"due {when(new, zone)}" if new else "no longer applies"
                parts.append(f"{target_label(name)} {moved} (was {when(_parse(change.get('old')), zone)})")
        return "; ".join([data.get("reason", ""), *parts]).strip("; ")
    return None
