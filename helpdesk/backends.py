"""Permission checks in one query instead of ModelBackend's two.

ModelBackend reads a user's own permissions and their groups' permissions in two queries, on every
page that asks `has_perm` (the navigation does). `PermissionsInOneQuery` reads both in one `UNION ALL`
and fills ModelBackend's own per-request caches (`_user_perm_cache`, `_group_perm_cache`,
`_perm_cache`) with exactly what ModelBackend would have read.

It checks no password: ModelBackend, listed after it in AUTHENTICATION_BACKENDS, still does, so
a password is hashed once per sign-in and the session names `django.contrib.auth.backends.ModelBackend`
as before; sessions signed in before this backend existed stay valid. It restores a user from a
session exactly as ModelBackend does (`get_user` is ModelBackend's), for sessions made by
`login(user, backend=None)`/`force_login`, which name the first backend that can. ModelBackend, asked
`has_perm` after it, answers from the same caches without a query.

In a request, the two sets come from a per-process copy kept under the configuration stamp
(tickets.configcache), so a warm request reads no permission at all; revoking a role or a
permission moves the stamp and takes effect at every process's next request.
"""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Value

from tickets import configcache

# Users whose permissions one process keeps between two configuration changes (then it starts over).
CACHED_USERS_MAX = 10_000


class PermissionsInOneQuery(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        return None  # ModelBackend, listed after this one, checks passwords and names the session

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        cached = hasattr(user_obj, "_user_perm_cache") or hasattr(user_obj, "_group_perm_cache")
        if not hasattr(user_obj, "_perm_cache") and not cached and not user_obj.is_superuser:
            self._read_both(user_obj)
        return super().get_all_permissions(user_obj, obj=obj)

    def _read_both(self, user_obj) -> None:
        """Fill ModelBackend's two caches. In a request (a configuration operation), from this
        process's copy, kept under the configuration stamp: a change to anyone's groups or
        permissions, or to a group's permissions, moves the stamp (tickets.apps), so every process
        reads again at its next request. The user's row (is_active, is_superuser) is the request's own."""
        if configcache.in_operation():
            known: dict[int, tuple[frozenset[str], frozenset[str]]] = configcache.cached("permissions_by_user", dict)
            found = known.get(user_obj.pk)
            if found is None:
                if len(known) >= CACHED_USERS_MAX:
                    known.clear()
                found = known[user_obj.pk] = self._query_both(user_obj)
        else:
            found = self._query_both(user_obj)
        user_obj._user_perm_cache, user_obj._group_perm_cache = set(found[0]), set(found[1])

    def _query_both(self, user_obj) -> tuple[frozenset[str], frozenset[str]]:
        """ModelBackend's `_get_user_permissions` and `_get_group_permissions`, as one statement."""
        columns = ("source", "content_type__app_label", "codename")
        own = self._get_user_permissions(user_obj).annotate(source=Value("user")).values_list(*columns).order_by()
        groups = self._get_group_permissions(user_obj).annotate(source=Value("group")).values_list(*columns).order_by()
        found = {"user": set(), "group": set()}
        for source, app_label, codename in own.union(groups, all=True):
            found[source].add(f"{app_label}.{codename}")
        return frozenset(found["user"]), frozenset(found["group"])
