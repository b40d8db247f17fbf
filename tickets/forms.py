"""Page forms: validate and shape input. Services decide; domain errors come back as form errors."""

from django import forms
from django.db.models import Q

from .errors import DomainError, InvalidInput
from .models import Category, Channel, Impact, Priority, Queue, Site, Urgency, User, parse_reference


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more uploads (Django's documented pattern for <input multiple>)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """The one mapper from a service's refusal to form errors (every page uses it).

    InvalidInput goes field by field onto the fields it names; a form whose fields are
    named differently from the service's keys says how with `field_for_error(key)`.
    A key with no field, and every other refusal, becomes a form-wide error.
    """
    if isinstance(error, InvalidInput):
        field_for = getattr(form, "field_for_error", None)
        for key, messages in error.errors.items():
            name = field_for(key) if field_for else key
            target = name if name in form.fields else None
            for message in messages:
                form.add_error(target, message if target else f"{key.replace('_', ' ').capitalize()}: {message}")
        return
    form.add_error(None, error.message or "That could not be done.")


def active_categories():
    return Category.objects.filter(is_active=True).order_by("name")


class LogCallForm(forms.Form):
    """Tier 1 'log a call': an agent records a request on someone's behalf."""

    requester = forms.CharField(
        label="Requester",
        help_text="Type a name, username or e-mail; pick from the matches.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Start typing a name…"}),
    )
    category = forms.ModelChoiceField(queryset=active_categories(), to_field_name="slug", empty_label="Choose…")
    impact = forms.ChoiceField(choices=Impact.choices, initial=Impact.INDIVIDUAL, label="Who is affected")
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.SLOWED, label="How work is hit")
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"placeholder": "Short summary"}))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "What the caller reports, in their words."})
    )
    channel = forms.ChoiceField(
        choices=[c for c in Channel.choices if c[0] != Channel.API], initial=Channel.PHONE, label="Channel"
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Requester's site",
        help_text="Leave empty to use the requester's own site.",
    )

    def clean_requester(self) -> User:
        value = self.cleaned_data["requester"].strip()
        match = User.objects.filter(is_active=True).filter(Q(username__iexact=value) | Q(email__iexact=value))
        users = list(match[:2])
        if len(users) != 1:
            raise forms.ValidationError("No active person with that username or e-mail. Pick one from the matches.")
        return users[0]


class PortalTicketForm(forms.Form):
    """The requester's own submission: plain words, no ITSM jargon."""

    category = forms.ModelChoiceField(
        # Security incident included: a requester reporting phishing gets it to Security at once.
        queryset=active_categories(),
        to_field_name="slug",
        empty_label="Choose what it is about…",
        label="What is it about?",
    )
    title = forms.CharField(
        max_length=200, label="Summary", widget=forms.TextInput(attrs={"placeholder": "e.g. Can't sign in to e-mail"})
    )
    description = forms.CharField(
        label="Describe the problem",
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": "What happened, any error message, what you were doing."}
        ),
    )
    impact = forms.ChoiceField(
        label="How many people are affected?",
        choices=[
            (Impact.INDIVIDUAL, "Just me"),
            (Impact.TEAM, "My team"),
            (Impact.SITE, "My whole site or department"),
            (Impact.ORGANIZATION, "Everyone in the organization"),
        ],
        initial=Impact.INDIVIDUAL,
    )
    urgency = forms.ChoiceField(
        label="How badly is your work hit?",
        choices=[
            (Urgency.MINOR, "A minor inconvenience"),
            (Urgency.SLOWED, "My work is slowed down"),
            (Urgency.STOPPED, "I cannot work at all"),
        ],
        initial=Urgency.SLOWED,
    )
    attachments = MultipleFileField(
        label="Screenshots or files (optional)", help_text="A screenshot of the error helps us most."
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Message", required=False, widget=forms.Textarea(attrs={"rows": 4, "id": "reply-body"})
    )
    visibility = forms.ChoiceField(
        choices=[("public", "Public reply"), ("internal", "Internal note")],
        initial="public",
        widget=forms.RadioSelect,
        required=False,
    )
    attachments = MultipleFileField(label="Attach files")

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("attachments"):
            self.add_error("body", "Write something or attach a file before sending.")
        return data

    @property
    def is_public(self) -> bool:
        return self.cleaned_data.get("visibility") != "internal"


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.TextInput)


class ResolveForm(forms.Form):
    resolution = forms.CharField(label="Resolution (the requester sees this)", widget=forms.Textarea(attrs={"rows": 3}))


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices)
    reason = forms.CharField(max_length=300, label="Reason (audited)")


def _person(value: str) -> User:
    value = value.strip()
    users = list(User.objects.filter(is_active=True).filter(Q(username__iexact=value) | Q(email__iexact=value))[:2])
    if len(users) != 1:
        raise forms.ValidationError("No active person with that username or e-mail.")
    return users[0]


class AssignForm(forms.Form):
    """Assign to a named colleague: the agents who may work this ticket."""

    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label="Colleague", empty_label="Choose…")

    def __init__(self, *args, agents=None, **kwargs):
        super().__init__(*args, **kwargs)
        if agents is not None:
            self.fields["assignee"].queryset = agents


class TransferForm(forms.Form):
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.none(), to_field_name="slug", label="Team", empty_label="Choose…"
    )
    reason = forms.CharField(max_length=300, label="Reason (the receiving team reads it)")

    def __init__(self, *args, queues=None, **kwargs):
        super().__init__(*args, **kwargs)
        if queues is not None:
            self.fields["queue"].queryset = queues


class CategoryForm(forms.Form):
    category = forms.ModelChoiceField(
        queryset=active_categories(), to_field_name="slug", label="Category", empty_label="Choose…"
    )


class WatcherForm(forms.Form):
    add = forms.CharField(
        required=False,
        label="Add a watcher",
        help_text="Username or e-mail; they are told about replies and changes.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
    )
    remove = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_add(self):
        value = self.cleaned_data["add"]
        return _person(value) if value.strip() else None

    def clean_remove(self):
        value = self.cleaned_data["remove"]
        return _person(value) if value.strip() else None

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("add") and not data.get("remove"):
            self.add_error("add", "Type the username or e-mail of the person to add.")
        return data


class TicketRefForm(forms.Form):
    """Another ticket by reference or number, among those the user may see (set by the view)."""

    ticket = forms.CharField(label="Ticket", max_length=20, widget=forms.TextInput(attrs={"placeholder": "HD-000123"}))
    unlink = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, visible=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.visible = visible

    def clean_ticket(self):
        value = self.cleaned_data["ticket"]
        number = parse_reference(value)
        ticket = self.visible.filter(pk=number).first() if number and self.visible is not None else None
        if ticket is None:
            raise forms.ValidationError(f"No ticket “{value}” that you can see.")
        return ticket


class MergeForm(TicketRefForm):
    ticket = forms.CharField(
        label="Primary ticket", max_length=20, widget=forms.TextInput(attrs={"placeholder": "HD-000123"})
    )
    note = forms.CharField(
        required=False, max_length=1000, label="Note to the requester (optional)", widget=forms.TextInput
    )
