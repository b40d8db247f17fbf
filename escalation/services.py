"""Escalation actions: escalate, accept, return, rate, reassign.

Each runs in one transaction, locks the ticket row first (so two people acting
at once are serialised and the loser gets InvalidTransition), checks the
transition table, validates, changes the ticket, writes the timeline and the
outbox, and tells the SLA engine.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from escalation.sla import calendars
from escalation.sla import engine as sla
from tickets import bulk, events, priorities, roles
from tickets.access import may_see, ticket_list_for
from tickets.errors import DomainError, InvalidInput, InvalidTransition, NotAllowed
from tickets.locks import lock_ticket, lock_tickets, save_ticket, save_tickets
from tickets.models import Queue, Ticket, TicketStatus, Tier, User
from tickets.notifications import oncall
from tickets.notifications.models import NotificationKind
from tickets.notifications.services import Notice, notify, notify_many
from tickets.routing import SECURITY_MIN_PRIORITY
from tickets.transitions import check_transition

from .handoff import (
    Handoff,
    checklist_items_by_category,
    checklist_items_for,
    handoff_problems,
    problem_fields,
    validate_handoff,
)
from .models import HANDOFF_FIELD_LABELS, HANDOFF_FIELDS, Escalation, Outcome, ReturnReason, Trigger, TriggerRule
from .paths import is_security_trigger, resolve_path, resolve_paths, security_queue

logger = logging.getLogger(__name__)

__all__ = [
    "Handoff",
    "escalation_accept",
    "escalation_complete_handoff",
    "escalation_rate",
    "escalation_return",
    "handoff_from_ticket",
    "ticket_escalate",
    "ticket_security_fast_track",
    "tickets_escalate_automatically",
]


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
        missing_fields = problem_fields(problems)
    else:
        validate_handoff(ticket=ticket, trigger=trigger, handoff=handoff)
        missing_fields = []

    now = timezone.now()
    security = is_security_trigger(trigger)
    path = resolve_path(ticket=ticket, trigger=trigger)
    target = path.to_queue if path else (security_queue() if security else None)
    if target is None:
        raise _no_path(trigger, ticket)
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
    save_ticket(ticket, fields)

    escalation = Escalation.objects.create(
        ticket=ticket,
        trigger=trigger,
        **handoff.as_escalation_fields(),
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
    if on_call is not None:
        # Paged first: a page goes by the on-call channels whatever the person's preferences,
        # and the team notice below then adds nothing for them (one row per event and channel).
        notify(event=event, kind=NotificationKind.ON_CALL_PAGE, recipients=[on_call])
    recipients = [*_members(target), target.lead, path.owner if path else None]
    if team != target:
        recipients.append(team.lead)
    owner = None
    if automatic and missing_fields:
        # First: one notification per person and event, and completing the handoff is the one to act on.
        owner = handoff_owner(escalation=escalation, ticket=ticket)
        notify(
            event=event,
            kind=NotificationKind.HANDOFF_INCOMPLETE,
            recipients=[owner],
            body="Missing: " + ", ".join(field_labels(missing_fields, ticket=ticket)),
        )
    notify(
        event=event,
        kind=NotificationKind.ESCALATED_TO_TEAM,
        recipients=[user for user in recipients if user != acting_user and user != owner],
        body="Handoff missing: " + ", ".join(field_labels(missing_fields, ticket=ticket)) if missing_fields else "",
    )
    sla.apply(ticket=ticket, event=event)
    return escalation


@transaction.atomic
def tickets_escalate_automatically(
    *,
    ticket_ids: Iterable[int],
    trigger: str = Trigger.TIME_EXCEEDED,
    reasons: dict[int, str] | None = None,
    rule: TriggerRule | None = None,
    refused: dict[int, DomainError] | None = None,
) -> list[Escalation]:
    """ticket_escalate(automatic=True, acting_user=None) for many tickets at once (the SLA sweep's
    escalations of a batch): the same rules and the same rows, events, notifications and SLA
    changes per ticket, read and written set-wise.

    The tickets are locked and read in one query; what each carries (playbook steps), the
    category checklists, the paths, the teams' members and on-call people are read once for
    the batch; tickets, escalation rows, timeline events, the outbox rows (notify_many) and the
    SLA records (engine.apply_many) are written in a few statements for all of them.

    A ticket that cannot be escalated now (no longer Tier 1, closed) or has no path for the
    trigger is left as it is and logged, as the sweep treats ticket_escalate's refusal. A
    security escalation (the trigger, or a path into the security team) goes through
    ticket_escalate itself, one ticket at a time: the security floor is rare and has its own
    events. `reasons`: ticket id → the reason on its timeline entry; `rule`: the trigger rule
    escalating them (the sweep-moment rules), as ticket_escalate's. `refused`, when given, is filled
    with ticket id → the refusal ticket_escalate would have raised, for a caller that reacts to it
    (a rule is not used up by a refused escalation). Returns the escalations made.
    """
    reasons = reasons or {}
    if trigger not in Trigger.values:
        raise InvalidInput({"trigger": [f"Choose a trigger: {', '.join(Trigger.values)}."]})
    tickets = lock_tickets(ticket_ids)
    movable = []
    for ticket in tickets:
        try:
            check_transition(ticket, "escalate")
        except InvalidTransition as refusal:
            logger.warning("Automatic escalation of %s refused: %s", ticket.reference, refusal.message)
            if refused is not None:
                refused[ticket.pk] = refusal
            continue
        movable.append(ticket)
    if not movable:
        return []
    now = timezone.now()
    paths = resolve_paths(tickets=movable, trigger=trigger)
    security_trigger = is_security_trigger(trigger)
    one_by_one, batch = [], []
    for ticket in movable:
        path = paths[ticket.pk]
        if security_trigger or (path is not None and path.to_queue.is_security):
            one_by_one.append(ticket)
        elif path is None:
            logger.warning(
                "Automatic escalation of %s refused: no escalation path for %s from %s",
                ticket.reference,
                trigger,
                ticket.category,
            )
            if refused is not None:
                refused[ticket.pk] = _no_path(trigger, ticket)
        else:
            batch.append(ticket)
    made = []
    for ticket in one_by_one:
        try:
            with transaction.atomic():  # a refusal undoes this ticket's escalation only
                made.append(
                    ticket_escalate(
                        ticket_id=ticket.pk,
                        trigger=trigger,
                        handoff=handoff_from_ticket(ticket=ticket),
                        acting_user=None,
                        automatic=True,
                        rule=rule,
                        reason=reasons.get(ticket.pk, ""),
                    )
                )
        except DomainError as error:
            detail = getattr(error, "errors", None) or error.message
            logger.warning("Automatic escalation of %s refused: %s", ticket.reference, detail)
            if refused is not None:
                refused[ticket.pk] = error
    if not batch:
        return made

    from knowledgebase import selectors as kb_selectors

    steps = kb_selectors.steps_tried_texts(ticket_ids=[t.pk for t in batch])
    checklists = checklist_items_by_category({t.category_id for t in batch})
    members: dict[int, list[User]] = {}
    on_call_of: dict[int, User | None] = {}
    escalations: list[Escalation] = []
    moves = []
    for ticket in batch:
        handoff = _handoff_of(ticket, steps_tried=steps[ticket.pk])
        items = checklists[ticket.category_id]
        problems = handoff_problems(ticket=ticket, trigger=trigger, handoff=handoff, checklist_items=items)
        missing_fields = problem_fields(problems)
        path = paths[ticket.pk]
        team = target = path.to_queue
        after_hours = not calendars.queue_in_business_hours(queue=target, at=now)
        if after_hours and path.after_hours_queue_id:
            target = path.after_hours_queue
        on_call = None
        if after_hours and path.after_hours_notify_on_call:
            if target.pk not in on_call_of:
                on_call_of[target.pk] = oncall.on_call_for(queue=target, at=now)
            on_call = on_call_of[target.pk]
        if target.pk not in members:
            members[target.pk] = list(_members(target))
        from_queue, old_status = ticket.queue, ticket.status
        escalations.append(
            Escalation(
                ticket=ticket,
                trigger=trigger,
                **handoff.as_escalation_fields(),
                from_queue=from_queue,
                to_queue=target,
                path=path,
                after_hours=after_hours,
                escalated_by=None,
                tier1_assignee=ticket.assignee,
                escalated_at=now,
                is_automatic=True,
                missing_fields=missing_fields,
                rule=rule,
            )
        )
        moves.append((ticket, from_queue, old_status, team, target, path, on_call, missing_fields, items))
        ticket.status = TicketStatus.ESCALATED
        ticket.tier = Tier.TWO
        ticket.tier1_queue = from_queue
        ticket.queue = target
        ticket.assignee = None
    save_tickets(batch, ["status", "tier", "queue", "assignee", "tier1_queue"])
    bulk.insert_objects(escalations)
    timeline = [
        events.escalated(
            ticket=ticket,
            actor=None,
            trigger=trigger,
            from_queue=from_queue.slug,
            to_queue=target.slug,
            path=path.name,
            automatic=True,
            missing_fields=missing_fields,
            after_hours=escalation.after_hours,
            escalation_id=escalation.pk,
            old_status=old_status,
            rule=rule.name if rule else None,
            reason=reasons.get(ticket.pk, ""),
            save=False,
        )
        for escalation, (ticket, from_queue, old_status, team, target, path, _, missing_fields, _) in zip(
            escalations, moves, strict=True
        )
    ]
    events.insert_many(timeline)
    owners = _handoff_owners([(e, t) for e, t in zip(escalations, batch, strict=True) if e.missing_fields])
    notices = []
    for escalation, event, move in zip(escalations, timeline, moves, strict=True):
        ticket, _, _, team, target, path, on_call, missing_fields, items = move
        if on_call is not None:
            notices.append(Notice(event=event, kind=NotificationKind.ON_CALL_PAGE, recipients=[on_call]))
        recipients = [*members[target.pk], target.lead, path.owner]
        if team != target:
            recipients.append(team.lead)
        owner = None
        labels = field_labels(missing_fields, ticket=ticket, items=items)
        if missing_fields:
            owner = owners.get(escalation.pk)
            notices.append(
                Notice(
                    event=event,
                    kind=NotificationKind.HANDOFF_INCOMPLETE,
                    recipients=[owner],
                    body="Missing: " + ", ".join(labels),
                )
            )
        notices.append(
            Notice(
                event=event,
                kind=NotificationKind.ESCALATED_TO_TEAM,
                recipients=[user for user in recipients if user is not None and user != owner],
                body="Handoff missing: " + ", ".join(labels) if missing_fields else "",
            )
        )
    notify_many(notices, returning=False)
    sla.apply_many(list(zip(batch, timeline, strict=True)))
    return made + escalations


def _no_path(trigger: str, ticket: Ticket) -> InvalidInput:
    """The refusal of an escalation with nowhere to go (one ticket's or a batch's)."""
    return InvalidInput(
        {"trigger": [f"There is no escalation path for “{trigger}” from {ticket.category}; ask an admin to add one."]}
    )


def _handoff_of(ticket: Ticket, *, steps_tried: str) -> Handoff:
    """What an automatic escalation carries (handoff_from_ticket), given the ticked playbook steps
    (the batch reads them for all its tickets at once)."""
    return Handoff(
        problem_summary=ticket.description,
        steps_tried=steps_tried or "",
        error_evidence="",
        affected_scope=ticket.impact,
        affected_count=None,
        urgency=ticket.urgency,
        checklist={},
    )


def _handoff_owners(pairs: list[tuple[Escalation, Ticket]]) -> dict[int, User | None]:
    """handoff_owner for many escalations (escalation id → owner): who may see which ticket is
    asked once per candidate person for all their tickets."""
    wanted: dict[int, set[int]] = {}
    people: dict[int, User] = {}
    for escalation, ticket in pairs:
        for user in (escalation.tier1_assignee, escalation.escalated_by, escalation.from_queue.lead):
            if user is not None and user.is_active:
                people[user.pk] = user
                wanted.setdefault(user.pk, set()).add(ticket.pk)
    visible = {
        pk: set(ticket_list_for(people[pk]).filter(pk__in=ids).values_list("pk", flat=True))
        for pk, ids in wanted.items()
    }
    owners: dict[int, User | None] = {}
    for escalation, ticket in pairs:
        owners[escalation.pk] = next(
            (
                user
                for user in (escalation.tier1_assignee, escalation.escalated_by, escalation.from_queue.lead)
                if user is not None and user.is_active and ticket.pk in visible.get(user.pk, ())
            ),
            None,
        )
    return owners


def apply_security_floor(ticket: Ticket, *, actor: User | None, reason: str) -> list[str]:
    """Apply the security floor: at least P2 and restricted, each change on the timeline and told to
    the SLA engine (the security policy applies from the ticket's start). Returns the fields changed,
    set in memory; the caller saves them with its own, under the same lock."""
    fields = []
    if not priorities.at_least(ticket.priority, SECURITY_MIN_PRIORITY):
        # anything less severe than P2 is raised to P2
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
    save_ticket(ticket, fields)
    if moved_from is not None:
        if ticket.status == TicketStatus.ESCALATED:
            Escalation.objects.filter(ticket=ticket, outcome=Outcome.AWAITING).update(to_queue=team)
        event = events.reassigned(
            ticket=ticket, actor=acting_user, old_queue=moved_from.slug, new_queue=team.slug, reason=reason
        )
        notify(
            event=event,
            kind=NotificationKind.ESCALATED_TO_TEAM,
            recipients=[u for u in [*_members(team), team.lead] if u != acting_user],
        )
        sla.apply(ticket=ticket, event=event)
    return ticket


def handoff_from_ticket(*, ticket: Ticket) -> Handoff:
    """Whatever documentation an automatic escalation can carry: the description, ticked
    playbook steps, the intake impact and urgency. The service flags the rest as missing."""
    from knowledgebase import selectors as kb_selectors

    return _handoff_of(ticket, steps_tried=kb_selectors.steps_tried_text(ticket=ticket))


def field_labels(names: Iterable[str], *, ticket: Ticket, items: list | None = None) -> list[str]:
    """Handoff fields and checklist items as people read them ("Evidence, verbatim", the checklist question).

    `items`: the category's checklist, when the caller has read it."""
    names = list(names)
    if not names:
        return []
    items = checklist_items_for(ticket.category_id) if items is None else items
    questions = {f"checklist.{item.key}": item.question for item in items}
    return [HANDOFF_FIELD_LABELS.get(name) or questions.get(name) or name for name in names]


def can_see(user: User | None, ticket: Ticket) -> bool:
    return user is not None and user.is_active and may_see(user, ticket)


def handoff_owner(*, escalation: Escalation, ticket: Ticket) -> User | None:
    """Who is told to complete an automatic handoff: the Tier 1 owner, else the Tier 1 queue's lead,
    whichever may open the ticket (a restricted ticket is no use to someone who gets a 404)."""
    for user in (escalation.tier1_assignee, escalation.escalated_by, escalation.from_queue.lead):
        if can_see(user, ticket):
            return user
    return None


def may_complete_handoff(user: User, escalation: Escalation) -> bool:
    """The Tier 1 owner, whoever escalated it, the Tier 1 queue's lead, or a manager."""
    if not user.is_authenticated or not roles.is_agent(user):
        return False
    if user.is_superuser or roles.can_view_dashboard(user):
        return True
    return user.pk in {escalation.tier1_assignee_id, escalation.escalated_by_id, escalation.from_queue.lead_id}


def _given(handoff: Handoff, escalation: Escalation) -> list[str]:
    """The fields this submission adds or changes (blank or unchanged fields are left as they are)."""
    given = [
        name
        for name in ("problem_summary", "steps_tried", "error_evidence", "urgency")
        if (getattr(handoff, name) or "").strip() and getattr(handoff, name) != getattr(escalation, name)
    ]
    scope_changed = handoff.affected_scope and handoff.affected_scope != escalation.affected_scope
    if scope_changed or (handoff.affected_count is not None and handoff.affected_count != escalation.affected_count):
        given.append("affected_scope")
    given += [
        f"checklist.{key}"
        for key, answer in (handoff.checklist or {}).items()
        if (not isinstance(answer, str) or answer.strip()) and answer != (escalation.checklist or {}).get(key)
    ]
    return given


@transaction.atomic
def escalation_complete_handoff(*, ticket_id: int, handoff: Handoff, acting_user: User) -> Escalation:
    """Complete or amend the current escalation's handoff (an automatic one names what it lacks).

    1. Lock the ticket; its current escalation (awaiting or accepted by Tier 2), else 409.
    2. Only the Tier 1 owner, the escalator, the Tier 1 queue's lead or a manager may (403).
    3. The fields given replace the handoff's; each is judged by the same checks as an
       escalation. Any refusal (or nothing given) answers field by field and changes nothing.
    4. Save, recompute what is still missing (the list shrinks), write what was added on the
       timeline, and tell Tier 2 (the team while it waits, the engineer once accepted).
    """
    ticket = lock_ticket(ticket_id)
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("from_queue", "to_queue")
        .filter(ticket=ticket, outcome__in=[Outcome.AWAITING, Outcome.ACCEPTED])
        .order_by("-escalated_at", "-id")
        .first()
    )
    if escalation is None or ticket.tier != Tier.TWO:
        raise InvalidTransition(f"{ticket.reference} has no escalation with Tier 2 to complete; escalate it instead.")
    if not may_complete_handoff(acting_user, escalation):
        raise NotAllowed(f"Only the Tier 1 owner or whoever escalated {ticket.reference} can complete its handoff.")
    given = _given(handoff, escalation)
    merged = Handoff(
        problem_summary=handoff.problem_summary if "problem_summary" in given else escalation.problem_summary,
        steps_tried=handoff.steps_tried if "steps_tried" in given else escalation.steps_tried,
        error_evidence=handoff.error_evidence if "error_evidence" in given else escalation.error_evidence,
        affected_scope=(handoff.affected_scope or escalation.affected_scope)
        if "affected_scope" in given
        else escalation.affected_scope,
        affected_count=(handoff.affected_count if handoff.affected_count is not None else escalation.affected_count)
        if "affected_scope" in given
        else escalation.affected_count,
        urgency=handoff.urgency if "urgency" in given else escalation.urgency,
        checklist={
            **(escalation.checklist or {}),
            **{key: handoff.checklist[key] for key in _checklist_keys(given)},
        },
    )
    problems = handoff_problems(ticket=ticket, trigger=escalation.trigger, handoff=merged)
    problems.pop("trigger", None)
    if not given:
        raise InvalidInput(
            problems or {"problem_summary": ["Nothing new to add: change a field to amend the handoff."]},
            message="Nothing was added to the handoff.",
        )
    refused = {
        key: messages
        for key, messages in problems.items()
        if ("affected_scope" if key == "affected_count" else key) in given
    }
    if refused:
        raise InvalidInput(refused, message="The handoff is still incomplete; nothing was changed.")

    # "added" fills a gap (missing or weak before); "amended" rewrites what was already there.
    before_missing = set(escalation.missing_fields or [])
    added = [name for name in given if name in before_missing or not _filled(escalation, name)]
    changed = [name for name in given if name not in added]
    still_missing = problem_fields(problems)
    fields = ["missing_fields"]
    for name in ("problem_summary", "steps_tried", "error_evidence", "affected_scope", "affected_count", "urgency"):
        if getattr(escalation, name) != getattr(merged, name):
            setattr(escalation, name, getattr(merged, name))
            fields.append(name)
    if merged.checklist != escalation.checklist:
        escalation.checklist = dict(merged.checklist)
        fields.append("checklist")
    escalation.missing_fields = still_missing
    escalation.save(update_fields=fields)

    event = events.handoff_completed(
        ticket=ticket,
        actor=acting_user,
        escalation_id=escalation.pk,
        added=field_labels(added, ticket=ticket),
        changed=field_labels(changed, ticket=ticket),
        still_missing=field_labels(still_missing, ticket=ticket),
    )
    if escalation.outcome == Outcome.ACCEPTED:
        recipients = [escalation.accepted_by, ticket.assignee]
    else:
        recipients = [*_members(escalation.to_queue), escalation.to_queue.lead]
    notify(
        event=event,
        kind=NotificationKind.HANDOFF_COMPLETED,
        recipients=[user for user in recipients if user != acting_user],
        body=event.message,
    )
    return escalation


def _checklist_keys(given: list[str]) -> list[str]:
    return [name.removeprefix("checklist.") for name in given if name.startswith("checklist.")]


def _filled(escalation: Escalation, name: str) -> bool:
    if name.startswith("checklist."):
        return bool(str((escalation.checklist or {}).get(name[len("checklist.") :]) or "").strip())
    return bool(str(getattr(escalation, name) or "").strip())


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
    from .selectors import may_act_for_team

    if not roles.is_tier2(user):
        raise NotAllowed(f"Only Tier 2 engineers can {verb} escalations.")
    if not may_act_for_team(user, ticket.queue):
        raise NotAllowed(f"{ticket.reference} belongs to {ticket.queue}; only its members can {verb} it.")


def _on_team(queue: Queue, user: User) -> bool:
    return queue.lead_id == user.pk or queue.members.filter(pk=user.pk).exists()


@transaction.atomic
def escalation_accept(*, ticket_id: int, acting_user: User) -> Escalation:
    """Tier 2 takes ownership: the ticket opens, assigned to the engineer who accepted."""
    ticket = lock_ticket(ticket_id)
    ticket.status = check_transition(ticket, "accept")  # a second accept finds it open: 409
    _check_tier2(ticket, acting_user, "accept")
    escalation = _awaiting(ticket)
    now = timezone.now()
    ticket.assignee = acting_user
    save_ticket(ticket, ["status", "assignee"])
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


def _return_input_problems(
    *, reason: str, note: str, missing_fields, kb_reference: str, team: Queue | None = None
) -> dict[str, list[str]]:
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
    if reason == ReturnReason.WRONG_TEAM:
        if team is None:
            problems["team"] = ["Name the Tier 2 team that should take it."]
        elif team.tier != Tier.TWO:
            problems["team"] = [f"{team} is not a Tier 2 team; choose the Tier 2 team that should take it."]
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
    team: Queue | None = None,
) -> Escalation:
    """Send an escalation back to the Tier 1 queue it came from, with the reason on the timeline.

    "Wrong team" sends it on to the Tier 2 team named instead: it stays escalated, the
    accept clock keeps running (its history is kept), and the new team is told.
    """
    missing_fields = list(dict.fromkeys(missing_fields or ()))
    problems = _return_input_problems(
        reason=reason, note=note, missing_fields=missing_fields, kb_reference=kb_reference, team=team
    )
    ticket = lock_ticket(ticket_id)
    if reason == ReturnReason.WRONG_TEAM and team is not None and team.pk == ticket.queue_id:
        problems["team"] = [f"{ticket.reference} is already with {team}; name the team that should take it."]
    if problems:
        raise InvalidInput(problems)
    if reason == ReturnReason.WRONG_TEAM:
        return _reroute(ticket=ticket, team=team, note=note, acting_user=acting_user)
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
    save_ticket(ticket, ["status", "tier", "queue", "assignee"])
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
        kind=NotificationKind.RETURNED,
        recipients=[back_to_person or back_to.lead],
        body=f"{ReturnReason(reason).label}: {escalation.return_note}",
    )
    sla.apply(ticket=ticket, event=event)
    return escalation


def _reroute(*, ticket: Ticket, team: Queue, note: str, acting_user: User) -> Escalation:
    """Wrong team: the escalation is returned, and a copy of its handoff awaits the named team."""
    check_transition(ticket, "accept")  # only an escalation still awaiting Tier 2 can be re-routed (else 409)
    _check_tier2(ticket, acting_user, "return")
    escalation = _awaiting(ticket)
    now = timezone.now()
    from_queue = ticket.queue
    ticket.queue = team
    fields = ["queue"]
    if team.is_security and not ticket.is_restricted:
        ticket.is_restricted = True
        fields.append("is_restricted")
    save_ticket(ticket, fields)
    escalation.outcome = Outcome.RETURNED
    escalation.returned_by = acting_user
    escalation.returned_at = now
    escalation.return_reason = ReturnReason.WRONG_TEAM
    escalation.return_note = note.strip()
    escalation.rerouted_to = team
    escalation.save(
        update_fields=["outcome", "returned_by", "returned_at", "return_reason", "return_note", "rerouted_to"]
    )
    onward = Escalation.objects.create(
        ticket=ticket,
        trigger=escalation.trigger,
        problem_summary=escalation.problem_summary,
        steps_tried=escalation.steps_tried,
        error_evidence=escalation.error_evidence,
        affected_scope=escalation.affected_scope,
        affected_count=escalation.affected_count,
        urgency=escalation.urgency,
        checklist=escalation.checklist,
        from_queue=escalation.from_queue,
        to_queue=team,
        path=None,
        after_hours=not calendars.queue_in_business_hours(queue=team, at=now),
        escalated_by=escalation.escalated_by,
        tier1_assignee=escalation.tier1_assignee,
        escalated_at=now,
        is_automatic=escalation.is_automatic,
        missing_fields=escalation.missing_fields,
        rule=escalation.rule,
    )
    # A re-route, not a return to Tier 1: on the timeline (and to the SLA engine) it is a move between
    # Tier 2 teams, so the ticket stays awaiting Tier 2 and the clocks keep their history.
    event = events.escalation_rerouted(
        ticket=ticket,
        actor=acting_user,
        escalation_id=escalation.pk,
        onward_id=onward.pk,
        old_queue=from_queue.slug,
        new_queue=team.slug,
        note=escalation.return_note,
    )
    notify(
        event=event,
        kind=NotificationKind.ESCALATED_TO_TEAM,
        recipients=[u for u in [*_members(team), team.lead] if u != acting_user],
        body=f"Re-routed by {acting_user} from {from_queue} (wrong team): {escalation.return_note}",
    )
    sla.apply(ticket=ticket, event=event)
    return onward


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
    escalation = Escalation.objects.select_for_update(of=("self",)).select_related("to_queue").get(pk=escalation_id)
    if not _on_team(escalation.to_queue, acting_user):
        # The team that received the handoff judges it; nobody else's rating counts.
        raise NotAllowed(f"Only {escalation.to_queue} rates handoffs it received.")
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
