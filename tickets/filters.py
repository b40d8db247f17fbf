import django_filters
from django.db.models import Q

from escalation.sla import selectors as sla_selectors

from .models import Priority, Ticket, TicketStatus, Tier, parse_reference


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    tier = django_filters.ChoiceFilter(choices=Tier.choices)
    queue = django_filters.CharFilter(field_name="queue__slug")
    category = django_filters.CharFilter(field_name="category__slug")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    assignee = django_filters.CharFilter(method="filter_assignee", help_text="A username, or 'none' or 'me'.")
    requester = django_filters.CharFilter(field_name="requester__username")
    site = django_filters.CharFilter(field_name="site__slug")
    breached = django_filters.BooleanFilter(method="filter_breached")
    at_risk = django_filters.BooleanFilter(method="filter_at_risk")
    search = django_filters.CharFilter(method="filter_search", help_text="Reference, title or description.")

    class Meta:
        model = Ticket
        fields = ["status", "tier", "queue", "category", "priority", "assignee", "requester", "site"]

    def filter_assignee(self, queryset, name, value):
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value == "me":
            return queryset.filter(assignee=self.request.user) if self.request else queryset.none()
        return queryset.filter(assignee__username=value)

    def filter_breached(self, queryset, name, value):
        return sla_selectors.filter_breached(queryset, value)

    def filter_at_risk(self, queryset, name, value):
        return sla_selectors.filter_at_risk(queryset, value)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q(title__icontains=value) | Q(description__icontains=value)
        number = parse_reference(value)
        if number:
            condition |= Q(pk=number)
        return queryset.filter(condition)
