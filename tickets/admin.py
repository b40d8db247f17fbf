from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    Attachment,
    Category,
    Comment,
    PriorityMatrixCell,
    Queue,
    RoutingRule,
    Site,
    Ticket,
    TicketEvent,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (("Help desk", {"fields": ("site", "department", "is_vip", "time_zone")}),)
    list_display = ("username", "email", "first_name", "last_name", "site", "is_vip", "is_staff")
    list_filter = ("groups", "site", "is_vip", "is_staff")


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "time_zone", "country")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "lead", "is_security", "is_default_intake", "time_zone")
    list_filter = ("tier",)
    filter_horizontal = ("members",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "default_queue", "is_security", "is_active")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(PriorityMatrixCell)
class PriorityMatrixCellAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "position",
        "is_active",
        "category",
        "keywords",
        "requester_is_vip",
        "target_queue",
        "raise_priority_to",
    )
    list_editable = ("position", "is_active")


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened (escalations, SLA records): changed only through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ("created_at", "kind", "actor", "message")
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-mostly: ticket state changes only through the services (the workspace and API)."""

    list_display = ("reference", "title", "status", "tier", "queue", "priority", "assignee", "created_at")
    list_filter = ("status", "tier", "priority", "queue", "category")
    search_fields = ("title", "description")
    list_select_related = ("queue", "assignee")
    inlines = [EventInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Ticket._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("ticket", "author", "is_public", "created_at")
    readonly_fields = ("ticket", "author", "body", "is_public", "created_at")


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "ticket", "content_type", "size", "created_at")
