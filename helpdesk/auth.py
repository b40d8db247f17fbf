"""Signing in: API tokens that expire and die at logout, and the answer to a locked-out client.

Passwords are checked only through `django.contrib.auth.authenticate(request=...)`, so django-axes
counts every failure (page and API alike) and refuses a locked-out username/address pair even
with the right password.
"""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from knox.models import get_token_model
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from tickets.models import User

from .schema import DetailSerializer

INVALID_CREDENTIALS = "Unable to log in with the provided credentials."


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return f"Too many failed sign-in attempts. Try again in {minutes} minutes, or ask an administrator to unlock you."


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After; JSON for the API, the sign-in page with the reason for people."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        form = AuthenticationForm(request, data=None, initial={"username": (credentials or {}).get("username", "")})
        context = {"form": form, "lockout": lockout_message(), "next": ""}
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = retry_after
    return response


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        # Never advertise demo passwords on a real deployment.
        return {**super().get_context_data(**kwargs), "show_demo_accounts": settings.SHOW_DEMO_ACCOUNTS}


# -- tokens (writes: issue and revoke)


def token_issue(*, user: User) -> tuple[str, object]:
    """A new token for `user`, valid for API_TOKEN_TTL; only its hash is stored. The user's expired
    tokens are deleted here (they authenticate nothing): the purge knox did on every request."""
    get_token_model().objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = get_token_model().objects.create(user=user, expiry=knox_settings.TOKEN_TTL)
    return token, instance


def tokens_revoke(*, user: User) -> int:
    """Every API token `user` holds stops working now."""
    deleted, _ = get_token_model().objects.filter(user=user).delete()
    return deleted


@receiver(user_logged_out)
def _revoke_tokens_at_logout(sender, request, user, **kwargs):
    # Signing out of the web app ends every credential of that person, API tokens included.
    if user is not None:
        tokens_revoke(user=user)


# -- the API


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField()


class ObtainTokenView(APIView):
    """POST {username, password} → {token, expiry}; then send `Authorization: Token <token>`."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=TokenRequestSerializer,
        # 400 (field errors, or {"detail"} for wrong credentials) is added by helpdesk.schema.
        responses={200: TokenResponseSerializer, 429: DetailSerializer},
        auth=[],
    )
    def post(self, request):
        incoming = TokenRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: axes marks it, and its middleware answers the lockout.
        user = authenticate(
            request=request._request,
            username=incoming.validated_data["username"],
            password=incoming.validated_data["password"],
        )
        if user is None or not user.is_active:
            return Response({"detail": INVALID_CREDENTIALS}, status=status.HTTP_400_BAD_REQUEST)
        token, instance = token_issue(user=user)
        # As a page sign-in does: axes resets the failure count, last_login is stamped.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response(TokenResponseSerializer({"token": token, "expiry": instance.expiry}).data)


class RevokeTokenView(APIView):
    """POST with `Authorization: Token …`: that token stops working (204)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if request.auth is not None and hasattr(request.auth, "delete"):
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
