from django import forms
from django.contrib import admin

from .models import (
    InboundMessage,
    Notification,
    NotificationPreference,
    OnCallMember,
    OnCallOverride,
    OnCallRotation,
    WebhookEndpoint,
)


class WebhookEndpointForm(forms.ModelForm):
    """The shared secret is write-only: never rendered back; left empty on a change, it stays as it was."""

    secret = forms.CharField(
        max_length=200,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Shared secret for the X-Handoff-Signature HMAC. Not shown again; leave empty to keep the current one.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "queue", "url", "secret", "is_active", "kinds", "timeout_seconds"]

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        if secret:
            return secret
        if self.instance.pk:
            return self.instance.secret
        raise forms.ValidationError("A new webhook needs a shared secret.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "queue", "url", "is_active", "timeout_seconds")
    list_filter = ("is_active", "queue")


class OnCallMemberInline(admin.TabularInline):
    model = OnCallMember
    extra = 1


class OnCallOverrideInline(admin.TabularInline):
    model = OnCallOverride
    extra = 0


@admin.register(OnCallRotation)
class OnCallRotationAdmin(admin.ModelAdmin):
    list_display = ("queue", "time_zone", "handover_weekday", "handover_time", "rotation_length_days")
    inlines = [OnCallMemberInline, OnCallOverrideInline]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "channel", "recipient", "webhook", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel", "kind")
    raw_id_fields = ("recipient", "ticket", "event", "webhook")
    readonly_fields = ("message_id", "claimed_at", "last_error")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "channel", "enabled")
    raw_id_fields = ("user",)


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("received_at", "from_address", "subject", "outcome", "ticket")
    list_filter = ("outcome",)
    search_fields = ("message_id", "from_address", "subject")
    raw_id_fields = ("ticket",)
