"""POST /api/v1/metrics/sla/what-if/ and the progress of a long one (GET …/what-if/runs/<id>/)."""

from __future__ import annotations

import zoneinfo

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from tickets import roles
from tickets.selectors import ticket_list_for

from .models import RunStatus, WhatIfRun
from .replay import candidate_ticket_ids
from .serializers import WhatIfSerializer
from .services import runs_inline, what_if, whatif_run_create


def _manager(user) -> None:
    if not roles.can_view_dashboard(user):
        raise PermissionDenied("The SLA what-if is for managers and admins.")


def run_payload(run: WhatIfRun) -> dict:
    payload = {
        "id": str(run.pk),
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "percent": run.percent,
        "url": reverse("api:metrics-sla-what-if-run", args=[run.pk]),
        "page": reverse("dashboard-what-if") + f"?run={run.pk}",
    }
    if run.status == RunStatus.DONE:
        payload["result"] = run.result
    if run.status == RunStatus.FAILED:
        payload["error"] = "The replay failed; the error is in the server log."
    return payload


def validated(request) -> dict:
    serializer = WhatIfSerializer(
        data=request.data, context={"time_zone": zoneinfo.ZoneInfo(request.user.display_time_zone)}
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(
    request=WhatIfSerializer,
    responses={
        200: OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="{current, proposed, tickets}: current and proposed in the shape of GET /api/v1/metrics/sla/ "
            "(sla rows, breaches by tier and target, automatic_escalations, trend); tickets = the clocks whose "
            "outcome flips (reference, target, current, proposed).",
        ),
        202: OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="A long period: computed by a worker. Poll `url` until status is done; `result` is then "
            "the 200 answer.",
        ),
    },
    examples=[
        OpenApiExample(
            "Tighter P2 resolution",
            value={
                "from": "2025-01-01",
                "to": "2025-01-31",
                "changes": [{"priority": "P2", "target": "resolution", "business_minutes": 240}],
                "filters": {"team": "service-desk"},
            },
            request_only=True,
        )
    ],
)
@api_view(["POST"])
def what_if_create(request):
    _manager(request.user)
    data = validated(request)
    tickets = ticket_list_for(request.user)
    ids = candidate_ticket_ids(tickets, data["metrics_filter"])
    if runs_inline(len(ids)):
        return Response(what_if(tickets=tickets, filters=data["metrics_filter"], draft=data["draft"], ticket_ids=ids))
    run = whatif_run_create(acting_user=request.user, params=data["params"], total=len(ids))
    return Response(run_payload(run), status=status.HTTP_202_ACCEPTED, headers={"Location": run_payload(run)["url"]})


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def what_if_run(request, pk):
    _manager(request.user)
    run = WhatIfRun.objects.filter(pk=pk, requested_by=request.user).first()
    if run is None:
        raise NotFound("No such what-if run.")
    return Response(run_payload(run))
