"""Shape and validate escalation data for the API. The rules live in escalation.handoff and services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tickets.models import Impact, Queue, Tier, Urgency
from tickets.serializers import TicketSerializer

from .handoff import MAX_AFFECTED
from .models import ChecklistItem, Escalation, EscalationPath, ReturnReason, Trigger


class EscalateSerializer(serializers.Serializer):
    # Everything optional and blank-able here on purpose: the service's substance check
    # answers field by field with one set of messages (the same ones the page shows).
    trigger = serializers.CharField(required=False, allow_blank=True, help_text=", ".join(Trigger.values))
    problem_summary = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    steps_tried = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    error_evidence = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="Verbatim; stored byte-for-byte."
    )
    affected_scope = serializers.CharField(required=False, allow_blank=True, help_text=", ".join(Impact.values))
    affected_count = serializers.IntegerField(required=False, allow_null=True, max_value=MAX_AFFECTED)
    urgency = serializers.CharField(required=False, allow_blank=True, help_text=", ".join(Urgency.values))
    checklist = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text="The category's checklist answers, {key: answer}.",
    )


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, help_text=", ".join(ReturnReason.values))
    note = serializers.CharField(required=False, allow_blank=True)
    missing_fields = serializers.ListField(child=serializers.CharField(), required=False)
    kb_reference = serializers.CharField(required=False, allow_blank=True, max_length=500)
    team = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Queue.objects.filter(tier=Tier.TWO),
        required=False,
        allow_null=True,
        help_text="wrong_team: the Tier 2 team (slug) that should take it.",
    )


class HandoffSerializer(serializers.Serializer):
    """The escalate body without the trigger: the fields to add or amend (blank ones are left as they are)."""

    problem_summary = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    steps_tried = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    error_evidence = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="Verbatim; stored byte-for-byte."
    )
    affected_scope = serializers.CharField(required=False, allow_blank=True, help_text=", ".join(Impact.values))
    affected_count = serializers.IntegerField(required=False, allow_null=True, max_value=MAX_AFFECTED)
    urgency = serializers.CharField(required=False, allow_blank=True, help_text=", ".join(Urgency.values))
    checklist = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text="The category's checklist answers, {key: answer}.",
    )


class RateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, error_messages={"min_value": "Rate from 1 to 5."})
    comment = serializers.CharField(required=False, allow_blank=True)


class EscalationSerializer(serializers.ModelSerializer):
    from_queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    to_queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    path = serializers.StringRelatedField(read_only=True, allow_null=True)
    escalated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    returned_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    rated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    rerouted_to = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    quality = serializers.SerializerMethodField(help_text="Per handoff field: complete, weak or missing.")
    completeness = serializers.IntegerField(read_only=True)
    seconds_to_accept = serializers.SerializerMethodField()

    class Meta:
        model = Escalation
        fields = [
            "id",
            "trigger",
            "problem_summary",
            "steps_tried",
            "error_evidence",
            "affected_scope",
            "affected_count",
            "urgency",
            "checklist",
            "from_queue",
            "to_queue",
            "path",
            "after_hours",
            "escalated_by",
            "escalated_at",
            "is_automatic",
            "missing_fields",
            "completeness",
            "outcome",
            "accepted_by",
            "accepted_at",
            "seconds_to_accept",
            "returned_by",
            "returned_at",
            "return_reason",
            "return_note",
            "returned_missing_fields",
            "kb_reference",
            "rerouted_to",
            "quality",
            "rating",
            "rating_comment",
            "rated_by",
            "rated_at",
        ]
        read_only_fields = fields

    def get_quality(self, escalation) -> dict[str, str]:
        from .handoff import handoff_quality

        return {item.name: item.status for item in handoff_quality(escalation)}

    def get_seconds_to_accept(self, escalation) -> int | None:
        delta = escalation.time_to_accept
        return int(delta.total_seconds()) if delta is not None else None


class TicketWithEscalationSerializer(TicketSerializer):
    """The ticket after the action, plus the escalation it touched."""

    escalation = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "escalation"]
        read_only_fields = fields

    @extend_schema_field(EscalationSerializer(allow_null=True))
    def get_escalation(self, ticket):
        escalation = self.context.get("escalation")
        return EscalationSerializer(escalation).data if escalation is not None else None


class EscalationPathSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    queue = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    to_queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    after_hours_queue = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = EscalationPath
        fields = [
            "id",
            "name",
            "category",
            "queue",
            "trigger",
            "to_queue",
            "owner",
            "after_hours_queue",
            "after_hours_notify_on_call",
            "position",
        ]
        read_only_fields = fields


class TriggerSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()


class ChecklistItemSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ChecklistItem
        fields = ["id", "category", "key", "question", "required", "position"]
        read_only_fields = fields


class EscalationWithTicketSerializer(EscalationSerializer):
    """The escalation after a handoff change, with the ticket as the actor now sees it."""

    ticket = serializers.SerializerMethodField()

    class Meta(EscalationSerializer.Meta):
        fields = [*EscalationSerializer.Meta.fields, "ticket"]
        read_only_fields = fields

    @extend_schema_field(TicketSerializer(allow_null=True))
    def get_ticket(self, escalation):
        ticket = self.context.get("ticket")
        return TicketSerializer(ticket).data if ticket is not None else None
