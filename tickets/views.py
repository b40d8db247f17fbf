"""Pages: the Tier 1 desk, the Tier 2 queue, the ticket page and the requester portal.

Each view validates (a form), fetches through tickets.selectors (a ticket the
user may not see is a 404), calls one service and renders. Domain errors
become form errors or messages, never a 500.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from escalation import automation
from escalation import selectors as escalation_selectors
from escalation import services as escalation_services
from escalation.handoff import handoff_quality
from escalation.sla.display import clocks_for_page
from escalation.sla.selectors import sla_records_for_ticket
from knowledgebase import selectors as kb_selectors
from tickets.notifications import services as notification_services

from . import access, actions, configcache, roles, routing, search, selectors, services, wording
from .decorators import agent_required, tier2_required
from .errors import DomainError
from .filters import TicketFilter
from .forms import (
    AssignForm,
    CategoryForm,
    CommentForm,
    LogCallForm,
    MergeForm,
    PortalTicketForm,
    PriorityForm,
    ReasonForm,
    ResolveForm,
    TicketRefForm,
    TransferForm,
    WatcherForm,
    add_domain_error,
)
from .models import (
    OPEN_STATUSES,
    Attachment,
    Category,
    Channel,
    EventKind,
    Impact,
    Priority,
    Queue,
    TicketStatus,
    Tier,
    Urgency,
    User,
)
from .receipts import security_receipt
from .transitions import allowed_actions

PAGE_SIZE = 25


def poll_seconds() -> int:
    """How often the queues refresh themselves (browser tests shorten it)."""
    return getattr(settings, "WORKSPACE_POLL_SECONDS", 30)


# ---------------------------------------------------------------- home


@login_required
def home(request):
    user = request.user
    if not roles.is_agent(user):
        return redirect("portal")
    if roles.can_view_dashboard(user) and not user.is_superuser:
        return redirect("dashboard")  # managers start from the figures
    if roles.is_tier2(user) and user.queues.filter(tier=Tier.TWO).exists():
        return redirect("tier2-queue")
    return redirect("desk")


# ---------------------------------------------------------------- global search


@login_required
@require_GET
def search_page(request):
    """The top bar's search: an exact reference opens the ticket; otherwise ranked results."""
    query = request.GET.get("q", "").strip()
    result = search.ticket_search_for(request.user, query)
    if result.exact is not None and request.GET.get("list") != "1":
        return redirect("ticket-detail", pk=result.exact.pk)
    page = _page(request, result.tickets) if query else None
    return render(request, "tickets/search.html", {"query": query, "page": page})


# ---------------------------------------------------------------- Tier 1 desk


SLA_FILTERS = {"breached": "breached", "at_risk": "at_risk"}


def _filtered(request, queryset):
    """Apply the list filters (TicketFilter) from the query string; 'sla' picks breached/at-risk."""
    data = request.GET.copy()
    # An empty select ("Any") means no filter, not "status = ''".
    for key in [key for key, values in data.lists() if not any(v.strip() for v in values)]:
        del data[key]
    sla = data.pop("sla", [""])[-1]
    if sla in SLA_FILTERS:
        data[SLA_FILTERS[sla]] = "true"
    data.pop("page", None)
    if not data:
        return queryset  # no filter asked (the pages' first load and their polls): no FilterSet to build
    ticket_filter = TicketFilter(data, queryset=queryset, request=request)
    return ticket_filter.qs if ticket_filter.is_valid() else queryset.none()


def _page(request, queryset):
    paginator = Paginator(queryset, PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def _filter_choices():
    # Configuration: read once per process until an admin changes it (tickets.configcache).
    return {
        "queues": configcache.cached("filter_queues", lambda: list(Queue.objects.order_by("tier", "name"))),
        "categories": configcache.cached(
            "filter_categories", lambda: list(Category.objects.filter(is_active=True).order_by("name"))
        ),
        "statuses": [(v, label) for v, label in TicketStatus.choices if v in OPEN_STATUSES],
        "priorities": Priority.choices,
    }


@agent_required
def desk(request):
    """Tier 1 desk: my open tickets and the Tier 1 queue, most urgent first; polls itself."""
    visible = selectors.list_rows(selectors.ticket_list_for(request.user))
    queue_qs = visible.filter(tier=Tier.ONE, status__in=[TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING])
    page = _page(request, selectors.by_sla_urgency(_filtered(request, queue_qs)))
    page.object_list = selectors.with_configuration(page.object_list)
    context = {"page": page, "list_url": request.get_full_path(), "poll_seconds": poll_seconds()}
    if request.htmx and request.htmx.target == "queue-list":
        return render(request, "tickets/_ticket_list.html", context)
    # A returned handoff's reason shows on the row: Tier 1 sees why it came back without opening it.
    mine = selectors.with_configuration(
        escalation_selectors.with_handoffs(
            selectors.by_sla_urgency(visible.filter(assignee=request.user, status__in=OPEN_STATUSES)), list_rows=True
        )[:8]
    )
    agents = User.objects.filter(
        Q(groups__permissions__codename="work_tickets") | Q(user_permissions__codename="work_tickets"),
        is_active=True,
    ).distinct()
    context.update(_filter_choices(), mine=mine, agents=agents, filters=request.GET)
    return render(request, "tickets/desk.html", context)


@agent_required
def ticket_create(request):
    """Log a call on a requester's behalf (Tier 1)."""
    form = LogCallForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        intake = services.TicketIntake.from_data(data, requester=data["requester"], channel=data["channel"])
        try:
            ticket = automation.ticket_intake(intake=intake, acting_user=request.user)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if ticket.is_restricted:
                return redirect("ticket-receipt", pk=ticket.pk)  # the agent may not be cleared to open it
            messages.success(request, f"{ticket.reference} logged for {ticket.requester}, routed to {ticket.queue}.")
            return redirect("ticket-detail", pk=ticket.pk)
    impact = form["impact"].value() or Impact.INDIVIDUAL
    urgency = form["urgency"].value() or Urgency.SLOWED
    context = {
        "form": form,
        "preview_priority": _preview_priority(impact, urgency),
        "suggest_url": reverse("kb:suggest"),
    }
    return render(request, "tickets/ticket_create.html", context, status=400 if form.errors else 200)


def _preview_priority(impact: str, urgency: str) -> str | None:
    if impact in Impact.values and urgency in Urgency.values:
        return routing.priority_for(impact=impact, urgency=urgency)
    return None


@agent_required
@require_GET
def requester_lookup(request):
    """As-you-type requester search (name, username or e-mail) for 'log a call'."""
    query = request.GET.get("requester", request.GET.get("q", "")).strip()
    people = []
    if len(query) >= 2:
        words = query.split()
        condition = Q()
        for word in words:
            condition &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(username__icontains=word)
                | Q(email__icontains=word)
            )
        people = User.objects.filter(condition, is_active=True).select_related("site").order_by("first_name")[:8]
    return render(request, "tickets/_requester_matches.html", {"people": people, "query": query})


@agent_required
@require_GET
def priority_preview(request):
    """The priority impact × urgency would give, shown live while logging a call."""
    priority = _preview_priority(request.GET.get("impact", ""), request.GET.get("urgency", ""))
    return render(request, "tickets/_priority_preview.html", {"preview_priority": priority})


# ---------------------------------------------------------------- ticket page


def _timeline(request, ticket):
    """Events and comments interleaved, oldest first, as the viewer may see them."""
    comments = list(selectors.comment_list_for(request.user, ticket))
    # Delivery records are not events of their own: each event says how many people it reached.
    hidden = (EventKind.COMMENTED, EventKind.NOTE_ADDED, EventKind.ATTACHMENT_ADDED, EventKind.NOTIFIED)
    events = [e for e in selectors.timeline_for(request.user, ticket) if e.kind not in hidden]
    reached = selectors.people_notified_per_event(ticket) if roles.is_agent(request.user) else {}
    names = wording.Names()
    for e in events:
        e.plain = wording.event_plain_text(e, names)
        if e.kind == EventKind.ESCALATED and not roles.is_agent(request.user):
            e.plain = "Passed to our specialist team, who take it from here."
        e.notified = reached.get(e.pk, 0)
    entries = [{"type": "event", "at": e.created_at, "item": e} for e in events]
    entries += [{"type": "comment", "at": c.created_at, "item": c} for c in comments]
    entries.sort(key=lambda entry: (entry["at"], entry["type"] == "comment"))
    return entries


def _escalation_context(request, ticket) -> dict:
    """The escalation app's actions and the latest handoff (Tier 2 reads it first)."""
    handoff = escalation_selectors.escalations_for_ticket(request.user, ticket).first()
    context = {
        "escalate_url": reverse("ticket-escalate", args=[ticket.pk]),
        "accept_url": reverse("ticket-accept", args=[ticket.pk]),
        "return_url": reverse("ticket-return", args=[ticket.pk]),
        "rate_url": None,
        "handoff": handoff,
    }
    if handoff is None:
        return context
    context["quality"] = handoff_quality(handoff, ticket)
    # Accept and return belong to the receiving team; everyone else is told who can act.
    awaiting = ticket.status == TicketStatus.ESCALATED
    context["can_act"] = awaiting and escalation_selectors.may_act_for_team(request.user, ticket.queue)
    context["who_can_act"] = escalation_selectors.who_can_act(ticket.queue) if awaiting else []
    current = escalation_selectors.current_escalation(ticket)
    context["complete_url"] = (
        reverse("ticket-handoff", args=[ticket.pk])
        if current and escalation_services.may_complete_handoff(request.user, current)
        else None
    )
    decided = escalation_selectors.latest_decided_escalation(ticket)
    if decided and escalation_selectors.may_act_for_team(request.user, decided.to_queue):
        context["rate_url"] = reverse("ticket-rate", args=[ticket.pk])
        context["rate_escalation"] = decided
    if ticket.tier == Tier.ONE and handoff.outcome == "returned" and ticket.is_open:
        context["returned"] = handoff  # Tier 1 reads why it came back before anything else
    return context


def _detail_context(request, ticket, **forms) -> dict:
    user = request.user
    is_agent = roles.is_agent(user)
    context = {
        "ticket": ticket,
        "is_agent": is_agent,
        "timeline": _timeline(request, ticket),
        "attachments": list(selectors.attachment_list_for(user, ticket)),
        "actions": allowed_actions(ticket),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "pending_form": forms.get("pending_form") or ReasonForm(prefix="pending"),
        "resolve_form": forms.get("resolve_form") or ResolveForm(),
        "reopen_form": forms.get("reopen_form") or ReasonForm(prefix="reopen"),
        "priority_form": forms.get("priority_form") or PriorityForm(initial={"priority": ticket.priority}),
        "open_panel": forms.get("open_panel", ""),
        # Tier 1 works the category's playbook here; its ticked steps become "what was tried" on escalation.
        "has_playbook": is_agent and ticket.tier == Tier.ONE,
        "can_make_article": is_agent and ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED),
        "can_change_priority": is_agent and roles.can_override_priority(user),
        "can_lift_restriction": ticket.is_restricted and roles.is_security_team(user),
        "unrestrict_form": forms.get("unrestrict_form") or ReasonForm(prefix="unrestrict"),
        "is_tier2": roles.is_tier2(user),
    }
    context["watchers"] = selectors.watchers_of(ticket)
    context["linked"] = list(selectors.links_of(user, ticket))
    if ticket.merged_into_id and selectors.ticket_list_for(user).filter(pk=ticket.merged_into_id).exists():
        context["merged_into"] = ticket.merged_into
    if is_agent:
        context.update(_escalation_context(request, ticket))
        context["sla_clocks"] = _sla_clocks(ticket)
        panels = {**_workspace_forms(request, ticket), **forms.get("workspace_forms", {})}
        context["wf"] = {name.replace("-", "_"): form for name, form in panels.items()}
        context["can_merge"] = "merge" in context["actions"]
    else:
        context["kb_suggestions"] = _public_suggestions(request, ticket)
    return context


def _sla_clocks(ticket) -> list:
    """The current cycle's SLA clocks (one query; the ticket was already fetched through the scoped selector)."""
    return clocks_for_page(sla_records_for_ticket(ticket=ticket), now=timezone.now())


PORTAL_SUGGESTIONS = 3


def _public_suggestions(request, ticket) -> list:
    """Published public articles that might answer the requester's own ticket while they wait."""
    if not ticket.is_open:
        return []
    text = f"{ticket.title} {ticket.description}"
    return kb_selectors.suggest_for_text(request.user, text, category=ticket.category, limit=PORTAL_SUGGESTIONS)


@login_required
@require_GET
def ticket_receipt(request, pk):
    """The receipt for a ticket handed to Security: shown to whoever logged or escalated it, cleared or not."""
    ticket = selectors.ticket_receipt_for(request.user, pk)
    can_open = selectors.ticket_list_for(request.user).filter(pk=ticket.pk).exists()
    context = {"receipt": security_receipt(ticket), "ticket_id": ticket.pk, "can_open": can_open}
    return render(request, "tickets/security_receipt.html", context)


@login_required
def ticket_detail(request, pk):
    ticket = selectors.ticket_get_for(request.user, pk)
    notification_services.notifications_mark_read_for_ticket(ticket_id=ticket.pk, acting_user=request.user)
    template = "tickets/ticket_detail.html" if roles.is_agent(request.user) else "tickets/portal_detail.html"
    return render(request, template, _detail_context(request, ticket))


def _render_detail(request, ticket, status=400, **forms):
    template = "tickets/ticket_detail.html" if roles.is_agent(request.user) else "tickets/portal_detail.html"
    ticket.refresh_from_db()
    return render(request, template, _detail_context(request, ticket, **forms), status=status)


@login_required
@require_POST
def ticket_comment(request, pk):
    """A public reply or internal note, with any attached files, in one go."""
    ticket = selectors.ticket_get_for(request.user, pk)
    form = CommentForm(request.POST, request.FILES)
    if form.is_valid():
        public = form.is_public or not roles.is_agent(request.user)
        body = form.cleaned_data["body"].strip()
        try:
            with transaction.atomic():
                comment = None
                and_wait = public and roles.is_agent(request.user) and "and_wait" in request.POST
                if body and and_wait:
                    comment = actions.ticket_reply_and_wait(ticket_id=ticket.pk, body=body, acting_user=request.user)
                elif body:
                    comment = services.ticket_comment_add(
                        ticket_id=ticket.pk, body=body, public=public, acting_user=request.user
                    )
                for upload in form.cleaned_data["attachments"]:
                    services.attachment_add(
                        ticket_id=ticket.pk, upload=upload, acting_user=request.user, public=public, comment=comment
                    )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            sent = "Reply sent; waiting on the requester." if and_wait and body else "Reply sent."
            messages.success(request, sent if public else "Internal note added.")
            return redirect(f"{reverse('ticket-detail', args=[ticket.pk])}#latest")
    return _render_detail(request, ticket, comment_form=form)


# action → (form factory, service call, success message, form key)
def _action_table():
    return {
        "assign": (
            None,
            lambda t, u, d: services.ticket_assign(ticket_id=t.pk, assignee=u, acting_user=u),
            "Assigned to you.",
            None,
        ),
        "pending": (
            lambda data: ReasonForm(data, prefix="pending"),
            lambda t, u, d: services.ticket_set_pending(ticket_id=t.pk, reason=d["reason"], acting_user=u),
            "Waiting on the requester; the resolution clock is paused.",
            "pending_form",
        ),
        "resume": (
            None,
            lambda t, u, d: services.ticket_resume(ticket_id=t.pk, reason="", acting_user=u),
            "Work resumed.",
            None,
        ),
        "resolve": (
            lambda data: ResolveForm(data),
            lambda t, u, d: services.ticket_resolve(ticket_id=t.pk, resolution=d["resolution"], acting_user=u),
            "Resolved; the requester has been told.",
            "resolve_form",
        ),
        "reopen": (
            lambda data: ReasonForm(data, prefix="reopen"),
            lambda t, u, d: automation.ticket_reopen(ticket_id=t.pk, reason=d["reason"], acting_user=u),
            "Reopened.",
            "reopen_form",
        ),
        "unrestrict": (
            lambda data: ReasonForm(data, prefix="unrestrict"),
            lambda t, u, d: services.ticket_lift_restriction(ticket_id=t.pk, reason=d["reason"], acting_user=u),
            "Restriction lifted; every agent can see this ticket now.",
            "unrestrict_form",
        ),
        "priority": (
            lambda data: PriorityForm(data),
            lambda t, u, d: services.ticket_change_priority(
                ticket_id=t.pk, priority=d["priority"], reason=d["reason"], acting_user=u
            ),
            "Priority changed.",
            "priority_form",
        ),
    }


TICKET_ACTIONS = ("assign", "pending", "resume", "resolve", "reopen", "priority", "unrestrict")
REQUESTER_ACTIONS = {"reopen"}


@login_required
@require_POST
def ticket_action(request, pk, action):
    """One lifecycle action (assign to me, pending, resume, resolve, reopen, priority)."""
    table = _action_table()
    if action not in table:
        raise Http404("No such action.")
    ticket = selectors.ticket_get_for(request.user, pk)
    if action not in REQUESTER_ACTIONS and not roles.is_agent(request.user):
        raise PermissionDenied("Only support agents can do that.")
    if action == "priority" and not roles.can_override_priority(request.user):
        raise PermissionDenied("Only team leads and managers may override a priority.")
    make_form, call, success, form_key = table[action]
    form = make_form(request.POST) if make_form else None
    if form is not None and not form.is_valid():
        return _render_detail(request, ticket, **{form_key: form, "open_panel": action})
    try:
        call(ticket, request.user, form.cleaned_data if form else {})
    except DomainError as error:
        if form is None:
            messages.error(request, error.message or "That could not be done.")
            return redirect("ticket-detail", pk=ticket.pk)
        add_domain_error(form, error)
        return _render_detail(request, ticket, **{form_key: form, "open_panel": action})
    messages.success(request, success)
    return redirect("ticket-detail", pk=ticket.pk)


# ---------------------------------------------------------------- agents' ticket actions (tickets.actions)

WORKSPACE_ACTIONS = ("assign-to", "transfer", "category", "watchers", "link", "merge")


def _colleagues_for(ticket):
    """Agents who may be given this ticket: cleared ones only when it is restricted."""
    people = User.objects.filter(
        Q(groups__permissions__codename="work_tickets") | Q(user_permissions__codename="work_tickets"),
        is_active=True,
    )
    if ticket.is_restricted:
        people = people.filter(
            Q(groups__permissions__codename="view_restricted_ticket")
            | Q(user_permissions__codename="view_restricted_ticket")
            | Q(is_superuser=True)
        )
    return people.distinct().order_by("first_name", "last_name", "username")


def _transfer_queues(ticket):
    return Queue.objects.filter(tier=ticket.tier).exclude(pk=ticket.queue_id).order_by("name")


def _workspace_forms(request, ticket, data=None) -> dict:
    """The action panels' forms (bound to `data` when posted)."""
    visible = selectors.ticket_list_for(request.user).exclude(pk=ticket.pk)
    return {
        "assign-to": AssignForm(data, agents=_colleagues_for(ticket), prefix="assign"),
        "transfer": TransferForm(data, queues=_transfer_queues(ticket), prefix="transfer"),
        "category": CategoryForm(data, prefix="category", initial={"category": ticket.category.slug}),
        "watchers": WatcherForm(data, prefix="watch"),
        "link": TicketRefForm(data, visible=visible, prefix="link"),
        "merge": MergeForm(data, visible=visible, prefix="merge"),
    }


def _workspace_call(action, ticket, user, data):
    if action == "assign-to":
        services.ticket_assign(ticket_id=ticket.pk, assignee=data["assignee"], acting_user=user)
        return ticket, f"Assigned to {data['assignee']}."
    if action == "transfer":
        actions.ticket_transfer(ticket_id=ticket.pk, queue=data["queue"], reason=data["reason"], acting_user=user)
        return ticket, f"Transferred to {data['queue']}."
    if action == "category":
        changed = automation.ticket_update(
            ticket_id=ticket.pk, changes={"category": data["category"]}, acting_user=user
        )
        return ticket, f"Category is now {data['category']}; routed to {changed.queue}."
    if action == "watchers":
        add, remove = [data["add"]] if data["add"] else [], [data["remove"]] if data["remove"] else []
        actions.ticket_watchers_change(ticket_id=ticket.pk, add=add, remove=remove, acting_user=user)
        return ticket, f"{add[0]} now watches this ticket." if add else f"{remove[0]} no longer watches it."
    if action == "link":
        other = data["ticket"]
        actions.ticket_link(ticket_id=ticket.pk, other_id=other.pk, unlink=data["unlink"], acting_user=user)
        return ticket, f"{'Unlinked from' if data['unlink'] else 'Linked to'} {other.reference}."
    primary = actions.ticket_merge(
        duplicate_id=ticket.pk, primary_id=data["ticket"].pk, note=data["note"], acting_user=user
    )
    return primary, f"{ticket.reference} merged into {primary.reference} and closed."


@agent_required
@require_POST
def ticket_workspace_action(request, pk, action):
    """Assign to a colleague, transfer, change category, watchers, link, merge: one service each."""
    if action not in WORKSPACE_ACTIONS:
        raise Http404("No such action.")
    ticket = selectors.ticket_get_for(request.user, pk)
    form = _workspace_forms(request, ticket, request.POST)[action]
    if form.is_valid():
        try:
            target, success = _workspace_call(action, ticket, request.user, form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, success)
            if not access.may_see(request.user, target):
                return redirect("desk")  # moved to a restricted team this agent may not see
            return redirect("ticket-detail", pk=target.pk)
    return _render_detail(request, ticket, workspace_forms={action: form}, open_panel=action)


@login_required
def attachment_download(request, pk):
    """Serve an attachment to someone who may see its ticket (and, for requesters, only public files).

    Always as a download, never rendered by the browser as our origin: even a file that
    slipped past the content check cannot run script here (nosniff, CSP sandbox).
    <img> previews still work; Content-Disposition does not apply to them.
    """
    attachment = get_object_or_404(Attachment.objects.select_related("ticket"), pk=pk)
    if not selectors.ticket_list_for(request.user).filter(pk=attachment.ticket_id).exists():
        raise Http404("No such attachment.")
    if not attachment.is_public and not roles.is_agent(request.user):
        raise Http404("No such attachment.")
    content_type = attachment.content_type or "application/octet-stream"
    response = FileResponse(
        attachment.file.open("rb"), content_type=content_type, as_attachment=True, filename=attachment.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- Tier 2 queue


@tier2_required
def tier2_queue(request):
    """Only escalations: awaiting acceptance, then accepted work, in my Tier 2 queues; most urgent first."""
    user = request.user
    queue = escalation_selectors.tier2_queue_for(user)
    # Both lists' handoffs in one query (prefetch_related(None): not one query per list).
    awaiting = list(_filtered(request, selectors.list_rows(queue.awaiting.prefetch_related(None)))[:50])
    page = _page(request, _filtered(request, selectors.list_rows(queue.accepted.prefetch_related(None))))
    page.object_list = list(page.object_list)
    # Every row's queue is one of the page's (with its lead, who accepts for another team).
    selectors.with_configuration([*awaiting, *page.object_list], queues=queue.queues)
    escalation_selectors.attach_handoffs([*awaiting, *page.object_list], list_rows=True)
    context = {
        "awaiting": awaiting,
        "page": page,
        "queues": queue.queues,
        "is_own_queues": queue.is_own_queues,
        # Accept and return only where the user may act; other rows say which team can.
        "act_queue_ids": queue.act_queue_ids,
        "filters": request.GET,
        "list_url": request.get_full_path(),
        "poll_seconds": poll_seconds(),
    }
    if request.htmx and request.htmx.target == "tier2-list":
        return render(request, "tickets/_tier2_list.html", context)
    return render(request, "tickets/tier2_queue.html", context)


# ---------------------------------------------------------------- requester portal


@login_required
def portal(request):
    """My tickets, newest first, and a way to ask for help."""
    tickets = selectors.ticket_list_with_related(request.user).filter(requester=request.user)
    status = request.GET.get("show", "open")
    if status == "open":
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif status == "closed":
        tickets = tickets.exclude(status__in=OPEN_STATUSES)
    page = _page(request, tickets.order_by("-created_at"))
    return render(request, "tickets/portal.html", {"page": page, "show": status})


@login_required
def portal_create(request):
    """The requester's own request; suggestions appear as they type (a followed one may answer it)."""
    posted = request.method == "POST"  # an empty POST still binds: field errors, not a blank form
    form = PortalTicketForm(request.POST if posted else None, request.FILES if posted else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        intake = services.TicketIntake.from_data(data, requester=request.user, channel=Channel.PORTAL)
        try:
            # One transaction: a refused file refuses the request, nothing half-filed.
            ticket = automation.ticket_intake(intake=intake, acting_user=request.user, uploads=data["attachments"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if ticket.is_restricted:
                return redirect("ticket-receipt", pk=ticket.pk)
            messages.success(request, f"Thanks — we have your request {ticket.reference}. We'll reply here.")
            return redirect("ticket-detail", pk=ticket.pk)
    return render(request, "tickets/portal_create.html", {"form": form}, status=400 if form.errors else 200)


# ---------------------------------------------------------------- error pages


def permission_denied(request, exception=None):
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        # An API client asked for a path no route matches (e.g. /api/v1/tickets/abc/): JSON, like every other 404.
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors that touch the database: the error may be the database.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render({}), status=500)
