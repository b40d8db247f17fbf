"""One small constructor per timeline event kind: actor, old and new values, reason.

Services call these inside their transaction; nothing else writes TicketEvent.
"""

from datetime import UTC
from typing import Any

from . import bulk, durations
from .models import EventKind, Ticket, TicketEvent, User


def record(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None,
    message: str = "",
    data: dict[str, Any] | None = None,
    is_public: bool = False,
    at=None,
    save: bool = True,
) -> TicketEvent:
    """Write one timeline row; `save=False` builds it for a caller that bulk-inserts many (the sweep)."""
    event = TicketEvent(
        ticket=ticket, kind=kind, actor=actor, message=message[:500], data=data or {}, is_public=is_public
    )
    if at is not None:
        event.created_at = at
    if save:
        event.save()
    return event


def insert_many(timeline: list[TicketEvent]) -> None:
    """Insert events built with save=False, in order, as bulk_create would (each gets its pk); on
    PostgreSQL as plain rows (tickets.bulk: COPY for thousands, a sweep batch's breach events). An
    event that already has its id (the sweep takes them from the sequence first) keeps it."""
    bulk.insert_objects(timeline)


def ticket_created(*, ticket: Ticket, actor: User | None, save: bool = True) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.CREATED,
        actor=actor,
        message=f"Logged via {ticket.get_channel_display().lower()} for {ticket.requester}",
        data={
            "channel": ticket.channel,
            "requester": ticket.requester.username,
            "priority": ticket.priority,
            "is_restricted": ticket.is_restricted,
            # What the SLA policy matched on at intake, so a replay starts from it.
            "category": ticket.category.slug,
            "site_id": ticket.site_id,
        },
        is_public=True,
        at=ticket.created_at,  # the clocks start when the ticket was logged
        save=save,
    )


def ticket_routed(*, ticket: Ticket, rule_name: str | None, reason: str, save: bool = True) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.ROUTED,
        actor=None,
        message=reason,
        data={"queue": ticket.queue.slug, "priority": ticket.priority, "rule": rule_name},
        save=save,
    )


def comment_added(
    *, ticket: Ticket, actor: User | None, comment_id: int, is_public: bool, by: str = "agent", at=None
) -> TicketEvent:
    """by: "agent" or "requester" — which SLA clock a public reply answers or starts."""
    return record(
        ticket=ticket,
        kind=EventKind.COMMENTED if is_public else EventKind.NOTE_ADDED,
        actor=actor,
        at=at,
        data={"comment_id": comment_id, "by": by},
        is_public=is_public,
    )


def unverified_mail_noted(*, ticket: Ticket, comment_id: int, claimed_sender: str) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.NOTE_ADDED,
        actor=None,
        message=f"Unverified sender: {claimed_sender}",
        data={"comment_id": comment_id, "unverified_sender": claimed_sender},
        is_public=False,
    )


def fields_changed(*, ticket: Ticket, actor: User | None, changes: dict[str, tuple[Any, Any]]) -> TicketEvent:
    summary = ", ".join(f"{name}: {old} → {new}" for name, (old, new) in changes.items())
    return record(
        ticket=ticket,
        kind=EventKind.FIELD_CHANGED,
        actor=actor,
        message=summary,
        data={name: {"old": old, "new": new} for name, (old, new) in changes.items()},
    )


def priority_changed(
    *, ticket: Ticket, actor: User | None, old: str, new: str, reason: str, save: bool = True
) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.PRIORITY_CHANGED,
        actor=actor,
        message=f"{old} → {new}: {reason}",
        data={"old": old, "new": new, "reason": reason},
        save=save,
    )


def restriction_changed(*, ticket: Ticket, actor: User | None, restricted: bool, reason: str) -> TicketEvent:
    """The ticket became visible only to people cleared for security tickets, or stopped being so."""
    return record(
        ticket=ticket,
        kind=EventKind.RESTRICTED if restricted else EventKind.RESTRICTION_LIFTED,
        actor=actor,
        message=reason,
        data={"old": not restricted, "new": restricted, "reason": reason},
    )


def assigned(*, ticket: Ticket, actor: User | None, old: User | None, new: User | None) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.ASSIGNED,
        actor=actor,
        message=f"Assigned to {new}" if new else "Unassigned",
        data={"old": old.username if old else None, "new": new.username if new else None},
    )


def reassigned(*, ticket: Ticket, actor: User | None, old_queue: str, new_queue: str, reason: str) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.REASSIGNED,
        actor=actor,
        message=f"{old_queue} → {new_queue}: {reason}",
        data={"old": old_queue, "new": new_queue, "reason": reason},
    )


def attachment_added(
    *, ticket: Ticket, actor: User | None, attachment_id: int, filename: str, is_public: bool
) -> TicketEvent:
    # An internal file stays internal on the timeline too: the requester never sees its name.
    return record(
        ticket=ticket,
        kind=EventKind.ATTACHMENT_ADDED,
        actor=actor,
        message=filename,
        data={"attachment_id": attachment_id, "filename": filename},
        is_public=is_public,
    )


def status_changed(
    *, ticket: Ticket, kind: str, actor: User | None, old: str, new: str, reason: str = "", is_public: bool = True
) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=kind,
        actor=actor,
        message=reason,
        data={"old_status": old, "new_status": new, "reason": reason},
        is_public=is_public,
    )


def escalated(
    *,
    ticket: Ticket,
    actor: User | None,
    trigger: str,
    from_queue: str,
    to_queue: str,
    path: str | None,
    automatic: bool,
    missing_fields: list[str],
    after_hours: bool,
    escalation_id: int,
    old_status: str,
    rule: str | None = None,
    reason: str = "",
    save: bool = True,
) -> TicketEvent:
    how = "automatically" if automatic else "manually"
    message = f"Escalated {how} ({trigger}): {from_queue} → {to_queue}"
    if reason:
        message += f". {reason}"
    if missing_fields:
        message += f"; missing: {', '.join(missing_fields)}"
    return record(
        ticket=ticket,
        kind=EventKind.ESCALATED,
        actor=actor,
        message=message,
        data={
            "escalation_id": escalation_id,
            "trigger": trigger,
            "path": path,
            "from_queue": from_queue,
            "to_queue": to_queue,
            "automatic": automatic,
            "missing_fields": missing_fields,
            "after_hours": after_hours,
            "rule": rule,
            "reason": reason,
            "old_status": old_status,
            "new_status": ticket.status,
        },
        is_public=True,
        save=save,
    )


def handoff_completed(
    *,
    ticket: Ticket,
    actor: User | None,
    escalation_id: int,
    added: list[str],
    changed: list[str],
    still_missing: list[str],
) -> TicketEvent:
    """Tier 1 completed or amended a handoff; the lists are labels as people read them."""
    parts = []
    if added:
        parts.append("added " + ", ".join(added))
    if changed:
        parts.append("amended " + ", ".join(changed))
    message = "Handoff " + ("completed" if not still_missing else "updated") + ": " + "; ".join(parts)
    if still_missing:
        message += "; still missing: " + ", ".join(still_missing)
    return record(
        ticket=ticket,
        kind=EventKind.HANDOFF_COMPLETED,
        actor=actor,
        message=message,
        data={"escalation_id": escalation_id, "added": added, "changed": changed, "still_missing": still_missing},
    )


def escalation_accepted(
    *, ticket: Ticket, actor: User, escalation_id: int, queue: str, seconds_to_accept: int
) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.ACCEPTED,
        actor=actor,
        message=f"Accepted by {actor} for {queue}",
        data={
            "escalation_id": escalation_id,
            "queue": queue,
            "assignee": actor.username,
            "seconds_to_accept": seconds_to_accept,
        },
        is_public=True,
    )


def escalation_returned(
    *,
    ticket: Ticket,
    actor: User,
    escalation_id: int,
    from_queue: str,
    to_queue: str,
    reason: str,
    note: str,
    missing_fields: list[str],
    kb_reference: str,
) -> TicketEvent:
    detail = f"missing {', '.join(missing_fields)}" if missing_fields else kb_reference
    return record(
        ticket=ticket,
        kind=EventKind.RETURNED,
        actor=actor,
        message=f"Returned to {to_queue} ({reason}: {detail}). {note}".strip(),
        data={
            "escalation_id": escalation_id,
            "from_queue": from_queue,
            "to_queue": to_queue,
            "reason": reason,
            "note": note,
            "missing_fields": missing_fields,
            "kb_reference": kb_reference,
        },
    )


def escalation_rerouted(
    *, ticket: Ticket, actor: User, escalation_id: int, onward_id: int, old_queue: str, new_queue: str, note: str
) -> TicketEvent:
    """Tier 2 returned an escalation as the wrong team: a reassignment between Tier 2 teams (no tier change)."""
    return record(
        ticket=ticket,
        kind=EventKind.REASSIGNED,
        actor=actor,
        message=f"Returned as the wrong team: re-routed from {old_queue} to {new_queue}. {note}".strip(),
        data={
            "old": old_queue,
            "new": new_queue,
            "reason": "wrong_team",
            "note": note,
            "escalation_id": escalation_id,
            "onward_escalation_id": onward_id,
        },
    )


def escalation_rated(
    *, ticket: Ticket, actor: User, escalation_id: int, old: int | None, new: int, comment: str
) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.RATED,
        actor=actor,
        message=f"Handoff rated {new}/5" + (f": {comment}" if comment else ""),
        data={"escalation_id": escalation_id, "old": old, "new": new, "comment": comment},
    )


def rule_fired(
    *, ticket: Ticket, rule_name: str, rule_id: int, moment: str, actions: list[str], save: bool = True
) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.RULE_FIRED,
        actor=None,
        message=f"Trigger rule “{rule_name}” fired at {moment}: {', '.join(actions) or 'no action'}",
        data={"rule": rule_name, "rule_id": rule_id, "moment": moment, "actions": actions},
        save=save,
    )


def _sla_event(
    *, ticket: Ticket, kind: str, target: str, cycle: int, due_at, levels: list[str], data: dict, save: bool
) -> TicketEvent:
    # Stored text names UTC; pages and e-mail re-word it in the reader's zone (durations.sla_event_text).
    data = {"target": target, "cycle": cycle, "due_at": due_at.isoformat(), "levels": levels, **data}
    message = durations.sla_event_text(kind, data, UTC) or ""
    return record(ticket=ticket, kind=kind, actor=None, message=message, data=data, save=save)


def rule_escalation_refused(
    *, ticket: Ticket, rule_name: str, rule_id: int, reason: str, save: bool = True
) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.RULE_FIRED,
        actor=None,
        message=f"Trigger rule “{rule_name}” could not escalate ({reason}); it stays armed",
        data={"rule": rule_name, "rule_id": rule_id, "refused": reason, "actions": []},
        save=save,
    )


def sla_warning(
    *, ticket: Ticket, target: str, cycle: int, due_at, levels: list[str], data: dict, save: bool = True
) -> TicketEvent:
    return _sla_event(
        ticket=ticket,
        kind=EventKind.SLA_WARNING,
        target=target,
        cycle=cycle,
        due_at=due_at,
        levels=levels,
        data=data,
        save=save,
    )


def sla_breached(
    *, ticket: Ticket, target: str, cycle: int, due_at, levels: list[str], data: dict, save: bool = True
) -> TicketEvent:
    return _sla_event(
        ticket=ticket,
        kind=EventKind.SLA_BREACHED,
        target=target,
        cycle=cycle,
        due_at=due_at,
        levels=levels,
        data=data,
        save=save,
    )


def sla_recomputed(
    *, ticket: Ticket, actor: User | None, reason: str, changes: dict[str, tuple[Any, Any]], save: bool = True
) -> TicketEvent:
    """Due times moved (priority/category change, repair): old and new due per target."""
    data = {"reason": reason, **{name: {"old": old, "new": new} for name, (old, new) in changes.items()}}
    return record(
        ticket=ticket,
        kind=EventKind.SLA_RECOMPUTED,
        actor=actor,
        message=durations.sla_event_text(EventKind.SLA_RECOMPUTED, data, UTC) or reason,
        data=data,
        save=save,
    )


def playbook_step_recorded(
    *,
    ticket: Ticket,
    actor: User | None,
    playbook: str,
    step: str,
    outcome: str,
    result: str,
    old_outcome: str | None = None,
) -> TicketEvent:
    """A playbook step worked on the ticket (knowledgebase.services.playbook_step_record)."""
    message = f"{step}: {outcome}" + (f" — {result}" if result else "")
    return record(
        ticket=ticket,
        kind=EventKind.PLAYBOOK_STEP,
        actor=actor,
        message=message,
        data={"playbook": playbook, "step": step, "old": old_outcome, "new": outcome, "result": result},
    )


def notification_sent(*, ticket: Ticket, channel: str, to: str, kind: str) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.NOTIFIED,
        actor=None,
        message=f"{kind} sent by {channel} to {to}",
        data={"channel": channel, "to": to, "kind": kind},
    )


def watchers_changed(*, ticket: Ticket, actor: User | None, added: list[User], removed: list[User]) -> TicketEvent:
    parts = []
    if added:
        parts.append("Added " + ", ".join(str(u) for u in added))
    if removed:
        parts.append("removed " + ", ".join(str(u) for u in removed))
    message = "; ".join(parts)
    return record(
        ticket=ticket,
        kind=EventKind.WATCHERS_CHANGED,
        actor=actor,
        message=message[:1].upper() + message[1:] + " as watchers",
        data={"added": [u.username for u in added], "removed": [u.username for u in removed]},
    )


def linked(*, ticket: Ticket, actor: User | None, other: Ticket, unlinked: bool = False) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.LINKED,
        actor=actor,
        message=f"{'Unlinked from' if unlinked else 'Linked to'} {other.reference} {other.title}",
        data={"other": other.reference, "other_id": other.pk, "unlinked": unlinked},
    )


def merged(
    *, ticket: Ticket, actor: User | None, duplicate: Ticket, primary: Ticket, comments: int, people: list[str]
) -> TicketEvent:
    """On both tickets: the duplicate says where it went, the primary what it received."""
    if ticket.pk == duplicate.pk:
        message = f"Merged into {primary.reference} as a duplicate; follow that ticket from now on"
    else:
        message = f"{duplicate.reference} merged in as a duplicate"
        if comments:
            message += f": {comments} {'comment' if comments == 1 else 'comments'} carried over"
        if people:
            message += (
                f"{',' if comments else ':'} {', '.join(people)} now {'follows' if len(people) == 1 else 'follow'}"
            )
    return record(
        ticket=ticket,
        kind=EventKind.MERGED,
        actor=actor,
        message=message,
        data={
            "duplicate": duplicate.reference,
            "duplicate_id": duplicate.pk,
            "primary": primary.reference,
            "primary_id": primary.pk,
            "comments": comments,
            "people": people,
        },
        is_public=True,
    )
