"""Shape and validate knowledge-base data for the API. No business logic here."""

from django.urls import reverse
from rest_framework import serializers

from tickets.models import Category

from .models import Article, Playbook, PlaybookStep, StepOutcome, TicketPlaybookStep
from .rendering import render_markdown


class ArticleListSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    tags = serializers.ListField(source="tag_list", child=serializers.CharField(), read_only=True)
    solved_ticket_count = serializers.IntegerField(source="solved_count", read_only=True, default=0)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            "id",
            "slug",
            "title",
            "category",
            "tags",
            "status",
            "is_public",
            "author",
            "created_at",
            "updated_at",
            "published_at",
            "helpful_yes",
            "helpful_no",
            "solved_ticket_count",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, article) -> str:
        return reverse("kb:article", args=[article.pk])


class ArticleDetailSerializer(ArticleListSerializer):
    body_markdown = serializers.CharField(read_only=True)
    body_html = serializers.SerializerMethodField(help_text="Rendered and sanitized HTML.")

    class Meta(ArticleListSerializer.Meta):
        fields = [*ArticleListSerializer.Meta.fields, "body_markdown", "body_html"]
        read_only_fields = fields

    def get_body_html(self, article) -> str:
        return str(render_markdown(article.body_markdown))


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="article.id")
    title = serializers.CharField(source="article.title")
    slug = serializers.CharField(source="article.slug")
    category = serializers.CharField(source="article.category.slug", default=None, allow_null=True)
    is_public = serializers.BooleanField(source="article.is_public")
    snippet = serializers.CharField()
    rank = serializers.FloatField()
    url = serializers.SerializerMethodField()

    def get_url(self, hit) -> str:
        return reverse("kb:article", args=[hit.article.pk])


class SuggestQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=2000, allow_blank=True, help_text="Free text, e.g. the ticket description.")
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), required=False, allow_null=True
    )
    limit = serializers.IntegerField(min_value=1, max_value=20, default=5)
    context = serializers.ChoiceField(
        choices=["intake", "escalate"], required=False, help_text="Record the showing (deflection) in this context."
    )
    ticket = serializers.IntegerField(required=False, help_text="The ticket the suggestions are shown on.")


class VoteSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()


class PlaybookStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlaybookStep
        fields = ["id", "position", "instruction", "expected_outcome"]


class PlaybookSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    steps = PlaybookStepSerializer(many=True, read_only=True)
    required_for_triggers = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Playbook
        fields = ["id", "name", "description", "category", "required_for_triggers", "is_active", "steps"]


class TicketStepRecordSerializer(serializers.ModelSerializer):
    step = PlaybookStepSerializer(read_only=True)
    playbook = serializers.CharField(source="step.playbook.name", read_only=True)
    done_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = TicketPlaybookStep
        fields = ["id", "playbook", "step", "outcome", "result", "done_by", "done_at"]
        read_only_fields = fields


class TickStepSerializer(serializers.Serializer):
    step = serializers.IntegerField(help_text="The playbook step id.")
    outcome = serializers.ChoiceField(choices=StepOutcome.choices, default=StepOutcome.SUCCEEDED)
    result = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)
