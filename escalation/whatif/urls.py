from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/what-if/", views.what_if_page, name="dashboard-what-if"),
]
