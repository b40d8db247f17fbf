from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("sla-policies", apis.SlaPolicyViewSet, basename="sla-policy")

urlpatterns = [
    path("tickets/<int:ticket_id>/sla/", apis.ticket_sla_records, name="ticket-sla"),
    *router.urls,
]
