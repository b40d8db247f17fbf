from django.contrib import admin

from .models import Article, ArticleRevision, ArticleTicketLink, Playbook, PlaybookStep, SuggestionShown


class RevisionInline(admin.TabularInline):
    model = ArticleRevision
    extra = 0
    can_delete = False
    fields = ("number", "title", "edited_by", "edited_at", "note")
    readonly_fields = fields
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TicketLinkInline(admin.TabularInline):
    model = ArticleTicketLink
    extra = 0
    raw_id_fields = ("ticket",)
    readonly_fields = ("linked_by", "linked_at")


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Editing here bypasses revisions and the search index; the KB editor (/kb/) is the place to write."""

    list_display = ("title", "category", "status", "is_public", "author", "updated_at", "helpful_yes", "helpful_no")
    list_filter = ("status", "is_public", "category")
    search_fields = ("title", "tags", "body_markdown")
    list_select_related = ("category", "author")
    readonly_fields = ("helpful_yes", "helpful_no", "created_at", "updated_at", "published_at")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [RevisionInline, TicketLinkInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from .services import _refresh_search_vector

        _refresh_search_vector(obj.pk)  # keep search right even for admin edits


class PlaybookStepInline(admin.TabularInline):
    model = PlaybookStep
    extra = 1
    fields = ("position", "instruction", "expected_outcome")
    ordering = ("position",)


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "is_active", "required_for_triggers")
    list_filter = ("is_active", "category")
    inlines = [PlaybookStepInline]


@admin.register(SuggestionShown)
class SuggestionShownAdmin(admin.ModelAdmin):
    list_display = ("article", "context", "ticket", "shown_to", "shown_at")
    list_filter = ("context",)
    raw_id_fields = ("ticket", "article", "shown_to")
    date_hierarchy = "shown_at"
