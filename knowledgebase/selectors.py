"""Knowledge-base reads used by other apps.

SCAFFOLD — the knowledge-base work (issue 7) implements these for real.
"""


def steps_tried_text(*, ticket) -> str:
    """Ticked playbook steps on this ticket as text for the handoff's 'what was tried'."""
    return ""


def playbook_missing_for_escalation(*, ticket, trigger: str) -> str | None:
    """A message if the category's playbook must be worked before escalating with this trigger, else None."""
    return None
