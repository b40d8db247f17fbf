"""Every write to a ticket. Each action: check, lock, change, timeline, outbox — one transaction.

Pages, the API and Celery tasks call these; none of them saves a Ticket itself.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from escalation.sla import engine as sla
from tickets.notifications import services as notifications
from tickets.notifications.models import NotificationKind

from . import configcache, events, roles, routing, sniffing
from .errors import ConcurrentUpdate, InvalidInput, NotAllowed
from .locks import lock_ticket, lock_tickets, save_ticket, save_tickets
from .models import (
    Attachment,
    Category,
    Channel,
    Comment,
    EventKind,
    Impact,
    Priority,
    Site,
    Ticket,
    TicketEvent,
    TicketStatus,
    Tier,
    Urgency,
    User,
    site_get,
)
from .priorities import is_more_severe, most_severe, one_step_up
from .transitions import check_refusal, check_transition


@dataclass(frozen=True)
class TicketIntake:
    title: str
    description: str
    category: Category
    impact: str
    urgency: str
    requester: User
    site: Site | None = None
    channel: str = Channel.PORTAL

    @classmethod
    def from_data(cls, data: dict, **given) -> "TicketIntake":
        """From a validated form or serializer: its intake fields, then what the caller sets (requester, channel…)."""
        fields = {name: data[name] for name in ("title", "description", "category", "impact", "urgency")}
        return cls(**{"site": data.get("site"), **fields, **given})


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != ticket.version:
        raise ConcurrentUpdate(
            f"{ticket.reference} was changed by someone else (version {ticket.version}, you had {expected_version}). "
            "Reload and try again."
        )


def ticket_create(*, intake: TicketIntake, acting_user: User | None) -> Ticket:
    """Log a ticket: derive priority, route it, start its SLA clocks, record all of it."""
    _validate_intake(intake)  # before the transaction: a refused intake leaves the caller's intact
    # No savepoint of its own: nothing here catches a failure, and callers (automation) already
    # run in a transaction; a failure rolls back the whole intake either way.
    with transaction.atomic(savepoint=False), configcache.operation():  # one freshness check for the intake
        return _ticket_create(intake=intake, acting_user=acting_user)


def _ticket_create(*, intake: TicketIntake, acting_user: User | None) -> Ticket:
    derived = routing.priority_for(impact=intake.impact, urgency=intake.urgency)
    # The site itself, not just its id: the created ticket is answered without reading it back.
    site = intake.site or site_get(intake.requester.site_id)
    decision = routing.route(
        category=intake.category,
        title=intake.title,
        description=intake.description,
        requester=intake.requester,
        site=intake.site,
        priority=derived,
        # Mail logged by nobody: the From header alone grants no VIP routing.
        requester_verified=not (intake.channel == Channel.EMAIL and acting_user is None),
    )
    ticket = Ticket(
        title=intake.title.strip(),
        description=intake.description,
        category=intake.category,
        impact=intake.impact,
        urgency=intake.urgency,
        priority=decision.priority,
        requester=intake.requester,
        created_by=acting_user,
        site=site,
        channel=intake.channel,
        queue=decision.queue,
        tier1_queue=decision.queue,
        tier=Tier.ONE,
        is_restricted=decision.security,
        routing_rule=decision.rule,
        routing_reason=decision.reason[:300],
    )
    created = events.ticket_created(ticket=ticket, actor=acting_user, save=False)
    routed = events.ticket_routed(
        ticket=ticket, rule_name=decision.rule.name if decision.rule else None, reason=decision.reason, save=False
    )
    # The clocks start before the insert, so the row is written once, due times included.
    clock = sla.start_new_ticket(ticket=ticket, event=created)
    ticket.save(force_insert=True)
    TicketEvent.objects.bulk_create([created, routed])  # one statement, in timeline order
    if _logged_by_agent(intake, acting_user) and (not ticket.is_restricted or roles.can_see_restricted(acting_user)):
        # The agent who took the call owns it until they hand it on.
        ticket.assignee = acting_user
        save_ticket(ticket, ["assignee"])
        events.assigned(ticket=ticket, actor=acting_user, old=None, new=acting_user)
    sla.save_new_ticket(clock)
    return ticket


def _logged_by_agent(intake: TicketIntake, acting_user: User | None) -> bool:
    """A call or walk-up an agent logged for someone else (not the portal, mail or API)."""
    return (
        acting_user is not None
        and intake.channel in (Channel.PHONE, Channel.WALK_UP)
        and acting_user.pk != intake.requester.pk
        and roles.is_agent(acting_user)
    )


def _validate_intake(intake: TicketIntake) -> None:
    errors = _field_problems({name: getattr(intake, name) for name in INTAKE_FIELDS})
    if not intake.requester.is_active:
        errors["requester"] = ["This requester's account is inactive."]
    _raise_if(errors)


@transaction.atomic
def ticket_comment_add(*, ticket_id: int, body: str, public: bool, acting_user: User) -> Comment:
    """A public reply or an internal note.

    An agent's first public reply answers the first-response target. A requester's
    reply on a ticket waiting on them resumes it (and its SLA clock).
    """
    if not body.strip():
        raise InvalidInput({"body": ["Write something before sending."]})
    ticket = lock_ticket(ticket_id)
    check_transition(ticket, "comment")
    is_agent = roles.is_agent(acting_user)
    if not is_agent:
        if ticket.requester_id != acting_user.pk and not ticket.watchers.filter(pk=acting_user.pk).exists():
            raise NotAllowed("Only the requester, people copied in and agents can comment on this ticket.")
        public = True  # requesters cannot write internal notes
    now = timezone.now()
    comment = Comment.objects.create(ticket=ticket, author=acting_user, body=body, is_public=public, created_at=now)
    event = events.comment_added(
        ticket=ticket,
        actor=acting_user,
        comment_id=comment.pk,
        is_public=public,
        by="agent" if is_agent else "requester",
        at=now,
    )
    fields: list[str] = []
    if public and is_agent and ticket.first_responded_at is None and acting_user.pk != ticket.requester_id:
        ticket.first_responded_at = now
        fields.append("first_responded_at")
    if public and is_agent and ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.OPEN
        fields.append("status")
    if fields:
        save_ticket(ticket, fields)
    sla.apply(ticket=ticket, event=event)  # first and next response
    if public and is_agent:
        notifications.notify(
            event=event,
            kind=NotificationKind.PUBLIC_REPLY,
            recipients=_with_watchers(ticket, [ticket.requester], acting_user),
        )
    if not is_agent:
        recipients = [ticket.assignee] if ticket.assignee else list(ticket.queue.members.all())
        notifications.notify(
            event=event,
            kind=NotificationKind.REQUESTER_REPLIED,
            recipients=_with_watchers(ticket, recipients, acting_user),
        )
        if ticket.status == TicketStatus.PENDING:
            _resume(ticket, acting_user=acting_user, reason="The requester replied.")
    return comment


UNVERIFIED_SENDER = "Unverified sender"


@transaction.atomic
def ticket_unverified_mail_add(*, ticket_id: int, body: str, claimed_sender: str) -> Comment:
    """Mail whose From header we cannot trust for this ticket (an agent's address without the
    ticket's reply token, or someone who is not the requester): kept as an internal note by
    nobody, flagged, never posted as the person it claims to be and never sent to the requester."""
    ticket = lock_ticket(ticket_id)
    check_transition(ticket, "comment")
    flagged = f"{UNVERIFIED_SENDER}: mail claiming to be from {claimed_sender}. Check before acting on it.\n\n{body}"
    comment = Comment.objects.create(ticket=ticket, author=None, body=flagged, is_public=False)
    events.unverified_mail_noted(ticket=ticket, comment_id=comment.pk, claimed_sender=claimed_sender)
    return comment


def _with_watchers(ticket: Ticket, recipients: list, acting_user: User | None) -> list:
    """The usual recipients plus the ticket's watchers (CC), never the person who acted."""
    people = [*recipients, *ticket.watchers.filter(is_active=True)]
    return [person for person in people if person is not None and person != acting_user]


@transaction.atomic
def ticket_set_pending(*, ticket_id: int, reason: str, acting_user: User) -> Ticket:
    """Wait on the requester: the resolution clock pauses until they reply."""
    if not reason.strip():
        raise InvalidInput({"reason": ["Say what you are waiting for from the requester."]})
    ticket = lock_ticket(ticket_id)
    old = ticket.status
    ticket.status = check_transition(ticket, "pending")
    save_ticket(ticket, ["status"])
    event = events.status_changed(
        ticket=ticket, kind=EventKind.PENDING, actor=acting_user, old=old, new=ticket.status, reason=reason
    )
    sla.apply(ticket=ticket, event=event)
    return ticket


@transaction.atomic
def ticket_resume(*, ticket_id: int, reason: str, acting_user: User) -> Ticket:
    ticket = lock_ticket(ticket_id)
    return _resume(ticket, acting_user=acting_user, reason=reason or "Resumed by an agent.")


def _resume(ticket: Ticket, *, acting_user: User, reason: str) -> Ticket:
    old = ticket.status
    ticket.status = check_transition(ticket, "resume")
    save_ticket(ticket, ["status"])
    event = events.status_changed(
        ticket=ticket, kind=EventKind.RESUMED, actor=acting_user, old=old, new=ticket.status, reason=reason
    )
    sla.apply(ticket=ticket, event=event)
    return ticket


@transaction.atomic
def ticket_assign(*, ticket_id: int, assignee: User | None, acting_user: User) -> Ticket:
    ticket = lock_ticket(ticket_id)
    check_transition(ticket, "assign")
    _raise_if(_assignee_problems(ticket, assignee))
    _apply_assignee(ticket, assignee, acting_user=acting_user)
    return ticket


def _assignee_problems(ticket: Ticket, assignee: User | None) -> dict[str, list[str]]:
    if assignee is None:
        return {}
    if not roles.is_agent(assignee):
        return {"assignee": [f"{assignee} is not a support agent."]}
    if not assignee.is_active:
        return {"assignee": [f"{assignee}'s account is inactive."]}
    if ticket.is_restricted and not roles.can_see_restricted(assignee):
        return {"assignee": [f"{assignee} is not cleared for security-restricted tickets."]}
    return {}


def _apply_assignee(ticket: Ticket, assignee: User | None, *, acting_user: User) -> None:
    old = ticket.assignee
    if old == assignee:
        return
    ticket.assignee = assignee
    fields = ["assignee"]
    if ticket.status == TicketStatus.NEW and assignee is not None:
        ticket.status = TicketStatus.OPEN
        fields.append("status")
    save_ticket(ticket, fields)
    event = events.assigned(ticket=ticket, actor=acting_user, old=old, new=assignee)
    if assignee is not None and assignee != acting_user:
        notifications.notify(event=event, kind=NotificationKind.ASSIGNED, recipients=[assignee])


def _raise_if(problems: dict[str, list[str]]) -> None:
    if problems:
        raise InvalidInput(problems)


@transaction.atomic
def ticket_resolve(
    *, ticket_id: int, resolution: str, acting_user: User, expected_version: int | None = None
) -> Ticket:
    if not resolution.strip():
        raise InvalidInput({"resolution": ["Say how it was resolved; the requester sees it."]})
    ticket = lock_ticket(ticket_id)
    _check_version(ticket, expected_version)
    old = ticket.status
    ticket.status = check_transition(ticket, "resolve")
    now = timezone.now()
    ticket.resolved_at = now
    if ticket.assignee_id is None:
        ticket.assignee = acting_user
    save_ticket(ticket, ["status", "resolved_at", "assignee"])
    Comment.objects.create(ticket=ticket, author=acting_user, body=resolution, is_public=True, created_at=now)
    event = events.status_changed(
        ticket=ticket, kind=EventKind.RESOLVED, actor=acting_user, old=old, new=ticket.status, reason=resolution
    )
    sla.apply(ticket=ticket, event=event)
    notifications.notify(
        event=event, kind=NotificationKind.RESOLVED, recipients=_with_watchers(ticket, [ticket.requester], acting_user)
    )
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket_id: int, reason: str, acting_user: User) -> Ticket:
    """Reopen: back to work in the tier that resolved it; SLA starts a new cycle."""
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why the ticket is being reopened."]})
    ticket = lock_ticket(ticket_id)
    if not roles.is_agent(acting_user) and ticket.requester_id != acting_user.pk:
        raise NotAllowed("Only the requester or an agent can reopen this ticket.")
    old = ticket.status
    ticket.status = check_transition(ticket, "reopen")
    ticket.resolved_at = None
    ticket.reopen_count += 1
    save_ticket(ticket, ["status", "resolved_at", "reopen_count"])
    event = events.status_changed(
        ticket=ticket, kind=EventKind.REOPENED, actor=acting_user, old=old, new=ticket.status, reason=reason
    )
    sla.apply(ticket=ticket, event=event)
    if ticket.assignee_id:
        notifications.notify(
            event=event,
            kind=NotificationKind.REOPENED,
            recipients=_with_watchers(ticket, [ticket.assignee], acting_user),
        )
    return ticket


@transaction.atomic
def ticket_close(*, ticket_id: int, acting_user: User | None) -> Ticket:
    ticket = lock_ticket(ticket_id)
    old = ticket.status
    ticket.status = check_transition(ticket, "close")
    save_ticket(ticket, ["status"])
    event = events.status_changed(ticket=ticket, kind=EventKind.CLOSED, actor=acting_user, old=old, new=ticket.status)
    sla.apply(ticket=ticket, event=event)  # nothing should still run; if anything does, it stops here
    return ticket


INTAKE_FIELDS = ("title", "description", "category", "impact", "urgency", "site")
UPDATABLE_FIELDS = (*INTAKE_FIELDS, "assignee", "priority")


@transaction.atomic
def ticket_update(
    *,
    ticket_id: int,
    changes: dict,
    acting_user: User,
    priority_reason: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """Edit a ticket in one go: intake fields, the assignee, a priority override (with its reason).

    1. Lock; check the version the caller read and that the ticket may change now.
    2. Check every field (and the right to override a priority) before touching any:
       one refusal names every problem and changes nothing.
    3. Apply: the intake fields (impact/urgency re-derive the priority unless it was
       overridden, a new category routes again, the SLA follows), then the assignee,
       then the override, each with its timeline event.
    """
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise InvalidInput({name: ["This field cannot be changed here."] for name in sorted(unknown)})
    ticket = lock_ticket(ticket_id)
    _check_version(ticket, expected_version)
    check_transition(ticket, "update")
    if "assignee" in changes:
        check_transition(ticket, "assign")
    if "priority" in changes:
        _check_may_override(acting_user)
    diff = {
        name: (getattr(ticket, name), value)
        for name, value in changes.items()
        if name in INTAKE_FIELDS and getattr(ticket, name) != value
    }
    problems = _field_problems({name: new for name, (_, new) in diff.items()})
    leaving = "category" in diff and ticket.category.is_security and not changes["category"].is_security
    if leaving and not roles.is_security_team(acting_user):
        problems.setdefault("category", []).append(
            "Only the Security team can take a ticket out of a security category: it lifts the restriction."
        )
    if "assignee" in changes:
        problems |= _assignee_problems(ticket, changes["assignee"])
    if "priority" in changes:
        problems |= _priority_problems(changes["priority"], priority_reason, reason_field="priority_reason")
    _raise_if(problems)

    if diff:
        _apply_intake_fields(ticket, diff, acting_user=acting_user)
        if leaving:
            _leave_security(ticket, acting_user=acting_user)
    if "assignee" in changes:
        _apply_assignee(ticket, changes["assignee"], acting_user=acting_user)
    if "priority" in changes:
        _apply_priority(ticket, changes["priority"], reason=priority_reason, acting_user=acting_user)
    return ticket


def _field_problems(new: dict) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if "title" in new and len((new["title"] or "").strip()) < 5:
        problems["title"] = ["Give the ticket a title of at least 5 characters."]
    if "description" in new and len((new["description"] or "").strip()) < 10:
        problems["description"] = ["Describe the problem in at least 10 characters."]
    if "impact" in new and new["impact"] not in Impact.values:
        problems["impact"] = [f"Choose one of: {', '.join(Impact.values)}."]
    if "urgency" in new and new["urgency"] not in Urgency.values:
        problems["urgency"] = [f"Choose one of: {', '.join(Urgency.values)}."]
    if "category" in new and not new["category"].is_active:
        problems["category"] = ["This category is no longer in use."]
    return problems


def _apply_intake_fields(ticket: Ticket, diff: dict[str, tuple], *, acting_user: User) -> None:
    for name, (_, new) in diff.items():
        setattr(ticket, name, new)
    changed = {name: (_plain(old), _plain(new)) for name, (old, new) in diff.items()}
    fields = list(diff)
    old_priority = ticket.priority
    if {"impact", "urgency"} & set(diff) and not ticket.priority_override_reason:
        ticket.priority = routing.priority_for(impact=ticket.impact, urgency=ticket.urgency)
        if ticket.is_restricted:  # a security ticket never drops below the security floor
            ticket.priority = most_severe(ticket.priority, routing.SECURITY_MIN_PRIORITY)
        if ticket.priority != old_priority:
            changed["priority"] = (old_priority, ticket.priority)
            fields.append("priority")
    if "category" in diff:
        fields += _reroute_for_category(ticket)
    save_ticket(ticket, fields)
    event = events.fields_changed(ticket=ticket, actor=acting_user, changes=changed)
    if "category" in diff and ticket.tier == Tier.ONE:
        events.ticket_routed(
            ticket=ticket,
            rule_name=ticket.routing_rule.name if ticket.routing_rule_id else None,
            reason=ticket.routing_reason,
        )
    sla.apply(ticket=ticket, event=event)  # priority, category or site: the policy may change


def _reroute_for_category(ticket: Ticket) -> list[str]:
    """A new category routes the ticket again, as intake would have: the changed fields.

    Only in Tier 1 (a Tier 2 team keeps what it accepted). Into security, the
    fast-track restricts and hands it over (ticket_update calls it, audited); out
    of it, only the Security team decides (_leave_security).
    """
    fields = []
    if ticket.tier != Tier.ONE:
        return fields
    decision = routing.route(
        category=ticket.category,
        title=ticket.title,
        description=ticket.description,
        requester=ticket.requester,
        site=ticket.site,
        priority=ticket.priority,
    )
    ticket.routing_rule = decision.rule
    ticket.routing_reason = f"Category changed to {ticket.category}. {decision.reason}"[:300]
    fields += ["routing_rule", "routing_reason"]
    if decision.queue.pk != ticket.queue_id:
        ticket.queue = decision.queue
        ticket.tier1_queue = decision.queue
        fields += ["queue", "tier1_queue"]
        if ticket.assignee_id and not decision.queue.members.filter(pk=ticket.assignee_id).exists():
            ticket.assignee = None
            fields.append("assignee")
    return fields


def _leave_security(ticket: Ticket, *, acting_user: User) -> None:
    """Out of a security category, by the Security team's decision: the restriction is lifted
    (_reroute_for_category already routed a Tier 1 ticket as its new category would be). While it
    sits in a security team's queue it stays restricted; they move it on and lift it explicitly."""
    if ticket.queue.is_security or not ticket.is_restricted:
        return
    ticket.is_restricted = False
    save_ticket(ticket, ["is_restricted"])
    reason = f"Recategorised to {ticket.category}: not a security matter."
    event = events.restriction_changed(ticket=ticket, actor=acting_user, restricted=False, reason=reason)
    sla.apply(ticket=ticket, event=event)


@transaction.atomic
def ticket_lift_restriction(*, ticket_id: int, reason: str, acting_user: User) -> Ticket:
    """The Security team decides a ticket is not (or no longer) sensitive: everyone on the desk may see it.

    Audited with the reason. Refused while its category or queue is a security one: those
    restrict by definition, so move it out of them first.
    """
    if not roles.is_security_team(acting_user):
        raise NotAllowed("Only the Security team can lift a restriction.")
    if not reason.strip():
        raise InvalidInput({"reason": ["Say why the ticket no longer needs to be restricted; it is audited."]})
    ticket = lock_ticket(ticket_id)
    if not ticket.is_restricted:
        raise InvalidInput({"reason": [f"{ticket.reference} is not restricted."]})
    if ticket.category.is_security:
        raise InvalidInput(
            {"reason": [f"{ticket.reference} is in the {ticket.category} category; recategorise it first."]}
        )
    if ticket.queue.is_security:
        raise InvalidInput({"reason": [f"{ticket.reference} is in the {ticket.queue} queue; move it to a team first."]})
    ticket.is_restricted = False
    save_ticket(ticket, ["is_restricted"])
    event = events.restriction_changed(ticket=ticket, actor=acting_user, restricted=False, reason=reason.strip())
    sla.apply(ticket=ticket, event=event)  # the security SLA policy may no longer apply
    return ticket


def _plain(value):
    if hasattr(value, "slug"):
        return value.slug
    if hasattr(value, "pk"):
        return str(value)
    return value


@transaction.atomic
def ticket_change_priority(*, ticket_id: int, priority: str, reason: str, acting_user: User | None) -> Ticket:
    """Override the derived priority, with a reason (audited). Also used by rules and the SLA ladder."""
    _raise_if(_priority_problems(priority, reason))
    _check_may_override(acting_user)
    ticket = lock_ticket(ticket_id)
    check_transition(ticket, "update")
    _apply_priority(ticket, priority, reason=reason, acting_user=acting_user)
    return ticket


@transaction.atomic
def tickets_raise_priority(
    *, ticket_ids, reason: str, acting_user: User | None = None, priority: str | None = None
) -> list[Ticket]:
    """ticket_change_priority to one step more severe (or to `priority`, where that is more severe:
    a trigger rule's "raise to"), for many tickets at once (the SLA ladder's raise for a sweep
    batch, the sweep-moment rules). The same checks and effects per ticket — the override reason, the
    timeline entry, the SLA engine's recompute — with the rows locked, saved, their events written
    and the clocks recomputed in a few statements for all of them (engine.apply_many). A ticket
    already that severe, or one that may not be edited now, is left as it is. Returns the tickets raised."""
    _raise_if(_priority_problems(priority or Priority.P1, reason))
    _check_may_override(acting_user)
    raised: list[tuple[Ticket, str]] = []
    for ticket in lock_tickets(ticket_ids):
        if priority is None:
            new = one_step_up(ticket.priority)
        else:
            new = priority if is_more_severe(priority, ticket.priority) else ticket.priority
        if new == ticket.priority or check_refusal(ticket, "update"):
            continue
        raised.append((ticket, ticket.priority))
        ticket.priority = new
        ticket.priority_override_reason = reason[:300]
    tickets = [ticket for ticket, _ in raised]
    save_tickets(tickets, ["priority", "priority_override_reason"])
    timeline = [
        events.priority_changed(
            ticket=ticket, actor=acting_user, old=old, new=ticket.priority, reason=reason, save=False
        )
        for ticket, old in raised
    ]
    events.insert_many(timeline)
    sla.apply_many(list(zip(tickets, timeline, strict=True)))
    return tickets


def _check_may_override(acting_user: User | None) -> None:
    # acting_user None: a trigger rule or the SLA ladder, which admins configured.
    if acting_user is not None and not roles.can_override_priority(acting_user):
        raise NotAllowed("Only team leads and managers may override a priority.")


def _priority_problems(priority: str, reason: str, *, reason_field: str = "reason") -> dict[str, list[str]]:
    problems = {}
    if priority not in Priority.values:
        problems["priority"] = [f"Choose one of: {', '.join(Priority.values)}."]
    if not (reason or "").strip():
        problems[reason_field] = ["An override needs a reason; it is audited."]
    return problems


def _apply_priority(ticket: Ticket, priority: str, *, reason: str, acting_user: User | None) -> None:
    old = ticket.priority
    if old == priority:
        return
    ticket.priority = priority
    ticket.priority_override_reason = reason[:300]
    save_ticket(ticket, ["priority", "priority_override_reason"])
    event = events.priority_changed(ticket=ticket, actor=acting_user, old=old, new=priority, reason=reason)
    sla.apply(ticket=ticket, event=event)


@transaction.atomic
def attachment_add(
    *, ticket_id: int, upload: UploadedFile, acting_user: User, public: bool = True, comment: Comment | None = None
) -> Attachment:
    errors = []
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        errors.append(f"{upload.name} is larger than {settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB.")
    content_type = (upload.content_type or "application/octet-stream").split(";")[0].strip().lower()
    if content_type not in settings.ATTACHMENT_ALLOWED_TYPES:
        errors.append(f"{upload.name}: files of type {content_type} are not accepted.")
    elif problem := sniffing.content_problem(head=_head(upload), declared=content_type):
        # The label is the uploader's claim; the bytes are what a browser would act on.
        errors.append(f"{upload.name} was sent as {content_type} but {problem}; it was not accepted.")
    if errors:
        raise InvalidInput({"attachments": errors})
    ticket = lock_ticket(ticket_id)
    check_transition(ticket, "comment")
    attachment = Attachment(
        ticket=ticket,
        comment=comment,
        filename=upload.name[:255],
        content_type=content_type,
        size=upload.size,
        is_public=public,
        uploaded_by=acting_user,
    )
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    events.attachment_added(
        ticket=ticket,
        actor=acting_user,
        attachment_id=attachment.pk,
        filename=attachment.filename,
        is_public=attachment.is_public,
    )
    return attachment


def _head(upload: UploadedFile) -> bytes:
    upload.seek(0)
    head = upload.read(sniffing.SNIFF_BYTES)
    upload.seek(0)
    return head
