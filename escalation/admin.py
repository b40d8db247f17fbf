from django.contrib import admin

from tickets.admin import ReadOnlyAdmin

from .models import ChecklistItem, Escalation, EscalationPath, TriggerRule, TriggerRuleFiring


@admin.register(EscalationPath)
class EscalationPathAdmin(admin.ModelAdmin):
    list_display = ("name", "trigger", "category", "queue", "to_queue", "owner", "after_hours_queue", "is_active")
    list_filter = ("trigger", "is_active", "to_queue")
    list_select_related = ("category", "queue", "to_queue", "owner", "after_hours_queue")


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ("category", "position", "key", "question", "required")
    list_filter = ("category", "required")
    list_editable = ("position", "required")
    list_select_related = ("category",)


@admin.register(TriggerRule)
class TriggerRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "is_active", "escalate_with_trigger", "raise_priority_to", "notify_team_lead")
    list_filter = ("is_active", "escalate_with_trigger")
    list_editable = ("position", "is_active")
    fieldsets = (
        (None, {"fields": ("name", "position", "is_active")}),
        (
            "When (every condition set must hold)",
            {
                "fields": (
                    "category",
                    "tier",
                    "min_priority",
                    "impact",
                    "keywords",
                    "requester_is_vip",
                    "min_reopen_count",
                    "min_minutes_in_tier",
                )
            },
        ),
        ("Then", {"fields": ("escalate_with_trigger", "raise_priority_to", "notify_team_lead")}),
    )


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "trigger", "from_queue", "to_queue", "escalated_by", "escalated_at", "outcome", "rating")
    list_filter = ("outcome", "trigger", "is_automatic", "to_queue")
    list_select_related = ("ticket", "from_queue", "to_queue", "escalated_by")
    date_hierarchy = "escalated_at"


@admin.register(TriggerRuleFiring)
class TriggerRuleFiringAdmin(ReadOnlyAdmin):
    list_display = ("rule", "ticket", "reopen_count", "moment", "fired_at")
    list_select_related = ("rule", "ticket")
