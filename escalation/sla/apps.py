from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "escalation.sla"
    label = "sla"
    verbose_name = "SLA"
