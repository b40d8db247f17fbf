from django.apps import AppConfig


class WhatIfConfig(AppConfig):
    name = "escalation.whatif"
    label = "whatif"
    verbose_name = "SLA what-if"
