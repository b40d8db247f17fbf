"""The five-field handoff: what it carries, and whether it is complete in substance.

One set of rules (escalation.substance), used by the service and so by the API,
the pages and the automatic rules alike: `handoff_verdicts` judges each field
(complete, weak, missing), `handoff_problems` turns the verdicts into one
message per field, `validate_handoff` raises them, and `handoff_quality` is what
the handoff card and the Tier 2 queue show.
"""

from dataclasses import dataclass, field

from tickets.errors import InvalidInput
from tickets.models import Ticket, Urgency

from . import substance
from .models import HANDOFF_FIELD_LABELS, HANDOFF_FIELDS, ChecklistItem, Trigger
from .substance import COMPLETE, MISSING, WEAK, Verdict, is_placeholder  # noqa: F401  (re-exported)

# More people than any organization has: beyond it a count is a typo (and would overflow the column).
MAX_AFFECTED = 10_000_000


@dataclass(frozen=True)
class Handoff:
    problem_summary: str = ""
    steps_tried: str = ""
    error_evidence: str = ""
    affected_scope: str = ""
    affected_count: int | None = None
    urgency: str = ""
    checklist: dict[str, str] = field(default_factory=dict)

    def as_escalation_fields(self) -> dict:
        """The Escalation row's handoff columns (blank rather than None), as every escalation path stores them."""
        return {
            "problem_summary": self.problem_summary or "",
            "steps_tried": self.steps_tried or "",
            "error_evidence": self.error_evidence or "",  # byte-for-byte: never strip or normalise
            "affected_scope": self.affected_scope or "",
            "affected_count": self.affected_count,
            "urgency": self.urgency or "",
            "checklist": dict(self.checklist or {}),
        }


def context_for(ticket: Ticket) -> substance.Context:
    category_slug = getattr(ticket.category, "slug", "") if ticket.category_id else ""
    return substance.Context(
        title=ticket.title or "",
        category_slug=category_slug,
        ticket_urgency=ticket.urgency or "",
        attachments=lambda: ticket.pk is not None and ticket.attachments.exists(),
    )


def handoff_verdicts(*, ticket: Ticket, handoff, ctx: substance.Context | None = None) -> dict[str, Verdict]:
    """Each of the five fields judged (handoff: a Handoff or an Escalation)."""
    ctx = ctx or context_for(ticket)
    verdicts = {name: substance.judge_text(name, getattr(handoff, name) or "", ctx) for name in substance.TEXT_FIELDS}
    verdicts["affected_scope"], _ = substance.judge_scope(handoff.affected_scope or "", handoff.affected_count)
    verdicts["urgency"] = substance.judge_urgency(handoff.urgency or "")
    return verdicts


def _message(name: str, verdict: Verdict, category_slug: str) -> str:
    label = HANDOFF_FIELD_LABELS[name]
    if name not in substance.TEXT_FIELDS:
        return f"{label} {verdict.problem}."
    example = substance.example_for(name, category_slug)
    if name == "error_evidence":
        example = f"{example}” or, when nothing is shown, “{substance.NO_ERROR_EXAMPLE}"
    if verdict.status == MISSING:
        return f"{label} is required. For example: “{example}”"
    return f"{label}: {verdict.problem}. For example: “{example}”"


def handoff_problems(
    *, ticket: Ticket, trigger: str, handoff: Handoff, checklist_items: list[ChecklistItem] | None = None
) -> dict[str, list[str]]:
    """Every missing or insubstantial part of this handoff, one message per field (empty: complete).

    `checklist_items`: the category's checklist, when the caller has read it (a batch)."""
    problems: dict[str, list[str]] = {}
    if trigger not in Trigger.values:
        problems["trigger"] = [f"Choose a trigger: {', '.join(Trigger.values)}."]
    ctx = context_for(ticket)
    for name in substance.TEXT_FIELDS:
        verdict = substance.judge_text(name, getattr(handoff, name) or "", ctx)
        if not verdict.ok:
            problems[name] = [_message(name, verdict, ctx.category_slug)]
    verdict, where = substance.judge_scope(handoff.affected_scope or "", handoff.affected_count)
    if not verdict.ok:
        problems[where] = [_message("affected_scope", verdict, ctx.category_slug)]
    verdict = substance.judge_urgency(handoff.urgency or "")
    if not verdict.ok:
        problems["urgency"] = [_message("urgency", verdict, ctx.category_slug)]
    problems.update(checklist_problems(ticket=ticket, answers=handoff.checklist or {}, items=checklist_items))
    return problems


def problem_fields(problems: dict[str, list[str]]) -> list[str]:
    """The handoff fields and checklist items a problem list names (affected_count counts as who is affected)."""
    names = []
    for key in problems:
        name = "affected_scope" if key == "affected_count" else key
        if (name in HANDOFF_FIELDS or name.startswith("checklist.")) and name not in names:
            names.append(name)
    return names


def urgency_note(*, ticket: Ticket, urgency: str) -> str:
    """Said when the handoff's urgency differs from the ticket's (not a refusal: Tier 1 may know better now)."""
    if urgency in Urgency.values and ticket.urgency in Urgency.values and urgency != ticket.urgency:
        return (
            f"Differs from the ticket: logged as “{Urgency(ticket.urgency).label}”, "
            f"the handoff says “{Urgency(urgency).label}”."
        )
    return ""


def checklist_items_for(category_id: int) -> list[ChecklistItem]:
    return list(ChecklistItem.objects.filter(category_id=category_id).order_by("position", "id"))


def checklist_items_by_category(category_ids) -> dict[int, list[ChecklistItem]]:
    """checklist_items_for many categories in one query (category id → its items, in order)."""
    items: dict[int, list[ChecklistItem]] = {pk: [] for pk in category_ids}
    for item in ChecklistItem.objects.filter(category_id__in=list(items)).order_by("position", "id"):
        items[item.category_id].append(item)
    return items


def checklist_problems(
    *, ticket: Ticket, answers: dict[str, str], items: list[ChecklistItem] | None = None
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    items = checklist_items_for(ticket.category_id) if items is None else items
    known = {item.key for item in items}
    for key in sorted(set(answers) - known):
        problems[f"checklist.{key}"] = [f"“{key}” is not on the {ticket.category} checklist."]
    for item in items:
        answer = answers.get(item.key) or ""
        if not isinstance(answer, str):
            problems[f"checklist.{item.key}"] = [f"Checklist “{item.question}”: answer in words."]
        elif item.required and is_placeholder(answer, substance.CHECKLIST_PLACEHOLDERS):
            problems[f"checklist.{item.key}"] = [f"Checklist “{item.question}” must be answered."]
    return problems


def validate_handoff(*, ticket: Ticket, trigger: str, handoff: Handoff, with_playbook: bool = True) -> None:
    """Raise InvalidInput naming every problem (the handoff, the checklist, the playbook)."""
    problems = handoff_problems(ticket=ticket, trigger=trigger, handoff=handoff)
    if with_playbook:
        from knowledgebase import selectors as kb_selectors

        playbook = kb_selectors.playbook_missing_for_escalation(ticket=ticket, trigger=trigger)
        if playbook:
            problems["playbook"] = [playbook]
    if problems:
        raise InvalidInput(problems, message="The handoff is incomplete; nothing was changed.")


@dataclass(frozen=True)
class FieldQuality:
    name: str
    label: str
    status: str  # complete · weak · missing
    problem: str


# handoff_quality's answers by everything they are judged on (the texts, the ticket's title,
# category and urgency): the Tier 2 queue shows up to 75 handoffs and polls every 30 seconds, and
# judging them is most of its rendering time. A pure function of the key, so nothing to invalidate;
# bounded, emptied when full.
_QUALITY_CACHE: dict[tuple, tuple[FieldQuality, ...]] = {}
QUALITY_CACHE_SIZE = 4096


def _quality_key(escalation, ctx: substance.Context) -> tuple:
    texts = tuple(getattr(escalation, name) or "" for name in substance.TEXT_FIELDS)
    rest = (escalation.affected_scope or "", escalation.affected_count, escalation.urgency or "")
    return (ctx.title, ctx.category_slug, ctx.ticket_urgency, *texts, *rest)


def handoff_quality(escalation, ticket: Ticket | None = None) -> list[FieldQuality]:
    """The card's and the queue's per-field quality, from the same checks as the service."""
    ticket = ticket or escalation.ticket
    ctx = context_for(ticket)
    key = _quality_key(escalation, ctx)
    if (cached := _QUALITY_CACHE.get(key)) is not None:
        return list(cached)
    verdicts = handoff_verdicts(ticket=ticket, handoff=escalation, ctx=ctx)
    quality = [
        FieldQuality(name, HANDOFF_FIELD_LABELS[name], verdicts[name].status, verdicts[name].problem)
        for name in HANDOFF_FIELDS
    ]
    # Evidence pointing at an attachment was judged on whether the ticket has one, which can
    # change without the key changing: not cached.
    if "has_attachments" not in ctx.__dict__:
        if len(_QUALITY_CACHE) >= QUALITY_CACHE_SIZE:
            _QUALITY_CACHE.clear()
        _QUALITY_CACHE[key] = tuple(quality)
    return quality
