"""Ticket actions agents take from the ticket page and the API, beyond the lifecycle:
transfer to another team, watchers (CC), links, merging a duplicate, reply-and-wait.

The same shape as tickets.services (which holds intake, lifecycle, assignment and
the field update): check, lock in pk order, change, timeline event, outbox rows,
all in one transaction. Kept apart only so services.py stays readable.
"""

from django.db import transaction
from django.utils import timezone

from escalation.models import Escalation, Outcome
from escalation.services import apply_security_floor
from escalation.sla import engine as sla
from tickets.notifications import services as notifications
from tickets.notifications.models import NotificationKind

from . import events, roles, selectors
from .errors import InvalidInput, NotAllowed
from .locks import lock_ticket, save_ticket, tickets_for_update
from .models import Comment, EventKind, Queue, Ticket, TicketLink, TicketStatus, Tier, User
from .services import ticket_comment_add, ticket_set_pending
from .transitions import check_transition


def _require_agent(user: User) -> None:
    if not roles.is_agent(user):
        raise NotAllowed("Only support agents can do this.")


def may_follow(user: User, ticket: Ticket) -> bool:
    """Whether this person could see the ticket as a watcher (clearance for restricted tickets)."""
    if not user.is_active:
        return False
    if ticket.is_restricted:
        return roles.can_see_restricted(user) or ticket.requester_id == user.pk
    return True


# ---------------------------------------------------------------- transfer


@transaction.atomic
def ticket_transfer(*, ticket_id: int, queue: Queue, reason: str, acting_user: User) -> Ticket:
    """Move a ticket to another team's queue in the same tier, with a reason; its SLA is re-routed.

    Tier 1 → Tier 2 is an escalation (with a handoff) and Tier 2 → Tier 1 a return,
    so a transfer stays within the tier. The assignee stays only if they belong to the
    new team; a move into a security queue restricts the ticket (never the reverse:
    lifting a restriction is the Security team's decision).
    """
    _require_agent(acting_user)
    errors = {}
    if not reason.strip():
        errors["reason"] = ["Say why it moves; the receiving team reads it."]
    ticket = lock_ticket(ticket_id)
    if queue.pk == ticket.queue_id:
        errors["queue"] = [f"{ticket.reference} is already in {queue}."]
    elif queue.tier != ticket.tier:
        hint = "escalate it with a handoff" if queue.tier == Tier.TWO else "return it to Tier 1"
        errors["queue"] = [f"{queue} is a {queue.get_tier_display()} team; to move it there, {hint}."]
    if errors:
        raise InvalidInput(errors)
    check_transition(ticket, "reassign")
    old_queue = ticket.queue
    ticket.queue = queue
    fields = ["queue"]
    if ticket.tier == Tier.ONE:
        ticket.tier1_queue = queue
        fields.append("tier1_queue")
    if queue.is_security:
        fields += apply_security_floor(ticket, actor=acting_user, reason=f"Moved to {queue}.")
    if ticket.assignee_id and not queue.members.filter(pk=ticket.assignee_id).exists():
        ticket.assignee = None
        fields.append("assignee")
    save_ticket(ticket, fields)
    escalated = ticket.status == TicketStatus.ESCALATED
    if escalated:
        # The awaiting handoff follows the ticket: the new team sees it in its Tier 2 queue,
        # accepts it, and is the receiving team that rates it.
        Escalation.objects.filter(ticket=ticket, outcome=Outcome.AWAITING).update(to_queue=queue)
    event = events.reassigned(
        ticket=ticket, actor=acting_user, old_queue=old_queue.name, new_queue=queue.name, reason=reason.strip()
    )
    sla.apply(ticket=ticket, event=event)  # the engine re-applies the policy
    members = [member for member in [*queue.members.filter(is_active=True), queue.lead] if member != acting_user]
    kind = NotificationKind.ESCALATED_TO_TEAM if escalated else NotificationKind.REASSIGNED
    notifications.notify(event=event, kind=kind, recipients=members)
    return ticket


# ---------------------------------------------------------------- watchers (CC)


@transaction.atomic
def ticket_watchers_change(*, ticket_id: int, add: list[User], remove: list[User], acting_user: User) -> list[User]:
    """Add or remove watchers. New watchers are told; each must be allowed to see the ticket."""
    _require_agent(acting_user)
    ticket = lock_ticket(ticket_id)
    check_transition(ticket, "comment")
    refused = [str(user) for user in add if not may_follow(user, ticket)]
    if refused:
        raise InvalidInput(
            {"add": [f"{', '.join(refused)} may not see security-restricted tickets, so cannot watch this one."]}
        )
    current = set(ticket.watchers.values_list("pk", flat=True))
    added = [user for user in dict.fromkeys(add) if user.pk not in current and user.pk != ticket.requester_id]
    removed = [user for user in dict.fromkeys(remove) if user.pk in current]
    if not added and not removed:
        return selectors.watchers_of(ticket)
    ticket.watchers.add(*added)
    ticket.watchers.remove(*removed)
    save_ticket(ticket, [])
    event = events.watchers_changed(ticket=ticket, actor=acting_user, added=added, removed=removed)
    notifications.notify(event=event, kind=NotificationKind.WATCHING, recipients=[u for u in added if u != acting_user])
    return selectors.watchers_of(ticket)


# ---------------------------------------------------------------- links


@transaction.atomic
def ticket_link(*, ticket_id: int, other_id: int, acting_user: User, unlink: bool = False) -> TicketLink | None:
    """Link two related tickets (or unlink them); both timelines say so."""
    _require_agent(acting_user)
    if ticket_id == other_id:
        raise InvalidInput({"ticket": ["A ticket cannot be linked to itself."]})
    first, second = list(tickets_for_update([ticket_id, other_id]))
    existing = TicketLink.objects.filter(ticket=first, other=second).first()
    if unlink:
        if existing is None:
            raise InvalidInput({"ticket": [f"{first.reference} and {second.reference} are not linked."]})
        existing.delete()
        link = None
    else:
        if existing is not None:
            raise InvalidInput({"ticket": [f"{first.reference} and {second.reference} are already linked."]})
        link = TicketLink.objects.create(ticket=first, other=second, created_by=acting_user)
    for one, two in ((first, second), (second, first)):
        save_ticket(one, [])
        events.linked(ticket=one, actor=acting_user, other=two, unlinked=unlink)
    return link


# ---------------------------------------------------------------- merge


@transaction.atomic
def ticket_merge(*, duplicate_id: int, primary_id: int, acting_user: User, note: str = "") -> Ticket:
    """Merge a duplicate into its primary.

    1. Lock both (pk order), check both states and that no restriction would leak.
    2. Carry the duplicate's description and comments over to the primary (authors,
       times and public/internal kept) and its requester and watchers as watchers.
    3. Close the duplicate with a pointer (merged_into, a public reply), stop its clocks.
    4. Both timelines record the merge; the people carried over are told.
    """
    _require_agent(acting_user)
    if duplicate_id == primary_id:
        raise InvalidInput({"into": ["A ticket cannot be merged into itself."]})
    locked = {t.pk: t for t in tickets_for_update([duplicate_id, primary_id])}
    duplicate, primary = locked[duplicate_id], locked[primary_id]
    check_transition(duplicate, "merge")
    check_transition(primary, "merge_into")
    if duplicate.is_restricted and not primary.is_restricted:
        raise InvalidInput(
            {"into": ["A security-restricted ticket can only be merged into another restricted ticket."]}
        )
    now = timezone.now()
    carried = [
        Comment(
            ticket=primary,
            author=duplicate.requester,
            body=f"From {duplicate.reference} ({duplicate.title}):\n\n{duplicate.description}",
            is_public=True,
            created_at=duplicate.created_at,
        )
    ]
    carried += [
        Comment(
            ticket=primary,
            author=comment.author,
            body=f"From {duplicate.reference}:\n\n{comment.body}",
            is_public=comment.is_public,
            created_at=comment.created_at,
        )
        for comment in duplicate.comments.select_related("author")
    ]
    Comment.objects.bulk_create(carried)
    people = [duplicate.requester, *duplicate.watchers.all()]
    already = set(primary.watchers.values_list("pk", flat=True)) | {primary.requester_id}
    new_watchers = [p for p in dict.fromkeys(people) if p.pk not in already and may_follow(p, primary)]
    primary.watchers.add(*new_watchers)
    save_ticket(primary, [])

    old_status = duplicate.status
    duplicate.status = check_transition(duplicate, "merge")
    duplicate.merged_into = primary
    fields = ["status", "merged_into"]
    if duplicate.resolved_at is None:
        duplicate.resolved_at = now
        fields.append("resolved_at")
    save_ticket(duplicate, fields)
    pointer = f"This request is the same as {primary.reference} ({primary.title}); we merged it there."
    pointer += " Replies and updates continue on that ticket." + (f"\n\n{note.strip()}" if note.strip() else "")
    Comment.objects.create(ticket=duplicate, author=acting_user, body=pointer, is_public=True, created_at=now)
    closed = events.status_changed(
        ticket=duplicate,
        kind=EventKind.CLOSED,
        actor=acting_user,
        old=old_status,
        new=duplicate.status,
        reason=f"Duplicate of {primary.reference}",
    )
    sla.apply(ticket=duplicate, event=closed)  # its clocks stop (met or breached) as on a resolve
    events.merged(ticket=duplicate, actor=acting_user, duplicate=duplicate, primary=primary, comments=0, people=[])
    event = events.merged(
        ticket=primary,
        actor=acting_user,
        duplicate=duplicate,
        primary=primary,
        comments=len(carried),
        people=[str(p) for p in new_watchers],
    )
    notifications.notify(
        event=event, kind=NotificationKind.MERGED, recipients=[p for p in new_watchers if p != acting_user]
    )
    return primary


# ---------------------------------------------------------------- reply and wait


@transaction.atomic
def ticket_reply_and_wait(*, ticket_id: int, body: str, acting_user: User) -> Comment:
    """Reply to the requester and wait on them, in one step: both or neither."""
    _require_agent(acting_user)
    ticket = lock_ticket(ticket_id)
    already_waiting = ticket.status == TicketStatus.PENDING
    if not already_waiting:
        check_transition(ticket, "pending")  # refuse before anything is sent
    comment = ticket_comment_add(ticket_id=ticket_id, body=body, public=True, acting_user=acting_user)
    if not already_waiting:
        ticket_set_pending(
            ticket_id=ticket_id, reason="Replied; waiting on the requester's answer.", acting_user=acting_user
        )
    return comment
