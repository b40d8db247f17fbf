from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import api, auth

# The API's names live in the "api" namespace (reverse("api:ticket-detail")); the pages'
# names are bare ("ticket-detail") or their app's ("kb:article"). No name means both.
api_v1 = [
    path("auth/token/", auth.ObtainTokenView.as_view(), name="token"),
    path("auth/logout/", auth.RevokeTokenView.as_view(), name="token-revoke"),
    path("", include("tickets.api_urls")),
    path("", include("escalation.api_urls")),
    path("", include("escalation.sla.api_urls")),
    path("", include("escalation.whatif.api_urls")),
    path("", include("knowledgebase.api_urls")),
    path("", include("tickets.notifications.api_urls")),
]

urlpatterns = [
    path("healthz", api.healthz, name="healthz"),
    path("readyz", api.readyz, name="readyz"),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file, so the page needs no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("tickets.urls")),
    path("", include("escalation.urls")),
    path("", include("escalation.whatif.urls")),
    path("sla/", include("escalation.sla.urls")),
    path("kb/", include("knowledgebase.urls")),
    path("notifications/", include("tickets.notifications.urls")),
]

# No static(MEDIA_URL) here, DEBUG or not: attachments go out only through the permission-checked
# download view (tickets.views.attachment_download).

handler403 = "tickets.views.permission_denied"
handler404 = "tickets.views.page_not_found"
handler500 = "tickets.views.server_error"
