from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("desk/", views.desk, name="desk"),
    path("desk/log-call/", views.ticket_create, name="ticket-create"),
    path("desk/lookup/requesters/", views.requester_lookup, name="requester-lookup"),
    path("desk/lookup/priority/", views.priority_preview, name="priority-preview"),
    path("search/", views.search_page, name="search"),
    path("tier2/", views.tier2_queue, name="tier2-queue"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/receipt/", views.ticket_receipt, name="ticket-receipt"),
    path("tickets/<int:pk>/comment/", views.ticket_comment, name="ticket-comment"),
    # Explicit actions: /tickets/<id>/escalate|accept|return|rate/ belong to the escalation app.
    *(
        path(f"tickets/<int:pk>/{action}/", views.ticket_action, {"action": action}, name=f"ticket-{action}")
        for action in views.TICKET_ACTIONS
    ),
    *(
        path(f"tickets/<int:pk>/{action}/", views.ticket_workspace_action, {"action": action}, name=f"ticket-{action}")
        for action in views.WORKSPACE_ACTIONS
    ),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("portal/", views.portal, name="portal"),
    path("portal/new/", views.portal_create, name="portal-create"),
]
