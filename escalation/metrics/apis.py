"""GET /api/v1/metrics/sla/: the dashboard's figures as JSON (the same function as the page)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from tickets import roles
from tickets.selectors import ticket_list_for

from . import figures
from .filters import parse_filters
from .snapshot import without_jit


@extend_schema(
    parameters=[
        OpenApiParameter("from", OpenApiTypes.DATE, description="First day, in your time zone (default: 30 days ago)"),
        OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)"),
        OpenApiParameter("team", str, description="Queue slug"),
        OpenApiParameter("category", str, description="Category slug"),
        OpenApiParameter("priority", str, enum=["P1", "P2", "P3", "P4"]),
        OpenApiParameter("site", str, description="Site slug"),
    ],
    responses=OpenApiTypes.OBJECT,
)
@api_view(["GET"])
def metrics_sla(request):
    if not roles.can_view_dashboard(request.user):
        raise PermissionDenied("The dashboard figures are for managers and admins.")
    filters = parse_filters(request.query_params, time_zone=request.user.display_time_zone)
    with without_jit():
        return Response(figures.dashboard(tickets=ticket_list_for(request.user), filters=filters))
