"""Ticket API: validate, fetch through the scoped selector, call one service, serialize."""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import generics, mixins, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from escalation import automation

from . import access, actions, roles, search, selectors, services
from .filters import TicketFilter
from .models import Category, Channel, Queue, Ticket
from .pagination import TicketPagination
from .receipts import security_receipt
from .serializers import (
    AssignSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CategorySerializer,
    CommentCreateSerializer,
    CommentSerializer,
    LinkedTicketSerializer,
    LinkSerializer,
    MergeSerializer,
    PersonSerializer,
    QueueSerializer,
    ReasonSerializer,
    ResolveSerializer,
    SearchHitSerializer,
    SearchQuerySerializer,
    TicketCreateSerializer,
    TicketEventSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    TransferSerializer,
    WatchersChangeSerializer,
)

SECURITY_RECEIPT = inline_serializer(
    name="SecurityReceipt",
    fields={
        "id": drf_serializers.IntegerField(),
        "reference": drf_serializers.CharField(),
        "status": drf_serializers.CharField(),
        "priority": drf_serializers.CharField(),
        "handed_to": drf_serializers.CharField(),
        "detail": drf_serializers.CharField(),
        "next_steps": drf_serializers.ListField(child=drf_serializers.CharField()),
    },
)

# Handed to Security and the caller not cleared to read it: the receipt instead of the ticket.
TICKET_OR_RECEIPT = PolymorphicProxySerializer(
    component_name="TicketOrReceipt",
    serializers=[TicketSerializer, SECURITY_RECEIPT],
    resource_type_field_name=None,
)


# One ticket as an action answers it. DRF builds a ModelSerializer's fields for every instance (a
# tenth of an intake's CPU); this one is built once per process and only asked to represent a ticket,
# which reads its fields and changes nothing on them (no context, no validation), from any thread.
TICKET_ANSWER = TicketSerializer()

# What TicketSerializer (and a security receipt) reads beyond the ticket's own columns.
ANSWER_RELATIONS = ("queue", "category", "requester", "assignee", "site", "routing_rule")


def _answerable_as_held(ticket: Ticket) -> bool:
    """Every related row the answer names is loaded (a rule that changed the ticket re-read it
    without them): serializing it reads nothing."""
    return all(
        getattr(ticket, f"{name}_id") is None or Ticket._meta.get_field(name).is_cached(ticket)
        for name in ANSWER_RELATIONS
    )


def require_agent(user):
    if not roles.is_agent(user):
        raise PermissionDenied("Only support agents can do this.")


class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    pagination_class = TicketPagination  # page numbers, or ?cursor= for keyset pages
    filterset_class = TicketFilter
    ordering_fields = ["created_at", "updated_at", "priority", "resolution_due_at", "first_response_due_at", "id"]
    ordering = ["-created_at"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        # The people joined; category, queue, site and routing rule from the configuration cache
        # (selectors.with_configuration: a 7-table join took longer to plan than to run).
        return selectors.ticket_list_for(self.request.user).select_related("requester", "assignee")

    def paginate_queryset(self, queryset):
        return selectors.with_configuration(super().paginate_queryset(queryset))

    def get_object(self):
        return selectors.with_configuration([super().get_object()])[0]

    def ticket(self):
        return selectors.ticket_get_for(self.request.user, self.kwargs["pk"])

    def respond(self, ticket_id: int, status: int = 200, *, held: Ticket | None = None) -> Response:
        """The ticket as the caller now sees it. Handed to Security, it carries the receipt; if the
        caller is not cleared to read it any more, the receipt is all they get (never a 404).

        `held`: the ticket as the service left it, answered as it is when it carries everything the
        answer shows and the row alone says the caller may see it; otherwise it is read again."""
        if held is not None and _answerable_as_held(held) and access.may_see_by_row(self.request.user, held):
            ticket = held
        else:
            ticket = next(iter(selectors.with_configuration(self.get_queryset().filter(pk=ticket_id))), None)
        if ticket is None:
            return Response(security_receipt(Ticket.objects.select_related("queue").get(pk=ticket_id)), status=status)
        data = TICKET_ANSWER.to_representation(ticket)
        if ticket.is_restricted:
            receipt = security_receipt(ticket)
            data.update({key: receipt[key] for key in ("handed_to", "detail", "next_steps")})
        return Response(data, status=status)

    @extend_schema(
        request=TicketCreateSerializer,
        responses={201: TICKET_OR_RECEIPT},
    )
    def create(self, request):
        serializer = TicketCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        requester = data.get("requester") or request.user
        if requester != request.user:
            require_agent(request.user)  # only agents log tickets on someone's behalf
        intake = services.TicketIntake.from_data(data, requester=requester, channel=Channel.API)
        ticket = automation.ticket_create(intake=intake, acting_user=request.user)
        return self.respond(ticket.pk, status=201, held=ticket)

    @extend_schema(request=TicketUpdateSerializer, responses=TICKET_OR_RECEIPT)
    def partial_update(self, request, pk=None):
        ticket = self.ticket()
        require_agent(request.user)
        serializer = TicketUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        reason = data.pop("priority_reason", "")
        # One service call, one transaction: a refused field leaves every field as it was.
        automation.ticket_update(
            ticket_id=ticket.pk,
            changes=data,
            priority_reason=reason,
            acting_user=request.user,
            expected_version=version,
        )
        return self.respond(ticket.pk)

    @extend_schema(request=CommentCreateSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["post"])
    def comments(self, request, pk=None):
        ticket = self.ticket()
        serializer = CommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["set_pending"]:
            if not data["is_public"]:
                raise drf_serializers.ValidationError(
                    {"set_pending": ["Only a public reply can wait on the requester."]}
                )
            require_agent(request.user)
            comment = actions.ticket_reply_and_wait(ticket_id=ticket.pk, body=data["body"], acting_user=request.user)
        else:
            comment = services.ticket_comment_add(
                ticket_id=ticket.pk, body=data["body"], public=data["is_public"], acting_user=request.user
            )
        return Response(CommentSerializer(comment).data, status=201)

    @extend_schema(request=AssignSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign to a named colleague (an agent, cleared for restricted tickets); null unassigns."""
        ticket = self.ticket()
        require_agent(request.user)
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_assign(
            ticket_id=ticket.pk, assignee=serializer.validated_data["assignee"], acting_user=request.user
        )
        return self.respond(ticket.pk)

    @extend_schema(request=TransferSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        """Move to another team's queue in the same tier, with a reason; the SLA is re-routed."""
        ticket = self.ticket()
        require_agent(request.user)
        serializer = TransferSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.ticket_transfer(ticket_id=ticket.pk, acting_user=request.user, **serializer.validated_data)
        return self.respond(ticket.pk)

    @extend_schema(
        methods=["GET"], request=None, responses=PersonSerializer(many=True), description="The ticket's watchers (CC)."
    )
    @extend_schema(methods=["POST"], request=WatchersChangeSerializer, responses=PersonSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def watchers(self, request, pk=None):
        ticket = self.ticket()
        if request.method == "GET":
            return Response(PersonSerializer(selectors.watchers_of(ticket), many=True).data)
        require_agent(request.user)
        serializer = WatchersChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        watchers = actions.ticket_watchers_change(
            ticket_id=ticket.pk, acting_user=request.user, **serializer.validated_data
        )
        return Response(PersonSerializer(watchers, many=True).data)

    @extend_schema(methods=["GET"], request=None, responses=LinkedTicketSerializer(many=True))
    @extend_schema(methods=["POST"], request=LinkSerializer, responses=LinkedTicketSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def links(self, request, pk=None):
        """Related tickets you may see; POST links one (or unlinks it with unlink: true)."""
        ticket = self.ticket()
        if request.method == "POST":
            require_agent(request.user)
            serializer = LinkSerializer(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            actions.ticket_link(
                ticket_id=ticket.pk,
                other_id=serializer.validated_data["ticket"].pk,
                unlink=serializer.validated_data["unlink"],
                acting_user=request.user,
            )
        return Response(LinkedTicketSerializer(selectors.links_of(request.user, ticket), many=True).data)

    @extend_schema(request=MergeSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge this ticket, a duplicate, into `into`; answers with the primary."""
        ticket = self.ticket()
        require_agent(request.user)
        serializer = MergeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        primary = actions.ticket_merge(
            duplicate_id=ticket.pk,
            primary_id=serializer.validated_data["into"].pk,
            note=serializer.validated_data["note"],
            acting_user=request.user,
        )
        return self.respond(primary.pk)

    @extend_schema(request=ResolveSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        ticket = self.ticket()
        require_agent(request.user)
        serializer = ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_resolve(
            ticket_id=ticket.pk,
            resolution=serializer.validated_data["resolution"],
            expected_version=serializer.validated_data.get("version"),
            acting_user=request.user,
        )
        return self.respond(ticket.pk)

    @extend_schema(request=ReasonSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        ticket = self.ticket()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        automation.ticket_reopen(
            ticket_id=ticket.pk, reason=serializer.validated_data["reason"], acting_user=request.user
        )
        return self.respond(ticket.pk)

    @extend_schema(request=ReasonSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], url_path="lift-restriction")
    def lift_restriction(self, request, pk=None):
        """The Security team lifts a ticket's restriction (audited with the reason)."""
        ticket = self.ticket()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_lift_restriction(
            ticket_id=ticket.pk, reason=serializer.validated_data["reason"], acting_user=request.user
        )
        return self.respond(ticket.pk)

    @extend_schema(request=ReasonSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def pending(self, request, pk=None):
        ticket = self.ticket()
        require_agent(request.user)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_set_pending(
            ticket_id=ticket.pk, reason=serializer.validated_data["reason"], acting_user=request.user
        )
        return self.respond(ticket.pk)

    @extend_schema(request=AttachmentUploadSerializer, responses={201: AttachmentSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        ticket = self.ticket()
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        public = serializer.validated_data["public"] if roles.is_agent(request.user) else True
        attachment = services.attachment_add(
            ticket_id=ticket.pk, upload=serializer.validated_data["file"], public=public, acting_user=request.user
        )
        return Response(AttachmentSerializer(attachment).data, status=201)

    @extend_schema(request=None, responses=TicketEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, pk=None):
        ticket = self.ticket()
        events = selectors.timeline_for(request.user, ticket)
        return Response(TicketEventSerializer(events, many=True).data)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CategorySerializer
    queryset = Category.objects.filter(is_active=True).select_related("default_queue")
    lookup_field = "slug"
    pagination_class = None
    filterset_fields = []


class QueueViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = QueueSerializer
    queryset = Queue.objects.select_related("lead")
    lookup_field = "slug"
    pagination_class = None
    filterset_fields = ["tier"]


class SearchView(generics.ListAPIView):
    """Global search over every ticket the caller may see; an exact reference comes first."""

    serializer_class = SearchHitSerializer
    filter_backends = []

    @extend_schema(parameters=[SearchQuerySerializer])
    def get(self, request, *args, **kwargs):
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        self.result = search.ticket_search_for(request.user, params.validated_data["q"])
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return self.result.tickets

    def get_serializer_context(self):
        exact = getattr(self, "result", None) and self.result.exact
        return {
            **super().get_serializer_context(),
            "viewer": self.request.user,
            "exact_id": exact.pk if exact else None,
        }
