"""Dashboard pages: the figures, the tickets behind them, CSV, and the live at-risk board.

Managers and admins only (tickets.roles.can_view_dashboard); everyone else 403.
Filters live in the URL, so any view can be bookmarked and shared.
"""

from __future__ import annotations

from functools import cache
from itertools import groupby
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from escalation.models import Escalation
from escalation.sla.models import SlaRecord, Stage
from tickets import roles
from tickets.csv_export import csv_response
from tickets.errors import InvalidInput
from tickets.models import Category, Priority, Queue, Site
from tickets.selectors import ticket_list_for

from . import figures as f
from .drilldown import SHOW_LABELS, tickets_behind
from .filters import MetricsFilter, parse_filters
from .snapshot import without_jit
from .tables import build_tables, drill_url
from .tiles import build_tiles

PEOPLE_TABLES = ["agents", "teams"]
FOLDED_TABLES = ["volume_by_hour", "trend"]

PAGE_SIZE = 50
BOARD_LIMIT = 500


def _viewer(request) -> None:
    if not roles.can_view_dashboard(request.user):
        raise PermissionDenied("The dashboard is for managers and admins.")


def _filters(request) -> tuple[MetricsFilter, dict]:
    """The URL's filters; on bad input the defaults, plus the errors to show."""
    zone = request.user.display_time_zone
    try:
        return parse_filters(request.GET, time_zone=zone), {}
    except InvalidInput as exc:
        return parse_filters({}, time_zone=zone), exc.errors


def _choices() -> dict:
    return {
        "teams": Queue.objects.order_by("tier", "name").values_list("slug", "name"),
        "categories": Category.objects.order_by("name").values_list("slug", "name"),
        "sites": Site.objects.order_by("name").values_list("slug", "name"),
        "priorities": Priority.choices,
    }


def _csv(table, filters: MetricsFilter) -> HttpResponse:
    # Rows carry names people typed (queues, categories, engineers): escaped against formulas.
    return csv_response(
        filename=f"handoff-{table.name}-{filters.date_from}-{filters.date_to}.csv",
        header=[label for _key, label in table.columns],
        rows=([row.get(key) for key, _label in table.columns] for row in table.rows),
    )


@login_required
def dashboard(request):
    _viewer(request)
    filters, errors = _filters(request)
    now = timezone.now()
    visible = ticket_list_for(request.user)
    with without_jit():
        figures, behind = f.dashboard_and_tickets_behind(tickets=visible, filters=filters, now=now)
        tables = build_tables(figures, filters)
        if request.GET.get("format") == "csv":
            name = request.GET.get("table", "")
            if name not in tables:
                errors = {"table": [f"Choose a table: {', '.join(tables)}."]}
            elif not errors:
                return _csv(tables[name], filters)
        cleared = roles.can_see_restricted(request.user)
        tiles = build_tiles(figures, filters, tickets=visible, now=now, cleared=cleared, behind=behind)
    context = {
        "figures": figures,
        "tiles": tiles,
        # The first screen: who hands off well; the long hourly and daily tables fold away.
        "people_tables": [tables[name] for name in PEOPLE_TABLES],
        "main_tables": [t for name, t in tables.items() if name not in PEOPLE_TABLES + FOLDED_TABLES],
        "folded_tables": [tables[name] for name in FOLDED_TABLES],
        "tables": tables,
        "filters": filters,
        "qs": urlencode(filters.as_params()),
        "errors": errors,
        "charts": {
            "trend": figures["trend"],
            "by_hour": figures["volume"]["by_hour"],
            "breaches_by_tier": figures["breaches"]["by_tier"],
            "hour_url": drill_url(filters, "hour", hour="__hour__"),
        },
        **_choices(),
    }
    return render(request, "dashboard/dashboard.html", context, status=400 if errors else 200)


@login_required
def drilldown(request):
    _viewer(request)
    show = request.GET.get("show", "created")
    try:
        filters = parse_filters(request.GET, time_zone=request.user.display_time_zone)
        tickets = tickets_behind(
            tickets=ticket_list_for(request.user), filters=filters, show=show, params=request.GET, now=timezone.now()
        )
    except InvalidInput as exc:
        return render(request, "dashboard/tickets.html", {"errors": exc.errors}, status=400)
    latest_first = Escalation.objects.select_related("escalated_by").order_by("-escalated_at", "-pk")
    tickets = (
        tickets.select_related("queue", "assignee", "category", "site")
        .prefetch_related(Prefetch("escalations", queryset=latest_first))
        .order_by("-created_at", "-pk")
    )
    if request.GET.get("format") == "csv":
        return csv_response(
            filename=f"handoff-{show}-{filters.date_from}-{filters.date_to}.csv",
            header=[label for label, _value in DRILL_COLUMNS],
            rows=([value(ticket) for _label, value in DRILL_COLUMNS] for ticket in tickets.iterator(chunk_size=500)),
        )
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {
        "page": page,
        "title": SHOW_LABELS[show],
        "filters": filters,
        "query": query.urlencode(),
        "dashboard_qs": urlencode(filters.as_params()),
        "rows": [(ticket, _latest_escalation(ticket)) for ticket in page],
    }
    return render(request, "dashboard/tickets.html", context)


def _latest_escalation(ticket):
    escalations = list(ticket.escalations.all())  # prefetched, latest first
    return escalations[0] if escalations else None


def _escalated_by(ticket) -> str:
    escalation = _latest_escalation(ticket)
    if escalation is None:
        return ""
    return "Automatic" if escalation.is_automatic else str(escalation.escalated_by or "")


# The drill-down's columns, for the page and its CSV: what a manager checks a figure against.
DRILL_COLUMNS = [
    ("Reference", lambda t: t.reference),
    ("Title", lambda t: t.title),
    ("Status", lambda t: t.get_status_display()),
    ("Priority", lambda t: t.priority),
    ("Team", lambda t: str(t.queue)),
    ("Category", lambda t: str(t.category)),
    ("Site", lambda t: str(t.site or "")),
    ("Assignee", lambda t: str(t.assignee or "")),
    ("Created", lambda t: t.created_at.isoformat()),
    ("Escalated by", _escalated_by),
    ("Return reason", lambda t: getattr(_latest_escalation(t), "get_return_reason_display", lambda: "")()),
    ("Handoff rating", lambda t: getattr(_latest_escalation(t), "rating", None)),
]


def at_risk_board(*, tickets, now) -> list[tuple]:
    """Live clocks past their warning (or due within the hour) or breached, one line per ticket, by team."""
    records = (
        SlaRecord.objects.filter(ticket__in=tickets.values("pk"))
        .filter(f.at_risk_condition(now) | Q(stopped_at__isnull=True, stage=Stage.BREACHED))
        .select_related("ticket", "ticket__queue", "ticket__assignee")
        .order_by("ticket__queue__name", "due_at", "pk")[:BOARD_LIMIT]
    )
    seen: set[int] = set()
    lines = []
    for record in records:
        if record.ticket_id in seen:
            continue  # the soonest clock speaks for the ticket
        seen.add(record.ticket_id)
        lines.append(record)
    return [(queue, list(group)) for queue, group in groupby(lines, key=lambda r: r.ticket.queue)]


@cache
def htmx_script() -> str | None:
    """htmx's path under static/ once vendored (else the board falls back to a meta refresh)."""
    for path in ("vendor/htmx/htmx.min.js", "vendor/htmx/htmx.js"):
        if finders.find(path):
            return path
    return None


@login_required
def at_risk(request):
    _viewer(request)
    now = timezone.now()
    context = {
        "teams": at_risk_board(tickets=ticket_list_for(request.user), now=now),
        "now": now,
        "htmx_script": htmx_script(),
        "refresh_seconds": 30,
    }
    template = "dashboard/_at_risk_board.html" if request.htmx else "dashboard/at_risk.html"
    return render(request, template, context)
