"""SLA API: a ticket's clocks (scoped like every ticket read) and the policies, read-only."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from tickets import roles

from . import selectors
from .models import SlaPolicy
from .serializers import SlaPolicySerializer, SlaRecordSerializer


@extend_schema(responses=SlaRecordSerializer(many=True))
@api_view(["GET"])
def ticket_sla_records(request, ticket_id: int):
    records = selectors.sla_records_for(request.user, ticket_id)
    return Response(SlaRecordSerializer(records, many=True).data)


class SlaPolicyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SlaPolicySerializer
    pagination_class = None
    queryset = SlaPolicy.objects.none()  # for the schema; reads go through get_queryset

    def get_queryset(self):
        if not roles.is_agent(self.request.user):
            raise PermissionDenied("Only support staff can read SLA policies.")
        return selectors.policy_list()
