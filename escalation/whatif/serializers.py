"""The what-if draft, validated field by field (the API and the page both read it through here)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from escalation.metrics.filters import DEFAULT_DAYS, MAX_DAYS, parse_filters
from escalation.sla.models import Calendar, Target
from tickets.errors import InvalidInput
from tickets.models import Priority

from .replay import Draft

# A target longer than 60 days around the clock is a typo, not a policy.
MAX_BUSINESS_MINUTES = 60 * 24 * 60
FILTER_FIELDS = ("team", "category", "priority", "site")


class StrictIntegerField(serializers.IntegerField):
    """An integer, and only an integer: true, 240.5 or "4h" are refused, not read as numbers."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, float) and not data.is_integer()):
            self.fail("invalid")
        return super().to_internal_value(data)


class ChangeSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    target = serializers.ChoiceField(choices=Target.choices)
    business_minutes = StrictIntegerField(
        min_value=1,
        max_value=MAX_BUSINESS_MINUTES,
        error_messages={
            "min_value": "A target is at least 1 business minute.",
            "max_value": f"At most {MAX_BUSINESS_MINUTES} business minutes (60 days around the clock).",
        },
    )


@extend_schema_field(OpenApiTypes.STR)
class CalendarField(serializers.Field):
    """A calendar by id or by name."""

    default_error_messages = {"unknown": "No calendar “{value}”.", "invalid": "Give a calendar id or name."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        text = str(data).strip()
        found = None
        if text.isdigit():
            found = Calendar.objects.filter(pk=int(text)).first()
        found = found or Calendar.objects.filter(name=text).first()
        if found is None:
            self.fail("unknown", value=text[:100])
        return found

    def to_representation(self, value):
        return value.pk


class FiltersSerializer(serializers.Serializer):
    team = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100)
    category = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100)
    priority = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=10)
    site = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100)


class WhatIfSerializer(serializers.Serializer):
    """`from`/`to` are the dashboard's (days in the viewer's zone, both included, default the last 30 days)."""

    changes = ChangeSerializer(many=True, required=False, max_length=len(Priority) * len(Target))
    calendar = CalendarField(required=False, allow_null=True)
    filters = FiltersSerializer(required=False)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword, so these two are added by name.
        fields["from"] = serializers.DateField(required=False, allow_null=True)
        fields["to"] = serializers.DateField(required=False, allow_null=True)
        return fields

    def validate(self, attrs):
        errors: dict = {}
        changes = attrs.get("changes") or []
        seen: set[tuple[str, str]] = set()
        change_errors: dict[int, dict] = {}  # by position, as DRF words a list's item errors
        for index, change in enumerate(changes):
            key = (change["priority"], change["target"])
            if key in seen:
                change_errors[index] = {"target": [f"{key[0]} {Target(key[1]).label.lower()} is changed twice."]}
            seen.add(key)
        if change_errors:
            errors["changes"] = change_errors

        zone = self.context["time_zone"]
        today = timezone.now().astimezone(zone).date()
        date_to = attrs.get("to") or today
        date_from = attrs.get("from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        if date_to < date_from:
            errors["to"] = ["The period ends before it starts."]
        elif (date_to - date_from).days + 1 > MAX_DAYS:
            errors["to"] = [f"Choose a period of at most {MAX_DAYS} days (a year)."]

        raw_filters = {k: v for k, v in (attrs.get("filters") or {}).items() if v}
        metrics_filter = None
        try:
            params = {**raw_filters, "from": date_from.isoformat(), "to": date_to.isoformat()}
            metrics_filter = parse_filters(params, time_zone=str(zone), today=today)
        except InvalidInput as exc:
            filter_errors = {k: v for k, v in exc.errors.items() if k in FILTER_FIELDS}
            if filter_errors:
                errors["filters"] = filter_errors
            elif "to" not in errors:
                errors.update(exc.errors)
        if errors:
            raise serializers.ValidationError(errors)
        attrs["metrics_filter"] = metrics_filter
        attrs["draft"] = Draft(
            changes={(c["priority"], c["target"]): c["business_minutes"] for c in changes},
            calendar=attrs.get("calendar"),
        )
        attrs["params"] = {
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "changes": [dict(c) for c in changes],
            "calendar": attrs["calendar"].pk if attrs.get("calendar") else None,
            "filters": raw_filters,
            "time_zone": str(zone),
        }
        return attrs
