from django.urls import path

from . import apis

urlpatterns = [
    path("metrics/sla/", apis.metrics_sla, name="metrics-sla"),
]
