"""Escalation pages: validate input, fetch through the scoped selector, call one service, render.

Domain errors become form errors (bad input) or a message on the ticket page
(someone else acted first, not allowed); never a 500.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from knowledgebase import selectors as kb_selectors
from tickets import roles
from tickets.errors import ConcurrentUpdate, InvalidInput, InvalidTransition, NotAllowed
from tickets.forms import add_domain_error
from tickets.selectors import ticket_get_for, ticket_list_for

from . import paths, selectors, services, substance
from .forms import CompleteHandoffForm, HandoffForm, RateForm, ReturnForm
from .handoff import checklist_items_for, handoff_quality, urgency_note


def _agent_ticket(request, ticket_id: int):
    if not roles.is_agent(request.user):
        raise Http404("No such ticket.")
    return ticket_get_for(request.user, ticket_id)


def _after(request, ticket_id: int) -> HttpResponseRedirect:
    """Where to go after an action: the ticket, or its receipt if the actor can no longer see it."""
    if ticket_list_for(request.user).filter(pk=ticket_id).exists():
        return redirect("ticket-detail", pk=ticket_id)
    return redirect("ticket-receipt", pk=ticket_id)


def _current_escalation(ticket):
    return selectors.current_escalation(ticket)


def _escalate_context(request, ticket, form) -> dict:
    return {
        "ticket": ticket,
        "form": form,
        "routes": paths.route_preview(ticket=ticket, at=timezone.now()),
        "weak_examples": substance.WEAK_EXAMPLES,
        "examples": {name: substance.example_for(name, ticket.category.slug) for name in substance.TEXT_FIELDS},
        "no_error_example": substance.NO_ERROR_EXAMPLE,
        "urgency_note": urgency_note(ticket=ticket, urgency=form["urgency"].value() or ""),
    }


@login_required
def escalate(request, ticket_id: int):
    ticket = _agent_ticket(request, ticket_id)
    current = _current_escalation(ticket)
    if request.method != "POST" and current and services.may_complete_handoff(request.user, current):
        # Already with Tier 2 (an automatic escalation, say): what is left to do is complete its handoff.
        return HttpResponseRedirect(reverse("ticket-handoff", args=[ticket.pk]))
    if request.method == "POST":
        form = HandoffForm(request.POST, ticket=ticket)
        status = 400
        if form.is_valid():
            try:
                if current and services.may_complete_handoff(request.user, current):
                    # Escalated meanwhile (the time trigger, say): what was typed completes that handoff.
                    escalation = services.escalation_complete_handoff(
                        ticket_id=ticket.pk, handoff=form.handoff(), acting_user=request.user
                    )
                else:
                    escalation = services.ticket_escalate(
                        ticket_id=ticket.pk,
                        trigger=form.cleaned_data["trigger"],
                        handoff=form.handoff(),
                        acting_user=request.user,
                    )
            except InvalidInput as exc:
                add_domain_error(form, exc)
            except (InvalidTransition, ConcurrentUpdate, NotAllowed) as exc:
                # Keep what was typed: say why on the form rather than dropping the input on a redirect.
                form.add_error(None, exc.message)
                status = 403 if isinstance(exc, NotAllowed) else 409
            else:
                messages.success(request, f"{ticket.reference} escalated to {escalation.to_queue}.")
                return _after(request, ticket.pk)
    else:
        form = HandoffForm(
            ticket=ticket,
            initial={
                "steps_tried": kb_selectors.steps_tried_text(ticket=ticket),
                "affected_scope": ticket.impact,
                "affected_count": 1 if ticket.impact == "individual" else None,
                "urgency": ticket.urgency,
            },
        )
        status = 200
    context = _escalate_context(request, ticket, form)
    return render(request, "escalation/escalate.html", context, status=status)


@login_required
def complete_handoff(request, ticket_id: int):
    """Complete the handoff: the Tier 1 owner fills what an automatic (or thin) escalation lacks."""
    ticket = _agent_ticket(request, ticket_id)
    escalation = _current_escalation(ticket)
    if escalation is None:
        messages.info(request, f"{ticket.reference} has no escalation with Tier 2 to complete.")
        return redirect("ticket-detail", pk=ticket.pk)
    if not services.may_complete_handoff(request.user, escalation):
        raise PermissionDenied("Only the Tier 1 owner or whoever escalated it can complete this handoff.")
    form = CompleteHandoffForm(request.POST if request.method == "POST" else None, ticket=ticket, escalation=escalation)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                escalation = services.escalation_complete_handoff(
                    ticket_id=ticket.pk, handoff=form.handoff(), acting_user=request.user
                )
            except InvalidInput as exc:
                add_domain_error(form, exc)
            except (InvalidTransition, ConcurrentUpdate, NotAllowed) as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                if escalation.missing_fields:
                    messages.warning(
                        request,
                        "Saved. Still missing: "
                        + ", ".join(services.field_labels(escalation.missing_fields, ticket=ticket))
                        + ".",
                    )
                    return HttpResponseRedirect(reverse("ticket-handoff", args=[ticket.pk]))
                messages.success(request, f"Handoff complete; {escalation.to_queue} has been told.")
                return redirect("ticket-detail", pk=ticket.pk)
    context = {
        **_escalate_context(request, ticket, form),
        "escalation": escalation,
        "quality": handoff_quality(escalation, ticket),
        "missing_labels": services.field_labels(escalation.missing_fields, ticket=ticket),
    }
    return render(request, "escalation/complete_handoff.html", context, status=status)


@login_required
@require_POST
def accept(request, ticket_id: int):
    ticket = _agent_ticket(request, ticket_id)
    try:
        services.escalation_accept(ticket_id=ticket.pk, acting_user=request.user)
    except (InvalidTransition, ConcurrentUpdate, NotAllowed) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"You own {ticket.reference} now.")
    return redirect("ticket-detail", pk=ticket.pk)


@login_required
def return_(request, ticket_id: int):
    ticket = _agent_ticket(request, ticket_id)
    form = ReturnForm(request.POST if request.method == "POST" else None, ticket=ticket)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.escalation_return(
                    ticket_id=ticket.pk,
                    reason=data["reason"],
                    note=data["note"],
                    missing_fields=data["missing_fields"],
                    kb_reference=data["kb_reference"],
                    team=data["team"],
                    acting_user=request.user,
                )
            except InvalidInput as exc:
                add_domain_error(form, exc)
            except (InvalidTransition, ConcurrentUpdate, NotAllowed) as exc:
                messages.error(request, exc.message)
                return redirect("ticket-detail", pk=ticket.pk)
            else:
                if data["reason"] == "wrong_team":
                    messages.success(request, f"{ticket.reference} re-routed to {data['team']}.")
                else:
                    messages.success(
                        request, f"{ticket.reference} returned to Tier 1. Rate the handoff while it is fresh."
                    )
                return _after(request, ticket.pk)
    handoff = _current_escalation(ticket)
    context = {
        "ticket": ticket,
        "form": form,
        "handoff": handoff,
        "quality": handoff_quality(handoff, ticket) if handoff else [],
        "checklist_questions": _checklist_questions(ticket),
    }
    return render(request, "escalation/return.html", context, status=status)


def _checklist_questions(ticket) -> dict[str, str]:
    return {item.key: item.question for item in checklist_items_for(ticket.category_id)}


@login_required
def rate(request, ticket_id: int):
    ticket = _agent_ticket(request, ticket_id)
    escalation = selectors.latest_decided_escalation(ticket)
    if escalation is None:
        raise Http404("No accepted or returned escalation to rate yet.")
    form = RateForm(
        request.POST if request.method == "POST" else None,
        initial={"rating": escalation.rating, "comment": escalation.rating_comment},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.escalation_rate(
                    escalation_id=escalation.pk,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                    acting_user=request.user,
                )
            except InvalidInput as exc:
                add_domain_error(form, exc)
            except (InvalidTransition, NotAllowed) as exc:
                messages.error(request, exc.message)
                return redirect("ticket-detail", pk=ticket.pk)
            else:
                messages.success(request, "Thanks: the rating goes to Tier 1's handoff quality figures.")
                return redirect("ticket-detail", pk=ticket.pk)
    context = {
        "ticket": ticket,
        "escalation": escalation,
        "handoff": escalation,
        "form": form,
        "quality": handoff_quality(escalation, ticket),
        "checklist_questions": _checklist_questions(ticket),
    }
    return render(request, "escalation/rate.html", context, status=status)
