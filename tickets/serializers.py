"""Shape and validate ticket data for the API. No business logic here."""

import copy

from django.db.models import Q
from rest_framework import serializers

from . import configcache
from .models import (
    Attachment,
    Category,
    Comment,
    Impact,
    Priority,
    Queue,
    Site,
    Ticket,
    TicketEvent,
    Urgency,
    User,
    format_reference,
    parse_reference,
)
from .wording import status_label_for


class UserRefField(serializers.SlugRelatedField):
    """A person by username or e-mail address."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        match = self.get_queryset().filter(Q(username=data.strip()) | Q(email__iexact=data.strip())).first()
        if match is None:
            raise serializers.ValidationError(f"No active user with username or e-mail “{data}”.")
        return match


class TicketSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    site = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    requester = serializers.SlugRelatedField(slug_field="username", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    routing = serializers.SerializerMethodField()
    merged_into = serializers.SerializerMethodField(help_text="The primary's reference when this was a duplicate.")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "status",
            "tier",
            "queue",
            "category",
            "impact",
            "urgency",
            "priority",
            "priority_override_reason",
            "requester",
            "assignee",
            "site",
            "channel",
            "is_restricted",
            "reopen_count",
            "version",
            "created_at",
            "updated_at",
            "first_responded_at",
            "resolved_at",
            "first_response_due_at",
            "resolution_due_at",
            "routing",
            "merged_into",
        ]
        read_only_fields = fields

    def get_merged_into(self, ticket) -> str | None:
        return format_reference(ticket.merged_into_id) if ticket.merged_into_id else None

    def get_routing(self, ticket) -> dict:
        return {"rule": ticket.routing_rule.name if ticket.routing_rule_id else None, "reason": ticket.routing_reason}


class ConfigSlugField(serializers.SlugRelatedField):
    """A category or site by slug, from the configuration cache (tickets.configcache): categories
    and sites are configuration, so intake reads neither per ticket. Answers as SlugRelatedField."""

    def __init__(self, *, cache_name: str, **kwargs):
        self.cache_name = cache_name
        super().__init__(slug_field="slug", **kwargs)

    def to_internal_value(self, data):
        queryset = self.get_queryset()
        rows = configcache.cached(self.cache_name, lambda: {row.slug: row for row in queryset})
        if not isinstance(data, str) or data not in rows:
            return super().to_internal_value(data)  # the usual refusal (or a type error), from the database
        return copy.copy(rows[data])  # the cached instance stays clean


class TicketCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    category = ConfigSlugField(cache_name="active_categories_by_slug", queryset=Category.objects.filter(is_active=True))
    impact = serializers.ChoiceField(choices=Impact.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    requester = UserRefField(required=False)
    site = ConfigSlugField(cache_name="sites_by_slug", queryset=Site.objects.all(), required=False, allow_null=True)


class TicketUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False)
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.filter(is_active=True), required=False
    )
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    site = serializers.SlugRelatedField(slug_field="slug", queryset=Site.objects.all(), required=False, allow_null=True)
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, help_text="An override; needs priority_reason."
    )
    priority_reason = serializers.CharField(required=False, allow_blank=True)
    assignee = UserRefField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, help_text="Send the version you read to detect lost updates.")

    def validate(self, attrs):
        if "priority" in attrs and not attrs.get("priority_reason", "").strip():
            raise serializers.ValidationError({"priority_reason": ["An override needs a reason; it is audited."]})
        return attrs


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    public = serializers.BooleanField(source="is_public")

    class Meta:
        model = Comment
        fields = ["id", "body", "public", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class CommentCreateSerializer(CommentSerializer):
    set_pending = serializers.BooleanField(
        required=False, default=False, write_only=True, help_text="A public reply that also waits on the requester."
    )

    class Meta(CommentSerializer.Meta):
        fields = [*CommentSerializer.Meta.fields, "set_pending"]


class TicketRefField(serializers.CharField):
    """Another ticket by number or reference (HD-000123), among those the caller may see."""

    def to_internal_value(self, data):
        from . import selectors

        number = parse_reference(str(data)) if isinstance(data, str | int) and not isinstance(data, bool) else None
        user = self.context["request"].user
        ticket = selectors.ticket_list_for(user).filter(pk=number).first() if number else None
        if ticket is None:
            raise serializers.ValidationError(f"No ticket “{data}” that you can see.")
        return ticket

    def to_representation(self, value):
        return value.reference


class AssignSerializer(serializers.Serializer):
    assignee = UserRefField(allow_null=True, help_text="Username or e-mail of a colleague; null unassigns.")


class TransferSerializer(serializers.Serializer):
    queue = serializers.SlugRelatedField(slug_field="slug", queryset=Queue.objects.all())
    reason = serializers.CharField(allow_blank=False, max_length=300)


class WatchersChangeSerializer(serializers.Serializer):
    add = serializers.ListField(child=UserRefField(), required=False, default=list)
    remove = serializers.ListField(child=UserRefField(), required=False, default=list)

    def validate(self, attrs):
        if not attrs["add"] and not attrs["remove"]:
            raise serializers.ValidationError({"add": ["Name someone to add or remove."]})
        return attrs


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["username", "name", "email"]
        read_only_fields = fields


class LinkSerializer(serializers.Serializer):
    ticket = TicketRefField(help_text="The related ticket's number or reference.")
    unlink = serializers.BooleanField(required=False, default=False)


class LinkedTicketSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)

    class Meta:
        model = Ticket
        fields = ["id", "reference", "title", "status"]
        read_only_fields = fields


class MergeSerializer(serializers.Serializer):
    into = TicketRefField(help_text="The primary ticket (number or reference) this duplicate merges into.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=False)


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(allow_blank=False)
    version = serializers.IntegerField(required=False)


class TicketEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "kind_display", "actor", "created_at", "message", "data"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    default_queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Category
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "default_queue",
            "default_impact",
            "default_urgency",
            "is_security",
        ]


class QueueSerializer(serializers.ModelSerializer):
    lead = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Queue
        fields = ["id", "slug", "name", "tier", "description", "lead", "is_security", "time_zone"]


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    public = serializers.BooleanField(default=True)


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "is_public", "uploaded_by", "created_at"]
        read_only_fields = fields


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text="A reference (HD-000123), words, a name or an e-mail.")


class SearchHitSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    status_label = serializers.SerializerMethodField()
    queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    queue_name = serializers.CharField(source="queue.name", read_only=True)
    requester = serializers.SlugRelatedField(slug_field="username", read_only=True)
    requester_name = serializers.CharField(source="requester.__str__", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_exact = serializers.SerializerMethodField(help_text="The query was this ticket's reference.")
    url = serializers.SerializerMethodField(help_text="The ticket's page.")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "title",
            "status",
            "status_label",
            "priority",
            "tier",
            "queue",
            "queue_name",
            "requester",
            "requester_name",
            "assignee",
            "created_at",
            "updated_at",
            "is_exact",
            "url",
        ]
        read_only_fields = fields

    def get_status_label(self, ticket) -> str:
        return status_label_for(ticket, self.context.get("viewer"))

    def get_is_exact(self, ticket) -> bool:
        return ticket.pk == self.context.get("exact_id")

    def get_url(self, ticket) -> str:
        from django.urls import reverse

        return reverse("ticket-detail", args=[ticket.pk])
