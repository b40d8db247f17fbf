from django.urls import include, path

from . import views

urlpatterns = [
    path("tickets/<int:ticket_id>/escalate/", views.escalate, name="ticket-escalate"),
    path("tickets/<int:ticket_id>/accept/", views.accept, name="ticket-accept"),
    path("tickets/<int:ticket_id>/return/", views.return_, name="ticket-return"),
    path("tickets/<int:ticket_id>/rate/", views.rate, name="ticket-rate"),
    path("escalations/queue/", views.tier2_queue, name="escalation-queue"),
    # manager dashboard (escalation.metrics)
    path("", include("escalation.metrics.urls")),
]
