"""API token authentication: knox's, minus its per-request read of all the user's tokens.

Its own module (not helpdesk.auth): DRF imports the authentication classes while importing
rest_framework.views, which helpdesk.auth itself imports.
"""

from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.signals import token_expired


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token authentication without its per-request read of every token the user holds
    (to delete the expired ones: `token_issue` does that now). An expired token is still refused
    and deleted when presented, as knox does."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False
