from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self):
        from django.contrib.auth.models import Group, Permission

        from . import configcache
        from .models import Category, PriorityMatrixCell, Queue, RoutingRule, Site, User
        from .roles import ensure_role_groups

        configcache.watch(Category, PriorityMatrixCell, Queue, RoutingRule, Site)
        # Who holds which permission (roles are groups), cached per process by helpdesk.backends.
        configcache.watch(Group, Permission)
        configcache.watch_links(User.groups.through, User.user_permissions.through)

        # Permissions exist only after migrate; the role groups are set up from them.
        post_migrate.connect(ensure_role_groups, sender=self, dispatch_uid="tickets.ensure_role_groups")
        # Signing out revokes the user's API tokens (receiver in helpdesk.auth).
        import helpdesk.auth  # noqa: F401
