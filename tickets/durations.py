"""How the workspace words a span of time and when a deadline turns amber: one definition
for the queue chips (tickets.templatetags.workspace) and the SLA panel (escalation.sla.display)."""

from datetime import timedelta

# A due time closer than this is "at risk" (amber).
SOON = timedelta(hours=1)


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
