"""Knowledge-base API: validate, fetch through the scoped selectors, call one service, serialize."""

from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets import selectors as ticket_selectors
from tickets.apis import require_agent
from tickets.models import Category

from . import selectors, services
from .filters import ArticleFilter
from .models import Playbook, TicketPlaybookStep
from .serializers import (
    ArticleDetailSerializer,
    ArticleListSerializer,
    PlaybookSerializer,
    SuggestionSerializer,
    SuggestQuerySerializer,
    TicketStepRecordSerializer,
    TickStepSerializer,
    VoteSerializer,
)

SEARCH_LIMIT = 50


@extend_schema(
    parameters=[OpenApiParameter("search", OpenApiTypes.STR, description="Full-text search; results best first.")]
)
class ArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Articles this user may see: requesters get published public ones; agents get drafts too."""

    filterset_class = ArticleFilter
    ordering_fields = ["updated_at", "created_at", "title", "helpful_yes"]
    ordering = ["-updated_at"]

    def get_serializer_class(self):
        return ArticleDetailSerializer if self.action == "retrieve" else ArticleListSerializer

    def get_queryset(self):
        return selectors.article_list_with_related(self.request.user)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        search = self.request.query_params.get("search", "").strip()
        if self.action == "list" and search:
            hits = selectors.article_search(self.request.user, search, limit=SEARCH_LIMIT)
            ids = [hit.article.pk for hit in hits]
            order = Case(
                *[When(pk=pk, then=Value(position)) for position, pk in enumerate(ids)], output_field=IntegerField()
            )
            queryset = queryset.filter(pk__in=ids).order_by(order) if ids else queryset.none()
        return queryset

    @extend_schema(parameters=[SuggestQuerySerializer], responses=SuggestionSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def suggest(self, request):
        """The articles most likely to solve the text in `q` (intake, before escalating)."""
        query = SuggestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        hits = selectors.suggest_for_text(request.user, data["q"], category=data.get("category"), limit=data["limit"])
        if data.get("context") and hits:
            ticket = None
            if data.get("ticket"):
                # A ticket the user may not see is bad input here (400), exactly like one that does not exist.
                ticket = ticket_selectors.ticket_list_for(request.user).filter(pk=data["ticket"]).first()
                if ticket is None:
                    raise ValidationError({"ticket": ["No such ticket."]})
            services.suggestion_record(
                articles=[hit.article for hit in hits], context=data["context"], shown_to=request.user, ticket=ticket
            )
        return Response(SuggestionSerializer(hits, many=True).data)

    @extend_schema(request=VoteSerializer, responses=ArticleDetailSerializer)
    @action(detail=True, methods=["post"])
    def vote(self, request, pk=None):
        """“Was this helpful?” — one vote per person; voting again changes it."""
        article = self.get_object()
        serializer = VoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.article_vote(
            article_id=article.pk, helpful=serializer.validated_data["helpful"], acting_user=request.user
        )
        return Response(ArticleDetailSerializer(self.get_queryset().get(pk=article.pk)).data)


@extend_schema(parameters=[OpenApiParameter("category", OpenApiTypes.STR, description="Category slug.")])
class PlaybookViewSet(viewsets.ReadOnlyModelViewSet):
    """Troubleshooting playbooks (agents only)."""

    serializer_class = PlaybookSerializer
    pagination_class = None
    filterset_fields: list[str] = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Playbook.objects.none()
        require_agent(self.request.user)
        category = None
        slug = self.request.query_params.get("category")
        if slug:
            category = Category.objects.filter(slug=slug).first()
            if category is None:
                return Playbook.objects.none()
        return selectors.playbook_list_for(self.request.user, category=category)


class TicketPlaybookStepsView(APIView):
    """The playbook steps worked on a ticket; POST ticks one (agents only)."""

    def ticket(self, request, ticket_id):
        require_agent(request.user)
        return get_object_or_404(ticket_selectors.ticket_list_for(request.user), pk=ticket_id)

    @extend_schema(responses=TicketStepRecordSerializer(many=True))
    def get(self, request, ticket_id):
        ticket = self.ticket(request, ticket_id)
        records = TicketPlaybookStep.objects.filter(ticket=ticket).select_related("step__playbook", "done_by")
        return Response(TicketStepRecordSerializer(records, many=True).data)

    @extend_schema(request=TickStepSerializer, responses={201: TicketStepRecordSerializer})
    def post(self, request, ticket_id):
        ticket = self.ticket(request, ticket_id)
        serializer = TickStepSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        record = services.playbook_step_record(
            ticket_id=ticket.pk,
            step_id=data["step"],
            outcome=data["outcome"],
            result=data["result"],
            acting_user=request.user,
        )
        record = TicketPlaybookStep.objects.select_related("step__playbook", "done_by").get(pk=record.pk)
        return Response(TicketStepRecordSerializer(record).data, status=201)
