"""One small constructor per timeline event kind: actor, old and new values, reason.

Services call these inside their transaction; nothing else writes TicketEvent.
"""

from typing import Any

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
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket, kind=kind, actor=actor, message=message[:500], data=data or {}, is_public=is_public
    )
    if at is not None:
        event.created_at = at
    event.save()
    return event


def ticket_created(*, ticket: Ticket, actor: User | None) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.CREATED,
        actor=actor,
        message=f"Logged via {ticket.get_channel_display().lower()} for {ticket.requester}",
        data={"channel": ticket.channel, "requester": ticket.requester.username, "priority": ticket.priority},
        is_public=True,
    )


def ticket_routed(*, ticket: Ticket, rule_name: str | None, reason: str) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.ROUTED,
        actor=None,
        message=reason,
        data={"queue": ticket.queue.slug, "priority": ticket.priority, "rule": rule_name},
    )


def comment_added(*, ticket: Ticket, actor: User | None, comment_id: int, is_public: bool) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.COMMENTED if is_public else EventKind.NOTE_ADDED,
        actor=actor,
        data={"comment_id": comment_id},
        is_public=is_public,
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


def priority_changed(*, ticket: Ticket, actor: User | None, old: str, new: str, reason: str) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.PRIORITY_CHANGED,
        actor=actor,
        message=f"{old} → {new}: {reason}",
        data={"old": old, "new": new, "reason": reason},
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


def attachment_added(*, ticket: Ticket, actor: User | None, attachment_id: int, filename: str) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.ATTACHMENT_ADDED,
        actor=actor,
        message=filename,
        data={"attachment_id": attachment_id, "filename": filename},
        is_public=True,
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


def notification_sent(*, ticket: Ticket, channel: str, to: str, kind: str) -> TicketEvent:
    return record(
        ticket=ticket,
        kind=EventKind.NOTIFIED,
        actor=None,
        message=f"{kind} sent by {channel} to {to}",
        data={"channel": channel, "to": to, "kind": kind},
    )
