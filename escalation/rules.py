"""Automatic trigger rules: evaluated at intake, on update and by the SLA sweep.

SCAFFOLD — the escalation work (issue 3) replaces this with the real evaluator.
"""

from enum import StrEnum


class Moment(StrEnum):
    INTAKE = "intake"
    UPDATE = "update"
    SWEEP = "sweep"


def evaluate_trigger_rules(*, ticket_id: int, moment: Moment) -> None:
    return None
