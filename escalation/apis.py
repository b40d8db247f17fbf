"""Escalation API: validate input, fetch through the scoped selector, call one service, serialize."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets import roles
from tickets.errors import InvalidTransition
from tickets.filters import TicketFilter
from tickets.models import Ticket
from tickets.receipts import security_receipt
from tickets.selectors import ticket_list_for, ticket_list_with_related
from tickets.serializers import TicketSerializer

from . import selectors, services
from .models import TRIGGER_DESCRIPTIONS, ChecklistItem, Trigger
from .serializers import (
    ChecklistItemSerializer,
    EscalateSerializer,
    EscalationPathSerializer,
    EscalationSerializer,
    EscalationWithTicketSerializer,
    HandoffSerializer,
    RateSerializer,
    ReturnSerializer,
    TicketWithEscalationSerializer,
    TriggerSerializer,
)


class TicketActionView(APIView):
    """Base: the ticket comes from the user's scoped queryset, so a forbidden ticket is a 404."""

    def ticket(self, pk):
        if not roles.is_agent(self.request.user):
            # Handoffs are the desk's business: to a requester these endpoints do not exist.
            raise Http404("No such ticket.")
        return get_object_or_404(ticket_list_for(self.request.user), pk=pk)

    def respond(self, ticket_id: int, escalation, status: int = 200) -> Response:
        # Re-read through the scope: after a security escalation the actor may no longer see it.
        ticket = ticket_list_with_related(self.request.user).select_related("routing_rule").filter(pk=ticket_id).first()
        if ticket is None:
            # Handed to Security and the caller is not cleared: the receipt, never a 404.
            return Response(security_receipt(Ticket.objects.select_related("queue").get(pk=ticket_id)), status=status)
        serializer = TicketWithEscalationSerializer(ticket, context={"escalation": escalation})
        return Response(serializer.data, status=status)


def handoff_from_data(data: dict) -> services.Handoff:
    return services.Handoff(
        problem_summary=data.get("problem_summary", ""),
        steps_tried=data.get("steps_tried", ""),
        error_evidence=data.get("error_evidence", ""),
        affected_scope=data.get("affected_scope", ""),
        affected_count=data.get("affected_count"),
        urgency=data.get("urgency", ""),
        checklist=dict(data.get("checklist") or {}),
    )


class EscalateView(TicketActionView):
    @extend_schema(
        request=EscalateSerializer,
        responses={201: TicketWithEscalationSerializer},
        summary="Escalate to Tier 2 with the five-field handoff",
    )
    def post(self, request, pk):
        ticket = self.ticket(pk)
        serializer = EscalateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        escalation = services.ticket_escalate(
            ticket_id=ticket.pk,
            trigger=data.get("trigger", ""),
            handoff=handoff_from_data(data),
            acting_user=request.user,
        )
        return self.respond(ticket.pk, escalation, status=201)


class HandoffView(TicketActionView):
    @extend_schema(
        request=HandoffSerializer,
        responses=EscalationWithTicketSerializer,
        summary="Complete or amend the current escalation's handoff (same checks as escalate)",
    )
    def post(self, request, pk):
        ticket = self.ticket(pk)
        serializer = HandoffSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        escalation = services.escalation_complete_handoff(
            ticket_id=ticket.pk, handoff=handoff_from_data(serializer.validated_data), acting_user=request.user
        )
        # "200 with the escalation" (API.md): the escalation itself, its ticket nested.
        ticket = ticket_list_with_related(request.user).select_related("routing_rule").filter(pk=ticket.pk).first()
        return Response(EscalationWithTicketSerializer(escalation, context={"ticket": ticket}).data)


class AcceptView(TicketActionView):
    @extend_schema(request=None, responses=TicketWithEscalationSerializer, summary="Tier 2 takes ownership")
    def post(self, request, pk):
        ticket = self.ticket(pk)
        escalation = services.escalation_accept(ticket_id=ticket.pk, acting_user=request.user)
        return self.respond(ticket.pk, escalation)


class ReturnView(TicketActionView):
    @extend_schema(request=ReturnSerializer, responses=TicketWithEscalationSerializer, summary="Back to Tier 1")
    def post(self, request, pk):
        ticket = self.ticket(pk)
        serializer = ReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        escalation = services.escalation_return(
            ticket_id=ticket.pk,
            reason=data.get("reason", ""),
            note=data.get("note", ""),
            missing_fields=data.get("missing_fields", []),
            kb_reference=data.get("kb_reference", ""),
            team=data.get("team"),
            acting_user=request.user,
        )
        return self.respond(ticket.pk, escalation)


class RateView(TicketActionView):
    @extend_schema(request=RateSerializer, responses=TicketWithEscalationSerializer, summary="Rate the handoff")
    def post(self, request, pk):
        ticket = self.ticket(pk)
        serializer = RateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        latest = selectors.latest_escalation(ticket)
        if latest is None:
            raise InvalidTransition(f"{ticket.reference} was never escalated; there is no handoff to rate.")
        escalation = services.escalation_rate(
            escalation_id=latest.pk,
            rating=serializer.validated_data["rating"],
            comment=serializer.validated_data.get("comment", ""),
            acting_user=request.user,
        )
        return self.respond(ticket.pk, escalation)


class TicketEscalationsView(TicketActionView):
    @extend_schema(responses=EscalationSerializer(many=True), summary="The handoffs of one ticket")
    def get(self, request, pk):
        ticket = self.ticket(pk)
        return Response(EscalationSerializer(selectors.escalations_for_ticket(request.user, ticket), many=True).data)


class Tier2QueueView(generics.ListAPIView):
    """The Tier 2 queue, the same rows as the /tier2/ page (escalation.selectors.tier2_queue_for):
    escalated work in my Tier 2 teams (every team for someone in none), most urgent first;
    `status` escalated = awaiting acceptance. Filters as for GET /api/v1/tickets/."""

    serializer_class = TicketSerializer
    filterset_class = TicketFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Ticket.objects.none()
        if not roles.is_tier2(self.request.user):
            raise PermissionDenied("Only Tier 2 engineers have a Tier 2 queue.")
        return selectors.tier2_queue_for(self.request.user).tickets.select_related("routing_rule")


class EscalationPathViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EscalationPathSerializer
    pagination_class = None
    filterset_fields = ["trigger"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return selectors.path_list().none()
        if not roles.is_agent(self.request.user):
            raise PermissionDenied("Only support agents can see escalation paths.")
        return selectors.path_list()


class ChecklistItemViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ChecklistItemSerializer
    pagination_class = None
    filterset_fields = ["category__slug"]

    def get_queryset(self):
        return ChecklistItem.objects.select_related("category").order_by("category__slug", "position", "id")


class TriggerCatalogueView(APIView):
    @extend_schema(responses=TriggerSerializer(many=True), summary="The trigger catalogue")
    def get(self, request):
        data = [
            {"value": value, "label": label, "description": str(TRIGGER_DESCRIPTIONS[value])}
            for value, label in Trigger.choices
        ]
        return Response(TriggerSerializer(data, many=True).data)
