import django_filters

from .models import Article, ArticleStatus


class ArticleFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug")
    status = django_filters.ChoiceFilter(choices=ArticleStatus.choices)
    tag = django_filters.CharFilter(field_name="tags", lookup_expr="icontains")
    is_public = django_filters.BooleanFilter()

    class Meta:
        model = Article
        fields = ["category", "status", "tag", "is_public"]
