from rest_framework import serializers

from .models import LadderLevel, SlaPolicy, SlaRecord


class SlaRecordSerializer(serializers.ModelSerializer):
    policy = serializers.CharField(source="policy.name", default=None, allow_null=True)
    elapsed_business_seconds = serializers.IntegerField(read_only=True)

    class Meta:
        model = SlaRecord
        fields = [
            "id",
            "target",
            "cycle",
            "is_current",
            "policy",
            "time_zone",
            "target_seconds",
            "started_at",
            "due_at",
            "original_due_at",
            "warn_at",
            "stage",
            "stopped_at",
            "breached_at",
            "ever_breached",
            "paused_business_seconds",
            "paused_since",
            "tier1_seconds",
            "awaiting_tier2_seconds",
            "tier2_seconds",
            "paused_seconds",
            "segment_tier",
            "segment_started_at",
            "elapsed_business_seconds",
        ]


class LadderLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = LadderLevel
        fields = [
            "target",
            "position",
            "offset_kind",
            "offset",
            "notify_assignee",
            "notify_team_lead",
            "raise_priority",
            "escalate",
            "page_on_call",
        ]


class SlaPolicySerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    site = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    calendar = serializers.CharField(source="calendar.name", default=None, allow_null=True)
    ladder = LadderLevelSerializer(many=True, read_only=True)

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "position",
            "is_default",
            "priority",
            "category",
            "requester_is_vip",
            "security",
            "site",
            "calendar",
            "use_site_time_zone",
            "pause_first_response",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "tier1_budget_minutes",
            "tier2_accept_minutes",
            "ladder",
        ]
