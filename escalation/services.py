"""Escalation actions: escalate, accept, return, rate, reassign.

Each runs in one transaction, locks the ticket row first (so two people acting
at once are serialised and the loser gets InvalidTransition), checks the
transition table, validates, changes the ticket, writes the timeline and the
outbox, and tells the SLA engine.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from escalation.sla import calendars
from escalation.sla import engine as sla
from tickets import events, roles
from tickets.errors import InvalidInput, InvalidTransition, NotAllowed
from tickets.locks import lock_ticket
from tickets.models import Queue, Ticket, TicketStatus, Tier, User
from tickets.notifications import oncall
from tickets.notifications.services import notify
from tickets.routing import SECURITY_MIN_PRIORITY
from tickets.selectors import may_see
from tickets.transitions import check_transition

from .handoff import Handoff, handoff_problems, validate_handoff
from .models import HANDOFF_FIELDS, Escalation, Outcome, ReturnReason, Trigger, TriggerRule
from .paths import is_security_trigger, resolve_path, security_queue

__all__ = [
    "Handoff",
    "escalation_accept",
    "escalation_rate",
    "escalation_return",
    "handoff_from_ticket",
    "ticket_escalate",
    "ticket_reassign",
    "ticket_security_fast_track",
]


def _save(ticket: Ticket, fields: list[str]) -> None:
    """Save the named fields and bump the version (optimistic-locking readers see the change)."""
    ticket.version = F("version") + 1
    ticket.save(update_fields=[*fields, "version", "updated_at"])
    ticket.refresh_from_db(fields=["version"])


@transaction.atomic
def ticket_escalate(
    *,
    ticket_id: int,
    trigger: str,
    handoff: Handoff,
    acting_user: User | None,
    automatic: bool = False,
    rule: TriggerRule | None = None,
    reason: str = "",
) -> Escalation:
    """Hand a Tier 1 ticket to Tier 2 along its escalation path.

    1. Lock the ticket; refuse if it cannot be escalated now (someone else acted first → 409).
    2. Validate the handoff. A manual escalation with anything missing is refused and
       nothing changes; an automatic one records what is missing instead.
    3. Pick the path (most specific), then the after-hours target outside the team's hours.
       Security concerns go to the security team, at least P2, restricted.
    4. Move the ticket (escalated, Tier 2, the team's queue, unassigned), record the
       escalation, the timeline event and the notifications, and tell the SLA engine.
    """
    ticket = lock_ticket(ticket_id)
    check_transition(ticket, "escalate")
    if acting_user is not None and not acting_user.has_perm("tickets.escalate_ticket"):
        raise NotAllowed("Only support agents can escalate tickets.")
    if automatic:
        problems = handoff_problems(ticket=ticket, trigger=trigger, handoff=handoff)
        if "trigger" in problems:
            raise InvalidInput({"trigger": problems["trigger"]})
        missing_fields = [name for name in problems if name in HANDOFF_FIELDS or name.startswith("checklist.")]
    else:
        validate_handoff(ticket=ticket, trigger=trigger, handoff=handoff)
        missing_fields = []

    now = timezone.now()
    security = is_security_trigger(trigger)
    path = resolve_path(ticket=ticket, trigger=trigger)
    target = path.to_queue if path else (security_queue() if security else None)
    if target is None:
        raise InvalidInput(
            {
                "trigger": [
                    f"There is no escalation path for “{trigger}” from {ticket.category}; ask an admin to add one."
                ]
            }
        )
    after_hours = not calendars.queue_in_business_hours(queue=target, at=now)
    team = target
    if after_hours and path and path.after_hours_queue_id:
        target = path.after_hours_queue
    on_call = None
    if after_hours and (path is None or path.after_hours_notify_on_call):
        on_call = oncall.on_call_for(queue=target, at=now)
    security = security or target.is_security

    from_queue = ticket.queue
    tier1_assignee = ticket.assignee
    old_status = ticket.status
    fields = ["status", "tier", "queue", "assignee", "tier1_queue"]
    if security:
        # The security policy applies from the ticket's start, before the tier changes.
        fields += apply_security_floor(ticket, actor=acting_user, reason=reason or "Security escalation.")
    ticket.status = TicketStatus.ESCALATED
    ticket.tier = Tier.TWO
    ticket.tier1_queue = from_queue  # a return goes back to the Tier 1 queue it came from
    ticket.queue = target
    ticket.assignee = None
    _save(ticket, fields)

    escalation = Escalation.objects.create(
        ticket=ticket,
        trigger=trigger,
        problem_summary=handoff.problem_summary or "",
        steps_tried=handoff.steps_tried or "",
        error_evidence=handoff.error_evidence or "",  # byte-for-byte: never strip or normalise
        affected_scope=handoff.affected_scope or "",
        affected_count=handoff.affected_count,
        urgency=handoff.urgency or "",
        checklist=dict(handoff.checklist or {}),
        from_queue=from_queue,
        to_queue=target,
        path=path,
        after_hours=after_hours,
        escalated_by=acting_user,
        tier1_assignee=tier1_assignee,
        escalated_at=now,
        is_automatic=automatic,
        missing_fields=missing_fields,
        rule=rule,
    )
    event = events.escalated(
        ticket=ticket,
        actor=acting_user,
        trigger=trigger,
        from_queue=from_queue.slug,
        to_queue=target.slug,
        path=path.name if path else None,
        automatic=automatic,
        missing_fields=missing_fields,
        after_hours=after_hours,
        escalation_id=escalation.pk,
        old_status=old_status,
        rule=rule.name if rule else None,
        reason=reason,
    )
    recipients = [*_members(target), target.lead, path.owner if path else None, on_call]
    if team != target:
        recipients.append(team.lead)
    notify(event=event, kind="escalated_to_team", recipients=[user for user in recipients if user != acting_user])
    if automatic and missing_fields:
        owner = tier1_assignee or from_queue.lead
        notify(
            event=event,
            kind="handoff_incomplete",
            recipients=[owner],
            body="Missing: " + ", ".join(missing_fields),
        )
    sla.apply(ticket=ticket, event=event)
    return escalation


def apply_security_floor(ticket: Ticket, *, actor: User | None, reason: str) -> list[str]:
    """Apply the security floor: at least P2 and restricted, each change on the timeline and told to
    the SLA engine (the security policy applies from the ticket's start). Returns the fields changed,
    set in memory; the caller saves them with its own, under the same lock."""
    fields = []
    if ticket.priority > SECURITY_MIN_PRIORITY:
        # Lexical order is severity order (P1 < P2 …): anything below P2 is raised to P2.
        old_priority = ticket.priority
        ticket.priority = SECURITY_MIN_PRIORITY
        ticket.priority_override_reason = f"{reason} At least {SECURITY_MIN_PRIORITY}."
        fields += ["priority", "priority_override_reason"]
        raised = events.priority_changed(
            ticket=ticket, actor=actor, old=old_priority, new=ticket.priority, reason=reason
        )
        sla.apply(ticket=ticket, event=raised)
    if not ticket.is_restricted:
        ticket.is_restricted = True
        fields.append("is_restricted")
        restricted = events.restriction_changed(ticket=ticket, actor=actor, restricted=True, reason=reason)
        sla.apply(ticket=ticket, event=restricted)
    return fields


@transaction.atomic
def ticket_security_fast_track(*, ticket_id: int, reason: str, acting_user: User | None = None) -> Ticket:
    """Hand a security ticket to the Security team now: restricted, at least P2, in its queue.

    Called at intake (security category), when a category changes into security, and
    whatever the tier:
    1. Lock the ticket. Closed work is only restricted and raised; nothing to route (nor
       when no security team exists: it stays restricted in Tier 1).
    2. Tier 1: an automatic escalation with the security trigger (path, else the Tier 2
       security team), awaiting Security's acceptance in their queue at once.
    3. Tier 2 with another team: moved to the security team's queue; an awaiting
       escalation follows it.
    4. Each change is told to the SLA engine (the security policy may now apply).
    """
    ticket = lock_ticket(ticket_id)
    in_tier1 = ticket.tier == Tier.ONE and ticket.status in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)
    has_route = resolve_path(ticket=ticket, trigger=Trigger.SECURITY_CONCERN) or security_queue()
    if in_tier1 and has_route:
        ticket_escalate(
            ticket_id=ticket.pk,
            trigger=Trigger.SECURITY_CONCERN,
            handoff=handoff_from_ticket(ticket=ticket),
            acting_user=None,  # the system hands it over; the agent may not even be allowed to escalate
            automatic=True,
            reason=reason,
        )
        return lock_ticket(ticket.pk)
    fields = apply_security_floor(ticket, actor=acting_user, reason=reason)
    team = security_queue()
    moved_from = None
    if ticket.is_open and ticket.tier == Tier.TWO and team is not None and not ticket.queue.is_security:
        moved_from = ticket.queue
        ticket.queue = team
        ticket.assignee = None
        fields += ["queue", "assignee"]
    if not fields:
        return ticket
    _save(ticket, fields)
    if moved_from is not None:
        if ticket.status == TicketStatus.ESCALATED:
            Escalation.objects.filter(ticket=ticket, outcome=Outcome.AWAITING).update(to_queue=team)
        event = events.reassigned(
            ticket=ticket, actor=acting_user, old_queue=moved_from.slug, new_queue=team.slug, reason=reason
        )
        notify(
            event=event,
            kind="escalated_to_team",
            recipients=[u for u in [*_members(team), team.lead] if u != acting_user],
        )
        sla.apply(ticket=ticket, event=event)
    return ticket


def handoff_from_ticket(*, ticket: Ticket) -> Handoff:
    """Whatever documentation an automatic escalation can carry: the description, ticked
    playbook steps, the intake impact and urgency. The service flags the rest as missing."""
    from knowledgebase import selectors as kb_selectors

    return Handoff(
        problem_summary=ticket.description,
        steps_tried=kb_selectors.steps_tried_text(ticket=ticket) or "",
        error_evidence="",
        affected_scope=ticket.impact,
        affected_count=None,
        urgency=ticket.urgency,
        checklist={},
    )


def _members(queue: Queue) -> Iterable[User]:
    return queue.members.filter(is_active=True)


def _awaiting(ticket: Ticket) -> Escalation:
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .filter(ticket=ticket, outcome=Outcome.AWAITING)
        .order_by("-escalated_at", "-id")
        .first()
    )
    if escalation is None:
        raise InvalidTransition(f"{ticket.reference} has no escalation awaiting Tier 2.")
    return escalation


def _check_tier2(ticket: Ticket, user: User, verb: str) -> None:
    """Tier 2 acts on its own queue; managers and admins may act on any."""
    if not roles.is_tier2(user):
        raise NotAllowed(f"Only Tier 2 engineers can {verb} escalations.")
    if user.is_superuser or roles.can_view_dashboard(user):
        return
    queue = ticket.queue
    if queue.lead_id == user.pk or queue.members.filter(pk=user.pk).exists():
        return
    raise NotAllowed(f"{ticket.reference} belongs to {queue}; only its members can {verb} it.")


@transaction.atomic
def escalation_accept(*, ticket_id: int, acting_user: User) -> Escalation:
    """Tier 2 takes ownership: the ticket opens, assigned to the engineer who accepted."""
    ticket = lock_ticket(ticket_id)
    ticket.status = check_transition(ticket, "accept")  # a second accept finds it open: 409
    _check_tier2(ticket, acting_user, "accept")
    escalation = _awaiting(ticket)
    now = timezone.now()
    ticket.assignee = acting_user
    _save(ticket, ["status", "assignee"])
    escalation.outcome = Outcome.ACCEPTED
    escalation.accepted_by = acting_user
    escalation.accepted_at = now
    escalation.save(update_fields=["outcome", "accepted_by", "accepted_at"])
    event = events.escalation_accepted(
        ticket=ticket,
        actor=acting_user,
        escalation_id=escalation.pk,
        queue=ticket.queue.slug,
        seconds_to_accept=int((now - escalation.escalated_at).total_seconds()),
    )
    sla.apply(ticket=ticket, event=event)
    return escalation


def _return_input_problems(*, reason: str, note: str, missing_fields, kb_reference: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if reason not in ReturnReason.values:
        problems["reason"] = [f"Choose a reason: {', '.join(ReturnReason.values)}."]
    if not (note or "").strip():
        problems["note"] = ["Tell Tier 1 why it is coming back; they see this note."]
    if reason == ReturnReason.HANDOFF_INCOMPLETE:
        unknown = [name for name in missing_fields if name not in HANDOFF_FIELDS]
        if not missing_fields:
            problems["missing_fields"] = [f"Name what is missing from the handoff: {', '.join(HANDOFF_FIELDS)}."]
        elif unknown:
            problems["missing_fields"] = [
                f"Not a handoff field: {', '.join(map(str, unknown))}. Choose from {', '.join(HANDOFF_FIELDS)}."
            ]
    if reason == ReturnReason.WITHIN_TIER1_SCOPE and not (kb_reference or "").strip():
        problems["kb_reference"] = ["Name the knowledge-base article or playbook (title or link) that solves it."]
    return problems


@transaction.atomic
def escalation_return(
    *,
    ticket_id: int,
    reason: str,
    note: str,
    acting_user: User,
    missing_fields: Iterable[str] = (),
    kb_reference: str = "",
) -> Escalation:
    """Send an escalation back to the Tier 1 queue it came from, with the reason on the timeline."""
    missing_fields = list(dict.fromkeys(missing_fields or ()))
    problems = _return_input_problems(
        reason=reason, note=note, missing_fields=missing_fields, kb_reference=kb_reference
    )
    if problems:
        raise InvalidInput(problems)
    ticket = lock_ticket(ticket_id)
    ticket.status = check_transition(ticket, "return")
    _check_tier2(ticket, acting_user, "return")
    escalation = _awaiting(ticket)
    now = timezone.now()
    from_queue = ticket.queue
    back_to = ticket.tier1_queue or escalation.from_queue
    back_to_person = escalation.escalated_by or escalation.tier1_assignee
    if back_to_person is not None and not (back_to_person.is_active and may_see(back_to_person, ticket)):
        back_to_person = None  # gone, or not cleared for a restricted ticket: the queue takes it
    ticket.queue = back_to
    ticket.tier = Tier.ONE
    ticket.assignee = back_to_person
    _save(ticket, ["status", "tier", "queue", "assignee"])
    escalation.outcome = Outcome.RETURNED
    escalation.returned_by = acting_user
    escalation.returned_at = now
    escalation.return_reason = reason
    escalation.return_note = note.strip()
    escalation.returned_missing_fields = missing_fields if reason == ReturnReason.HANDOFF_INCOMPLETE else []
    escalation.kb_reference = kb_reference.strip() if reason == ReturnReason.WITHIN_TIER1_SCOPE else ""
    escalation.save(
        update_fields=[
            "outcome",
            "returned_by",
            "returned_at",
            "return_reason",
            "return_note",
            "returned_missing_fields",
            "kb_reference",
        ]
    )
    event = events.escalation_returned(
        ticket=ticket,
        actor=acting_user,
        escalation_id=escalation.pk,
        from_queue=from_queue.slug,
        to_queue=back_to.slug,
        reason=reason,
        note=escalation.return_note,
        missing_fields=escalation.returned_missing_fields,
        kb_reference=escalation.kb_reference,
    )
    notify(
        event=event,
        kind="returned",
        recipients=[back_to_person or back_to.lead],
        body=f"{ReturnReason(reason).label}: {escalation.return_note}",
    )
    sla.apply(ticket=ticket, event=event)
    return escalation


@transaction.atomic
def escalation_rate(*, escalation_id: int, rating: int, acting_user: User, comment: str = "") -> Escalation:
    """Tier 2 rates the handoff quality (1–5) once it accepted or returned it; a new rating replaces the old."""
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidInput({"rating": ["Rate the handoff from 1 (unusable) to 5 (everything needed)."]})
    if not roles.is_tier2(acting_user):
        raise NotAllowed("Only Tier 2 engineers rate handoffs.")
    ticket_id = Escalation.objects.filter(pk=escalation_id).values_list("ticket_id", flat=True).first()
    if ticket_id is None:
        raise InvalidInput({"escalation": ["No such escalation."]})
    ticket = lock_ticket(ticket_id)
    escalation = Escalation.objects.select_for_update(of=("self",)).get(pk=escalation_id)
    if escalation.outcome == Outcome.AWAITING:
        raise InvalidTransition("Accept or return the escalation before rating its handoff.")
    old = escalation.rating
    escalation.rating = rating
    escalation.rating_comment = (comment or "").strip()
    escalation.rated_by = acting_user
    escalation.rated_at = timezone.now()
    escalation.save(update_fields=["rating", "rating_comment", "rated_by", "rated_at"])
    events.escalation_rated(
        ticket=ticket,
        actor=acting_user,
        escalation_id=escalation.pk,
        old=old,
        new=rating,
        comment=escalation.rating_comment,
    )
    return escalation


@transaction.atomic
def ticket_reassign(*, ticket_id: int, to_queue: Queue, reason: str, acting_user: User) -> Ticket:
    """Move a ticket to another queue of the same tier (audited, with a reason). Tiers change only by escalation."""
    if not (reason or "").strip():
        raise InvalidInput({"reason": ["Say why the ticket moves to another team; it is audited."]})
    if not roles.is_agent(acting_user):
        raise NotAllowed("Only support agents can reassign tickets.")
    ticket = lock_ticket(ticket_id)
    check_transition(ticket, "reassign")
    if to_queue.tier != ticket.tier:
        raise InvalidInput(
            {"queue": [f"{to_queue} is a Tier {to_queue.tier} queue; reassign within Tier {ticket.tier} only."]}
        )
    if to_queue.pk == ticket.queue_id:
        raise InvalidInput({"queue": [f"{ticket.reference} is already in {to_queue}."]})
    old_queue = ticket.queue
    ticket.queue = to_queue
    ticket.assignee = None
    fields = ["queue", "assignee"]
    if ticket.tier == Tier.ONE:
        ticket.tier1_queue = to_queue
        fields.append("tier1_queue")
    if to_queue.is_security:
        fields += apply_security_floor(ticket, actor=acting_user, reason=f"Moved to {to_queue}.")
    _save(ticket, fields)
    if ticket.status == TicketStatus.ESCALATED:
        # the awaiting escalation follows the ticket, so the new team sees it in its Tier 2 queue
        Escalation.objects.filter(ticket=ticket, outcome=Outcome.AWAITING).update(to_queue=to_queue)
    event = events.reassigned(
        ticket=ticket, actor=acting_user, old_queue=old_queue.slug, new_queue=to_queue.slug, reason=reason.strip()
    )
    kind = "escalated_to_team" if ticket.status == TicketStatus.ESCALATED else "reassigned"
    notify(
        event=event,
        kind=kind,
        recipients=[u for u in [*_members(to_queue), to_queue.lead] if u != acting_user],
    )
    return ticket
