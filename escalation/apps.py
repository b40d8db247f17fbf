from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = "Escalation"

    def ready(self):
        from tickets import configcache

        from .models import TriggerRule

        configcache.watch(TriggerRule)
