from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tickets.notifications"
    label = "notifications"
    verbose_name = "Notifications"
