"""{% load kb %}: the sanitized Markdown filter and the ticket playbook panel for other pages."""

from django import template

from ..models import StepOutcome
from ..rendering import render_markdown
from ..selectors import ticket_playbooks

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return render_markdown(text)


@register.inclusion_tag("knowledgebase/_ticket_playbook.html", takes_context=True)
def ticket_playbook(context, ticket, next_url=""):
    """{% ticket_playbook ticket %} on the ticket page: steps with their state and tick forms."""
    return {
        "ticket": ticket,
        "playbooks": ticket_playbooks(ticket=ticket),
        "outcomes": StepOutcome.choices,
        "step_errors": {},
        "next": next_url,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }


@register.filter
def trigger_labels(values) -> str:
    """["time_exceeded", "security_concern"] → "Time exceeded, Security / compliance"."""
    from escalation.models import Trigger

    labels = dict(Trigger.choices)
    return ", ".join(str(labels.get(value, value)) for value in values or [])


@register.filter
def trigger_label(value) -> str:
    return trigger_labels([value])
