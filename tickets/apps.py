from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self):
        from . import configcache
        from .models import Category, PriorityMatrixCell, Queue, RoutingRule, Site
        from .roles import ensure_role_groups

        configcache.watch(Category, PriorityMatrixCell, Queue, RoutingRule, Site)

        # Permissions exist only after migrate; the role groups are set up from them.
        post_migrate.connect(ensure_role_groups, sender=self, dispatch_uid="tickets.ensure_role_groups")
        # Signing out revokes the user's API tokens (receiver in helpdesk.auth).
        import helpdesk.auth  # noqa: F401
