"""The one priority ordering: P1 is the most severe, P4 the least.

Compare priorities only through these (never with `<`, `min` or a list index at
the call site), so the order is defined once, here.
"""

# Most severe first: the values of tickets.models.Priority (a test holds them equal). Kept free
# of the models so that they, and tickets.conditions, can use it.
ORDER: tuple[str, ...] = ("P1", "P2", "P3", "P4")


def severity_rank(priority: str) -> int:
    """0 for the most severe (P1); a larger number is less severe."""
    return ORDER.index(priority)


def is_more_severe(priority: str, than: str) -> bool:
    return severity_rank(priority) < severity_rank(than)


def at_least(priority: str, floor: str) -> bool:
    """As severe as `floor` or more (P1 is at least P2; P3 is not)."""
    return severity_rank(priority) <= severity_rank(floor)


def most_severe(*priorities: str) -> str:
    return min(priorities, key=severity_rank)


def one_step_up(priority: str) -> str:
    """One step more severe (P1 stays P1)."""
    return ORDER[max(0, severity_rank(priority) - 1)]
