from django import forms

from tickets.models import Category

from .models import StepOutcome


class SearchForm(forms.Form):
    q = forms.CharField(label="Search the knowledge base", required=False, max_length=500)
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True), required=False, to_field_name="slug", empty_label="Any"
    )


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    category = forms.ModelChoiceField(queryset=Category.objects.filter(is_active=True), required=False)
    tags = forms.CharField(max_length=300, required=False, help_text="Comma-separated, e.g. “vpn, certificate”.")
    body_markdown = forms.CharField(
        label="Body (Markdown)", widget=forms.Textarea(attrs={"rows": 20}), help_text="Raw HTML is shown as text."
    )
    is_public = forms.BooleanField(required=False, label="Visible to requesters", help_text="When published.")
    note = forms.CharField(max_length=200, required=False, label="What changed (for the history)")


class StepTickForm(forms.Form):
    outcome = forms.ChoiceField(choices=StepOutcome.choices, initial=StepOutcome.SUCCEEDED)
    result = forms.CharField(required=False, max_length=2000, widget=forms.TextInput())
