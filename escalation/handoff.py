"""The five-field handoff and its validation for substance.

One set of rules, used by the service (and so by the API, the pages and the
automatic rules alike): `handoff_problems` lists what is missing or
insubstantial, one message per field; `validate_handoff` raises it.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from tickets.errors import InvalidInput
from tickets.models import Impact, Ticket, Urgency

from .models import HANDOFF_FIELD_LABELS, ChecklistItem, Trigger


@dataclass(frozen=True)
class Handoff:
    problem_summary: str = ""
    steps_tried: str = ""
    error_evidence: str = ""
    affected_scope: str = ""
    affected_count: int | None = None
    urgency: str = ""
    checklist: dict[str, str] = field(default_factory=dict)


# Answers that say nothing. Compared after lower-casing and dropping punctuation.
PLACEHOLDERS = frozenset(
    {
        "n a",
        "na",
        "n/a",
        "tbd",
        "tba",
        "todo",
        "none",
        "nothing",
        "nil",
        "null",
        "unknown",
        "idk",
        "see above",
        "as above",
        "same as above",
        "see ticket",
        "see description",
        "see title",
        "same",
        "test",
        "asdf",
        "x",
        "xx",
        "xxx",
        "pending",
        "later",
        "no",
        "yes",
        "ok",
    }
)
# Checklist answers may legitimately be short ("yes", "no"); only these are empty words there.
CHECKLIST_PLACEHOLDERS = PLACEHOLDERS - {"yes", "no", "ok"}

# Below this many characters a text field cannot carry a symptom, steps or evidence.
# Evidence is allowed a little shorter: an error code such as "AADSTS50126" is real evidence.
MIN_LENGTH = {"problem_summary": 15, "steps_tried": 15, "error_evidence": 10}
TEXT_FIELDS = ("problem_summary", "steps_tried", "error_evidence")
# A field this similar to the title (0..1, after normalising) is a restatement, not a description.
TITLE_SIMILARITY = 0.85


def normalise(text: str) -> str:
    """Lower-case, accents folded, punctuation dropped, whitespace collapsed (for comparisons only)."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    words = re.sub(r"[\W_]+", " ", folded)
    return " ".join(words.split())


def is_placeholder(text: str, placeholders=PLACEHOLDERS) -> bool:
    plain = normalise(text)
    return plain == "" or plain in placeholders or text.strip().casefold() in placeholders


def restates(text: str, title: str) -> bool:
    a, b = normalise(text), normalise(title)
    if not a or not b:
        return False
    return a == b or SequenceMatcher(None, a, b).ratio() >= TITLE_SIMILARITY


def _text_problem(name: str, value: str, *, title: str) -> str | None:
    label = HANDOFF_FIELD_LABELS[name]
    if not value or not value.strip():
        return f"{label} is required: {_HINTS[name]}"
    if is_placeholder(value):
        return f"{label}: “{value.strip()[:40]}” is a placeholder, not an answer. {_HINTS[name]}"
    if restates(value, title):
        return f"{label} only repeats the ticket title. {_HINTS[name]}"
    if len(value.strip()) < MIN_LENGTH[name]:
        return f"{label} is too short to be useful (at least {MIN_LENGTH[name]} characters). {_HINTS[name]}"
    return None


_HINTS = {
    "problem_summary": "Describe the symptom in your own words.",
    "steps_tried": "List the steps you took and what each one showed.",
    "error_evidence": "Paste the exact error message or log excerpt, as it appears.",
    "affected_scope": "Say who is affected: one person, a team, a site or the whole organization.",
    "urgency": "Say how work is hit: stopped, slowed or minor.",
}


def handoff_problems(*, ticket: Ticket, trigger: str, handoff: Handoff) -> dict[str, list[str]]:
    """Every missing or insubstantial part of this handoff, one message per field (empty: complete)."""
    problems: dict[str, list[str]] = {}
    if trigger not in Trigger.values:
        problems["trigger"] = [f"Choose a trigger: {', '.join(Trigger.values)}."]
    for name in TEXT_FIELDS:
        message = _text_problem(name, getattr(handoff, name) or "", title=ticket.title)
        if message:
            problems[name] = [message]
    if handoff.affected_scope not in Impact.values:
        problems["affected_scope"] = [
            f"{HANDOFF_FIELD_LABELS['affected_scope']} is required: {_HINTS['affected_scope']}"
        ]
    if handoff.affected_count is not None and handoff.affected_count < 1:
        problems["affected_count"] = ["The number of people affected must be at least 1 (leave it empty if unknown)."]
    elif handoff.affected_scope == Impact.INDIVIDUAL and (handoff.affected_count or 1) > 1:
        problems["affected_count"] = ["One person is affected, so the count cannot be more than 1."]
    if handoff.urgency not in Urgency.values:
        problems["urgency"] = [f"{HANDOFF_FIELD_LABELS['urgency']} is required: {_HINTS['urgency']}"]
    problems.update(checklist_problems(ticket=ticket, answers=handoff.checklist or {}))
    return problems


def checklist_items_for(category_id: int) -> list[ChecklistItem]:
    return list(ChecklistItem.objects.filter(category_id=category_id).order_by("position", "id"))


def checklist_problems(*, ticket: Ticket, answers: dict[str, str]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    items = checklist_items_for(ticket.category_id)
    known = {item.key for item in items}
    for key in sorted(set(answers) - known):
        problems[f"checklist.{key}"] = [f"“{key}” is not on the {ticket.category} checklist."]
    for item in items:
        answer = answers.get(item.key) or ""
        if not isinstance(answer, str):
            problems[f"checklist.{item.key}"] = [f"Checklist “{item.question}”: answer in words."]
        elif item.required and is_placeholder(answer, CHECKLIST_PLACEHOLDERS):
            problems[f"checklist.{item.key}"] = [f"Checklist “{item.question}” must be answered."]
    return problems


def validate_handoff(*, ticket: Ticket, trigger: str, handoff: Handoff) -> None:
    """Raise InvalidInput naming every problem (the handoff, the checklist, the playbook)."""
    problems = handoff_problems(ticket=ticket, trigger=trigger, handoff=handoff)
    from knowledgebase import selectors as kb_selectors

    playbook = kb_selectors.playbook_missing_for_escalation(ticket=ticket, trigger=trigger)
    if playbook:
        problems["playbook"] = [playbook]
    if problems:
        raise InvalidInput(problems, message="The handoff is incomplete; nothing was changed.")
