"""The what-if page: edit targets (prefilled from the live policies), pick a period, compare.

GET only: a draft lives in the URL like the dashboard's filters, so a comparison
can be bookmarked, exported (CSV) and shared. A long period becomes a run that
a worker computes; the page shows its progress (static/whatif/whatif.js polls)
and renders the stored answer when it is done. Nothing here changes a policy:
"Apply this policy" opens the policy admin with the draft's values filled in.
"""

from __future__ import annotations

import zoneinfo
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from escalation.metrics.filters import parse_filters
from escalation.metrics.views import _choices as dashboard_choices
from escalation.sla.models import Calendar, SlaPolicy, Target
from tickets import roles
from tickets.csv_export import csv_response
from tickets.errors import InvalidInput
from tickets.models import Priority
from tickets.selectors import ticket_list_for

from .models import RunStatus, WhatIfRun
from .replay import candidate_ticket_ids
from .serializers import FILTER_FIELDS, WhatIfSerializer
from .services import runs_inline, what_if, whatif_run_create

TARGETS = list(Target)
MINUTE_FIELDS = [f"{t.value}_minutes" for t in TARGETS]


def _viewer(request) -> None:
    if not roles.can_view_dashboard(request.user):
        raise PermissionDenied("The SLA what-if is for managers and admins.")


def representative_policies() -> dict[str, SlaPolicy | None]:
    """Per priority, the policy a plain ticket of it gets: its own priority policy, else the default."""
    active = list(SlaPolicy.objects.filter(is_active=True).select_related("calendar").order_by("position", "id"))
    default = next((p for p in active if p.is_default), None)
    found = {}
    for priority in Priority.values:
        found[priority] = next(
            (
                p
                for p in active
                if not p.is_default
                and p.priority == priority
                and not p.category_id
                and not p.site_id
                and p.requester_is_vip is None
            ),
            default,
        )
    return found


def targets_table(policies: dict[str, SlaPolicy | None], values: dict[str, str], errors: dict[str, list[str]]):
    rows = []
    for priority, label in Priority.choices:
        policy = policies[priority]
        cells = []
        for target in TARGETS:
            name = f"{priority}.{target.value}"
            live = policy.target_minutes(target.value) if policy else None
            value = values.get(name, "" if live is None else str(live))
            cells.append(
                {
                    "name": name,
                    "label": f"{label}: {target.label}",
                    "live": live,
                    "value": value,
                    "changed": value.strip() not in ("", str(live) if live is not None else ""),
                    "errors": errors.get(name, []),
                }
            )
        rows.append({"priority": priority, "label": label, "policy": policy, "cells": cells})
    return rows


def payload_from_query(query, policies: dict[str, SlaPolicy | None]) -> tuple[dict, list[str]]:
    """The API body the form stands for; changes are the cells that differ from the live policy."""
    changes, names = [], []
    for priority in Priority.values:
        policy = policies[priority]
        for target in TARGETS:
            name = f"{priority}.{target.value}"
            raw = (query.get(name) or "").strip()
            live = policy.target_minutes(target.value) if policy else None
            if raw == "" or raw == (str(live) if live is not None else ""):
                continue
            changes.append({"priority": priority, "target": target.value, "business_minutes": raw})
            names.append(name)
    payload = {
        "from": query.get("from") or None,
        "to": query.get("to") or None,
        "changes": changes,
        "filters": {k: query.get(k, "") for k in FILTER_FIELDS},
    }
    if query.get("calendar"):
        payload["calendar"] = query.get("calendar")
    return payload, names


def form_errors(errors: dict, change_names: list[str]) -> dict[str, list[str]]:
    """The serializer's errors keyed by the form's field names."""
    out: dict[str, list[str]] = {}
    for key, value in errors.items():
        if key == "changes" and isinstance(value, dict):
            for index, item in value.items():
                for messages in item.values():
                    out.setdefault(change_names[int(index)], []).extend(str(m) for m in messages)
        elif key == "filters" and isinstance(value, dict):
            for name, messages in value.items():
                out[name] = [str(m) for m in messages]
        else:
            out[key] = [str(m) for m in value] if isinstance(value, list) else [str(value)]
    return out


def apply_links(result: dict) -> list[dict]:
    """Per changed priority, the policy admin forms that would make the draft real (filled in, not saved)."""
    changes_by_priority: dict[str, dict[str, int]] = {}
    for change in result["draft"]["changes"]:
        changes_by_priority.setdefault(change["priority"], {})[change["target"]] = change["business_minutes"]
    calendar = result["draft"]["calendar"]
    priorities = list(changes_by_priority) or (list(result["policies_used"]) if calendar else [])
    representative = representative_policies()
    links = []
    for priority in priorities:
        values = {f"{t}_minutes": m for t, m in changes_by_priority.get(priority, {}).items()}
        if calendar:
            values["calendar"] = calendar["id"]
        ids = result["policies_used"].get(priority) or (
            [representative[priority].pk] if representative[priority] else []
        )
        for policy in SlaPolicy.objects.filter(pk__in=ids).order_by("position", "id"):
            if policy.priority == priority:
                url = reverse("admin:sla_slapolicy_change", args=[policy.pk]) + "?" + urlencode(values)
                links.append({"priority": priority, "policy": policy, "new": False, "url": url})
            else:
                # The tickets fell under a policy for every priority: a new one, for this priority only.
                fields = {name: getattr(policy, name) for name in MINUTE_FIELDS if getattr(policy, name) is not None}
                fields.update(values)
                fields.update(
                    name=f"{policy.name} · {priority}",
                    priority=priority,
                    position=max(policy.position - 1, 0),
                    is_active="on",
                )
                if policy.calendar_id and "calendar" not in values:
                    fields["calendar"] = policy.calendar_id
                if policy.category_id:
                    fields["category"] = policy.category_id
                if policy.site_id:
                    fields["site"] = policy.site_id
                url = reverse("admin:sla_slapolicy_add") + "?" + urlencode(fields)
                links.append({"priority": priority, "policy": policy, "new": True, "url": url})
    return links


def _csv(result: dict, table: str) -> HttpResponse:
    # Ticket titles are typed by people: csv_response escapes what a spreadsheet would evaluate.
    filename = f"handoff-what-if-{table}-{result['period']['from']}-{result['period']['to']}.csv"
    if table == "tickets":
        header = ["Reference", "Title", "Priority", "Target", "Cycle", "Current", "Proposed", "Due now", "Due"]
        keys = ("reference", "title", "priority", "target_label", "cycle", "current", "proposed")
        rows = ([*(row[k] for k in keys), row["current_due_at"], row["proposed_due_at"]] for row in result["tickets"])
        return csv_response(filename=filename, header=header, rows=rows)
    rows = ([row["label"], row["current"], row["proposed"]] for row in comparison(result))
    return csv_response(filename=filename, header=["Figure", "Current", "Proposed"], rows=rows)


def comparison(result: dict) -> list[dict]:
    """Current and proposed side by side, one line per figure."""
    current, proposed = result["current"], result["proposed"]
    rows = []
    for now_row, new_row in zip(current["sla"], proposed["sla"], strict=True):
        label = now_row["label"]
        for key, suffix in (("met_pct", "met %"), ("met", "met"), ("breached", "breached"), ("total", "judged")):
            rows.append({"label": f"{label} {suffix}", "current": now_row[key], "proposed": new_row[key]})
    rows.append(
        {"label": "Breaches", "current": current["breaches"]["total"], "proposed": proposed["breaches"]["total"]}
    )
    rows.append(
        {
            "label": "Tickets ever breached",
            "current": current["breaches"]["tickets_ever_breached"],
            "proposed": proposed["breaches"]["tickets_ever_breached"],
        }
    )
    for now_row, new_row in zip(current["breaches"]["by_tier"], proposed["breaches"]["by_tier"], strict=True):
        rows.append(
            {
                "label": f"Breaches charged to {now_row['label']}",
                "current": now_row["breaches"],
                "proposed": new_row["breaches"],
            }
        )
    for now_row, new_row in zip(current["breaches"]["by_target"], proposed["breaches"]["by_target"], strict=True):
        rows.append(
            {"label": f"{now_row['label']} breaches", "current": now_row["breaches"], "proposed": new_row["breaches"]}
        )
    rows.append(
        {
            "label": "Automatic escalations (Tier 1 budget used up)",
            "current": current["automatic_escalations"]["tier1_budget"],
            "proposed": proposed["automatic_escalations"]["tier1_budget"],
        }
    )
    for row in rows:
        row["changed"] = row["current"] != row["proposed"]
    return rows


def chart_data(result: dict) -> dict:
    return {
        "days": [row["day"] for row in result["current"]["trend"]],
        "current": result["current"]["trend"],
        "proposed": result["proposed"]["trend"],
    }


def _choices() -> dict:
    """The dashboard's filter choices, and the calendars a draft may use instead."""
    return {**dashboard_choices(), "calendars": Calendar.objects.order_by("name").values_list("pk", "name")}


def _own_run(request, run_id: str) -> WhatIfRun:
    try:
        run = WhatIfRun.objects.filter(pk=run_id, requested_by=request.user).first()
    except Exception:  # not a UUID
        run = None
    if run is None:
        raise Http404("No such what-if run.")
    return run


def _query_from_params(params: dict, policies) -> dict[str, str]:
    """A run's stored draft back as the form's values (so the page shows what was asked)."""
    values = {"from": params["from"], "to": params["to"], "calendar": str(params.get("calendar") or "")}
    values.update(params.get("filters", {}))
    for change in params.get("changes", []):
        values[f"{change['priority']}.{change['target']}"] = str(change["business_minutes"])
    return values


@login_required
def what_if_page(request):
    _viewer(request)
    policies = representative_policies()
    zone = request.user.display_time_zone
    query = request.GET
    errors: dict[str, list[str]] = {}
    result = None
    run = None
    values = dict(query.items())

    if query.get("run"):
        run = _own_run(request, query["run"])
        values = _query_from_params(run.params, policies)
        if run.status == RunStatus.DONE:
            result = run.result
    elif query.get("go"):
        payload, names = payload_from_query(query, policies)
        serializer = WhatIfSerializer(data=payload, context={"time_zone": zoneinfo.ZoneInfo(zone)})
        if serializer.is_valid():
            data = serializer.validated_data
            tickets = ticket_list_for(request.user)
            ids = candidate_ticket_ids(tickets, data["metrics_filter"])
            if runs_inline(len(ids)):
                result = what_if(tickets=tickets, filters=data["metrics_filter"], draft=data["draft"], ticket_ids=ids)
            else:
                run = whatif_run_create(acting_user=request.user, params=data["params"], total=len(ids))
                return redirect(reverse("dashboard-what-if") + f"?run={run.pk}")
        else:
            errors = form_errors(serializer.errors, names)

    if result is not None and query.get("format") == "csv":
        table = query.get("table", "tickets")
        if table in ("tickets", "figures"):
            return _csv(result, table)
        errors["table"] = ["Choose a table: tickets, figures."]

    try:
        filters = parse_filters({k: values.get(k, "") for k in ("from", "to", *FILTER_FIELDS)}, time_zone=zone)
    except InvalidInput:
        filters = parse_filters({}, time_zone=zone)
    context = {
        "rows": targets_table(policies, values, errors),
        "targets": TARGETS,
        "values": values,
        "filters": filters,
        "date_from": values.get("from") or filters.date_from.isoformat(),
        "date_to": values.get("to") or filters.date_to.isoformat(),
        "errors": errors,
        "field_errors": {k: v for k, v in errors.items() if "." not in k},
        "result": result,
        "run": run,
        "comparison": comparison(result) if result else [],
        "apply_links": apply_links(result) if result else [],
        "chart": chart_data(result) if result else None,
        "flips_shown": result["tickets"][:200] if result else [],
        "csv_qs": urlencode({**({"run": str(run.pk)} if run else {k: v for k, v in query.items() if k != "format"})}),
        "poll_url": reverse("api:metrics-sla-what-if-run", args=[run.pk]) if run and not result else "",
        **_choices(),
    }
    return render(request, "whatif/what_if.html", context, status=400 if errors else 200)
