from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("tickets/<int:ticket_id>/escalate/", views.escalate, name="ticket-escalate"),
    path("tickets/<int:ticket_id>/handoff/", views.complete_handoff, name="ticket-handoff"),
    path("tickets/<int:ticket_id>/accept/", views.accept, name="ticket-accept"),
    path("tickets/<int:ticket_id>/return/", views.return_, name="ticket-return"),
    path("tickets/<int:ticket_id>/rate/", views.rate, name="ticket-rate"),
    # The Tier 2 queue page is the workspace's (tickets.views.tier2_queue); keep old links working.
    path("escalations/queue/", RedirectView.as_view(pattern_name="tier2-queue", permanent=True)),
    # manager dashboard (escalation.metrics)
    path("", include("escalation.metrics.urls")),
]
