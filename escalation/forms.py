"""Page forms for the handoff, the return and the rating.

They shape input only; the substance rules live in escalation.handoff and are
enforced by the services, whose field-by-field errors the views put back on
these forms (one set of rules for pages and API).
"""

from django import forms

from tickets.models import Impact, Queue, Ticket, Tier, Urgency

from .handoff import MAX_AFFECTED, Handoff, checklist_items_for
from .models import HANDOFF_FIELD_LABELS, HANDOFF_FIELDS, ReturnReason, Trigger

CHECKLIST_PREFIX = "checklist_"


class HandoffForm(forms.Form):
    trigger = forms.ChoiceField(
        label="Trigger", choices=[("", "— choose why Tier 2 is needed —"), *Trigger.choices], required=False
    )
    problem_summary = forms.CharField(
        label=HANDOFF_FIELD_LABELS["problem_summary"],
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The symptom, in your words.",
    )
    steps_tried = forms.CharField(
        label=HANDOFF_FIELD_LABELS["steps_tried"],
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Steps taken and what each one showed (ticked playbook steps are filled in).",
    )
    error_evidence = forms.CharField(
        label=HANDOFF_FIELD_LABELS["error_evidence"],
        required=False,
        strip=False,  # stored exactly as pasted
        widget=forms.Textarea(attrs={"rows": 8, "class": "monospace", "spellcheck": "false", "wrap": "off"}),
        help_text="Paste the exact error or log excerpt. Attach screenshots to the ticket.",
    )
    affected_scope = forms.ChoiceField(
        label=HANDOFF_FIELD_LABELS["affected_scope"], choices=[("", "— choose —"), *Impact.choices], required=False
    )
    affected_count = forms.IntegerField(label="How many people (if known)", required=False, max_value=MAX_AFFECTED)
    urgency = forms.ChoiceField(
        label=HANDOFF_FIELD_LABELS["urgency"], choices=[("", "— choose —"), *Urgency.choices], required=False
    )

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        self.checklist_items = checklist_items_for(ticket.category_id)
        for item in self.checklist_items:
            self.fields[CHECKLIST_PREFIX + item.key] = forms.CharField(
                label=item.question, required=False, strip=False, help_text="Required." if item.required else ""
            )

    @property
    def checklist_fields(self):
        return [self[CHECKLIST_PREFIX + item.key] for item in self.checklist_items]

    def handoff(self) -> Handoff:
        data = self.cleaned_data
        return Handoff(
            problem_summary=data.get("problem_summary") or "",
            steps_tried=data.get("steps_tried") or "",
            error_evidence=data.get("error_evidence") or "",
            affected_scope=data.get("affected_scope") or "",
            affected_count=data.get("affected_count"),
            urgency=data.get("urgency") or "",
            checklist={item.key: data.get(CHECKLIST_PREFIX + item.key) or "" for item in self.checklist_items},
        )

    def field_for_error(self, key: str) -> str:
        """The service names checklist answers "checklist.<key>"; here they are fields (for add_domain_error)."""
        return CHECKLIST_PREFIX + key.removeprefix("checklist.") if key.startswith("checklist.") else key


class CompleteHandoffForm(HandoffForm):
    """The handoff without the trigger, prefilled with what the escalation already carries."""

    def __init__(self, *args, ticket: Ticket, escalation, **kwargs):
        initial = {
            "problem_summary": escalation.problem_summary,
            "steps_tried": escalation.steps_tried,
            "error_evidence": escalation.error_evidence,
            "affected_scope": escalation.affected_scope,
            "affected_count": escalation.affected_count,
            "urgency": escalation.urgency,
            **{CHECKLIST_PREFIX + key: answer for key, answer in (escalation.checklist or {}).items()},
        }
        super().__init__(*args, ticket=ticket, initial=initial, **kwargs)
        del self.fields["trigger"]


class ReturnForm(forms.Form):
    reason = forms.ChoiceField(label="Why it goes back", choices=ReturnReason.choices, widget=forms.RadioSelect)
    note = forms.CharField(label="Note to Tier 1", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    missing_fields = forms.MultipleChoiceField(
        label="What is missing from the handoff",
        choices=[(name, HANDOFF_FIELD_LABELS[name]) for name in HANDOFF_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    kb_reference = forms.CharField(
        label="Article or playbook that solves it", max_length=500, required=False, help_text="A title or a link."
    )
    team = forms.ModelChoiceField(
        label="The team that should take it",
        queryset=Queue.objects.none(),
        required=False,
        empty_label="— choose a Tier 2 team —",
        help_text="It stays escalated and goes to that team's queue; the SLA clocks keep running.",
    )

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Queue.objects.filter(tier=Tier.TWO).exclude(pk=ticket.queue_id).order_by("name")


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Handoff quality",
        coerce=int,
        choices=[(5, "5 · everything needed"), (4, "4"), (3, "3"), (2, "2"), (1, "1 · unusable")],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label="Comment for Tier 1", required=False, widget=forms.Textarea(attrs={"rows": 3}))
