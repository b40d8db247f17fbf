"""Escalation pages: validate input, fetch through the scoped selector, call one service, render.

Domain errors become form errors (bad input) or a message on the ticket page
(someone else acted first, not allowed); never a 500.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from knowledgebase import selectors as kb_selectors
from tickets import roles
from tickets.errors import ConcurrentUpdate, InvalidInput, InvalidTransition, NotAllowed
from tickets.selectors import ticket_get_for

from . import selectors, services
from .forms import HandoffForm, RateForm, ReturnForm


def ticket_url(ticket_id: int) -> str:
    # The ticket page belongs to the workspace work; until it exists, go home. The API
    # router also names a route "ticket-detail": never send a browser to the JSON.
    try:
        url = reverse("ticket-detail", args=[ticket_id])
    except NoReverseMatch:
        return reverse("home")
    return reverse("home") if url.startswith("/api/") else url


def _agent_ticket(request, ticket_id: int):
    if not roles.is_agent(request.user):
        raise Http404("No such ticket.")
    return ticket_get_for(request.user, ticket_id)


def _after(request, ticket_id: int) -> HttpResponseRedirect:
    """Where to go after an action: the ticket, or its receipt if the actor can no longer see it."""
    if selectors.ticket_list_for(request.user).filter(pk=ticket_id).exists():
        return HttpResponseRedirect(ticket_url(ticket_id))
    return HttpResponseRedirect(reverse("ticket-receipt", args=[ticket_id]))


@login_required
def escalate(request, ticket_id: int):
    ticket = _agent_ticket(request, ticket_id)
    if request.method == "POST":
        form = HandoffForm(request.POST, ticket=ticket)
        if form.is_valid():
            try:
                escalation = services.ticket_escalate(
                    ticket_id=ticket.pk,
                    trigger=form.cleaned_data["trigger"],
                    handoff=form.handoff(),
                    acting_user=request.user,
                )
            except InvalidInput as exc:
                form.add_service_errors(exc.errors)
            except (InvalidTransition, ConcurrentUpdate, NotAllowed) as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(ticket_url(ticket.pk))
            else:
                messages.success(request, f"{ticket.reference} escalated to {escalation.to_queue}.")
                return _after(request, ticket.pk)
        status = 400
    else:
        form = HandoffForm(ticket=ticket, initial={"steps_tried": kb_selectors.steps_tried_text(ticket=ticket)})
        status = 200
    return render(request, "escalation/escalate.html", {"ticket": ticket, "form": form}, status=status)


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
    return HttpResponseRedirect(ticket_url(ticket.pk))


@login_required
def return_(request, ticket_id: int):
    ticket = _agent_ticket(request, ticket_id)
    form = ReturnForm(request.POST if request.method == "POST" else None)
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
                    acting_user=request.user,
                )
            except InvalidInput as exc:
                form.add_service_errors(exc.errors)
            except (InvalidTransition, ConcurrentUpdate, NotAllowed) as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(ticket_url(ticket.pk))
            else:
                messages.success(request, f"{ticket.reference} returned to Tier 1.")
                return _after(request, ticket.pk)
    return render(request, "escalation/return.html", {"ticket": ticket, "form": form}, status=status)


@login_required
def rate(request, ticket_id: int):
    ticket = _agent_ticket(request, ticket_id)
    escalation = selectors.latest_escalation(ticket)
    if escalation is None:
        raise Http404("This ticket was never escalated.")
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
                for key, errs in exc.errors.items():
                    for message in errs:
                        form.add_error(key if key in form.fields else None, message)
            except (InvalidTransition, NotAllowed) as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(ticket_url(ticket.pk))
            else:
                messages.success(request, "Thanks: the rating goes to Tier 1's handoff quality figures.")
                return HttpResponseRedirect(ticket_url(ticket.pk))
    return render(
        request, "escalation/rate.html", {"ticket": ticket, "escalation": escalation, "form": form}, status=status
    )
