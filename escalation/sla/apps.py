from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "escalation.sla"
    label = "sla"
    verbose_name = "SLA"

    def ready(self):
        from tickets import configcache

        from .models import Calendar, Holiday, LadderLevel, QueueCalendar, SlaPolicy, WorkingInterval

        configcache.watch(Calendar, Holiday, LadderLevel, QueueCalendar, SlaPolicy, WorkingInterval)
