from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("tickets", apis.TicketViewSet, basename="ticket")
router.register("categories", apis.CategoryViewSet, basename="category")
router.register("queues", apis.QueueViewSet, basename="queue")

urlpatterns = [path("search/", apis.SearchView.as_view(), name="search"), *router.urls]
