"""Automation: an action composed with the trigger rules, in one transaction.

Actions (tickets.services, escalation.services, knowledgebase.services) change one
thing and never call rules. Where a change should let the trigger rules react,
entry points (views, API views, inbound mail, tasks, seeding) call the function
here instead of the bare action: it runs the action, then evaluates the rules for
the moment (intake, update), under the same transaction and row lock, and returns
the ticket as the rules left it. See docs/ARCHITECTURE.md.
"""

from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from knowledgebase import services as kb_services
from tickets import configcache
from tickets import services as ticket_services
from tickets.models import Ticket, User

from . import services as escalation_services
from .rules import Moment, evaluate_trigger_rules


@transaction.atomic
def ticket_create(*, intake: ticket_services.TicketIntake, acting_user: User | None) -> Ticket:
    """Log a ticket (derive priority, route, start clocks), then let the intake rules act on it."""
    with configcache.operation():  # one configuration check for the intake and its rules
        ticket = ticket_services.ticket_create(intake=intake, acting_user=acting_user)
        if ticket.is_restricted:  # routed as a security matter
            # Before any trigger rule: a security ticket goes to Security, not along another path.
            cause = f"category {ticket.category}" if ticket.category.is_security else f"routed to {ticket.queue}"
            ticket = escalation_services.ticket_security_fast_track(ticket_id=ticket.pk, reason=f"Security: {cause}.")
        # The fresh, locked ticket lets the rules skip their reads when none can fire.
        if evaluate_trigger_rules(ticket_id=ticket.pk, moment=Moment.INTAKE, ticket=ticket):
            ticket.refresh_from_db()  # a rule changed it
    return ticket


@transaction.atomic
def ticket_intake(
    *, intake: ticket_services.TicketIntake, acting_user: User, uploads: Iterable[UploadedFile] = ()
) -> Ticket:
    """The intake pages (log a call, the portal): create the ticket (and its rules), attach the
    files, and claim the suggestions shown while typing; all or nothing (a refused file refuses it)."""
    ticket = ticket_create(intake=intake, acting_user=acting_user)
    for upload in uploads:
        ticket_services.attachment_add(ticket_id=ticket.pk, upload=upload, acting_user=acting_user, public=True)
    # Deflection is measured per ticket: the suggestions shown while typing did not deflect this one.
    kb_services.suggestions_attach_to_ticket(ticket=ticket, shown_to=acting_user)
    return ticket


@transaction.atomic
def ticket_update(
    *,
    ticket_id: int,
    changes: dict,
    acting_user: User,
    priority_reason: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """Edit the ticket (every field checked before any is applied), the security fast-track when
    its new category is a security one, then the update rules."""
    recategorised = (
        "category" in changes
        and changes["category"] is not None
        and (Ticket.objects.filter(pk=ticket_id).exclude(category_id=changes["category"].pk).exists())
    )
    ticket = ticket_services.ticket_update(
        ticket_id=ticket_id,
        changes=changes,
        acting_user=acting_user,
        priority_reason=priority_reason,
        expected_version=expected_version,
    )
    if recategorised and (ticket.category.is_security or ticket.queue.is_security):
        escalation_services.ticket_security_fast_track(
            ticket_id=ticket.pk, reason=f"Security: category changed to {ticket.category}.", acting_user=acting_user
        )
    return _after(ticket, Moment.UPDATE)


@transaction.atomic
def ticket_reopen(*, ticket_id: int, reason: str, acting_user: User) -> Ticket:
    """Reopen (a new SLA cycle, so rules may fire again), then the update rules."""
    ticket = ticket_services.ticket_reopen(ticket_id=ticket_id, reason=reason, acting_user=acting_user)
    return _after(ticket, Moment.UPDATE)


def _after(ticket: Ticket, moment: Moment) -> Ticket:
    evaluate_trigger_rules(ticket_id=ticket.pk, moment=moment)
    ticket.refresh_from_db()  # a rule may have raised the priority or escalated it
    return ticket
