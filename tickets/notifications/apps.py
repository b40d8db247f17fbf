from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tickets.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        # Register the Celery tasks in every process (web included): the outbox publishes
        # them by name, since it sits below the task modules in the layers.
        from . import tasks  # noqa: F401
