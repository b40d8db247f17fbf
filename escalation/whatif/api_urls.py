from django.urls import path

from . import apis

urlpatterns = [
    path("metrics/sla/what-if/", apis.what_if_create, name="metrics-sla-what-if"),
    path("metrics/sla/what-if/runs/<uuid:pk>/", apis.what_if_run, name="metrics-sla-what-if-run"),
]
