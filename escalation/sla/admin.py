from django.contrib import admin, messages
from django.utils import timezone

from tickets.admin import ReadOnlyAdmin
from tickets.errors import InvalidInput

from .calendars import holidays_import
from .models import Calendar, Holiday, LadderLevel, QueueCalendar, SlaPolicy, SlaRecord, SweepState, WorkingInterval


class WorkingIntervalInline(admin.TabularInline):
    model = WorkingInterval
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "is_24x7", "country"]
    inlines = [WorkingIntervalInline, HolidayInline]
    actions = ["import_holidays_this_year", "import_holidays_next_year"]

    def _import(self, request, queryset, year):
        for calendar in queryset:
            if not calendar.country:
                self.message_user(request, f"{calendar} has no country; set one first.", messages.WARNING)
                continue
            try:
                added = holidays_import(calendar=calendar, country=calendar.country, year=year)
            except InvalidInput as error:
                self.message_user(request, f"{calendar}: {error.errors}", messages.ERROR)
                continue
            self.message_user(request, f"{calendar}: {added} public holidays added for {year}.")

    @admin.action(description="Import public holidays for this year (calendar's country)")
    def import_holidays_this_year(self, request, queryset):
        self._import(request, queryset, timezone.now().year)

    @admin.action(description="Import public holidays for next year (calendar's country)")
    def import_holidays_next_year(self, request, queryset):
        self._import(request, queryset, timezone.now().year + 1)


@admin.register(QueueCalendar)
class QueueCalendarAdmin(admin.ModelAdmin):
    list_display = ["queue", "calendar"]


class LadderLevelInline(admin.TabularInline):
    model = LadderLevel
    extra = 0
    filter_horizontal = ["notify_managers"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "position",
        "is_active",
        "is_default",
        "priority",
        "category",
        "security",
        "calendar",
        "first_response_minutes",
        "resolution_minutes",
        "tier1_budget_minutes",
    ]
    list_editable = ["position", "is_active"]
    inlines = [LadderLevelInline]

    # "Apply this policy" on the SLA what-if page links here with the draft's values in the
    # query (?resolution_minutes=240&calendar=3). They are shown in the form, never saved:
    # the admin reviews them and presses Save, or walks away and nothing changed.
    DRAFT_FIELDS = (
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "tier1_budget_minutes",
        "tier2_accept_minutes",
        "calendar",
    )

    def get_object(self, request, object_id, from_field=None):
        policy = super().get_object(request, object_id, from_field)
        if policy is not None and request.method == "GET":
            for name in self.DRAFT_FIELDS:
                raw = request.GET.get(name, "")
                if raw.isdigit():
                    setattr(policy, f"{name}_id" if name == "calendar" else name, int(raw))
        return policy

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and any(name in request.GET for name in self.DRAFT_FIELDS):
            self.message_user(
                request, "Values from the SLA what-if are filled in. Nothing is saved until you press Save."
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(SlaRecord)
class SlaRecordAdmin(ReadOnlyAdmin):
    """Derived from the timeline: read-only (sla_repair rebuilds them)."""

    list_display = ["ticket", "target", "cycle", "stage", "due_at", "ever_breached", "next_check_at"]
    list_filter = ["target", "stage", "ever_breached", "is_current"]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket"]


@admin.register(SweepState)
class SweepStateAdmin(admin.ModelAdmin):
    list_display = ["last_swept_at", "last_report"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
