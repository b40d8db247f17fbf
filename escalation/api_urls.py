from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("escalation-paths", apis.EscalationPathViewSet, basename="escalation-path")
router.register("checklist-items", apis.ChecklistItemViewSet, basename="checklist-item")

urlpatterns = [
    path("tickets/<int:pk>/escalate/", apis.EscalateView.as_view(), name="ticket-escalate"),
    path("tickets/<int:pk>/handoff/", apis.HandoffView.as_view(), name="ticket-handoff"),
    path("tickets/<int:pk>/accept/", apis.AcceptView.as_view(), name="ticket-accept"),
    path("tickets/<int:pk>/return/", apis.ReturnView.as_view(), name="ticket-return"),
    path("tickets/<int:pk>/rate/", apis.RateView.as_view(), name="ticket-rate"),
    path("tickets/<int:pk>/escalations/", apis.TicketEscalationsView.as_view(), name="ticket-escalations"),
    path("triggers/", apis.TriggerCatalogueView.as_view(), name="triggers"),
    path("tier2-queue/", apis.Tier2QueueView.as_view(), name="tier2-queue"),
    *router.urls,
    # dashboard figures (escalation.metrics)
    path("", include("escalation.metrics.api_urls")),
]
