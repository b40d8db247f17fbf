from django.urls import path

from . import views

app_name = "kb"

urlpatterns = [
    path("", views.search, name="search"),
    path("suggest/", views.suggest, name="suggest"),
    path("articles/new/", views.article_new, name="article-new"),
    path("articles/<int:pk>/", views.article_detail, name="article"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article-edit"),
    path("articles/<int:pk>/history/", views.article_history, name="article-history"),
    path("articles/<int:pk>/vote/", views.article_vote, name="article-vote"),
    path("playbooks/", views.playbook_list, name="playbooks"),
    path("playbooks/<int:pk>/", views.playbook_detail, name="playbook"),
    path("from-ticket/<int:ticket_id>/", views.article_from_ticket, name="article-from-ticket"),
    path("tickets/<int:ticket_id>/playbook/", views.ticket_playbook, name="ticket-playbook"),
    path("tickets/<int:ticket_id>/playbook/steps/<int:step_id>/", views.ticket_step_tick, name="ticket-step-tick"),
]
