from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("articles", apis.ArticleViewSet, basename="article")
router.register("playbooks", apis.PlaybookViewSet, basename="playbook")

urlpatterns = [
    path(
        "tickets/<int:ticket_id>/playbook-steps/", apis.TicketPlaybookStepsView.as_view(), name="ticket-playbook-steps"
    ),
    *router.urls,
]
