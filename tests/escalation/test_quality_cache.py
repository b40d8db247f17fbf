"""The handoff quality the Tier 2 queue shows is remembered per process, and never goes stale."""

from dataclasses import replace
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation import handoff as handoff_module
from escalation.handoff import handoff_quality
from tickets.models import Attachment

pytestmark = pytest.mark.django_db

COMPLETE_HANDOFF = {
    "problem_summary": "Shared drive refuses access for the finance team since the migration.",
    "steps_tried": "Checked group membership in AD; remapped the drive; rebooted the laptop.",
    "error_evidence": "Access is denied. (0x80070005)",
    "affected_scope": "team",
    "affected_count": 4,
    "urgency": "slowed",
}


@pytest.fixture(autouse=True)
def empty_cache():
    handoff_module._QUALITY_CACHE.clear()
    yield
    handoff_module._QUALITY_CACHE.clear()


def _statuses(quality):
    return {q.name: q.status for q in quality}


def _uncached(escalation, ticket):
    handoff_module._QUALITY_CACHE.clear()
    return handoff_quality(escalation, ticket)


def test_a_second_look_answers_from_memory_with_the_same_answer(ticket, monkeypatch):
    escalation = SimpleNamespace(**COMPLETE_HANDOFF)
    first = handoff_quality(escalation, ticket)
    judged = []
    monkeypatch.setattr(handoff_module, "handoff_verdicts", lambda **kwargs: judged.append(kwargs))
    assert handoff_quality(escalation, ticket) == first
    assert judged == []  # not judged again
    assert _statuses(first) == dict.fromkeys(_statuses(first), "complete")


@pytest.mark.parametrize(
    "change",
    [
        {"problem_summary": "broken"},
        {"steps_tried": "n/a"},
        {"error_evidence": ""},
        {"affected_scope": ""},
        {"affected_count": 0},
        {"urgency": ""},
    ],
)
def test_an_edited_handoff_is_judged_afresh(ticket, change):
    complete = handoff_quality(SimpleNamespace(**COMPLETE_HANDOFF), ticket)
    edited = SimpleNamespace(**{**COMPLETE_HANDOFF, **change})
    quality = handoff_quality(edited, ticket)
    assert quality != complete  # one field is no longer complete
    assert quality == _uncached(edited, ticket)


def test_a_retitled_ticket_is_judged_afresh(ticket):
    escalation = SimpleNamespace(**COMPLETE_HANDOFF)
    assert _statuses(handoff_quality(escalation, ticket))["steps_tried"] == "complete"
    retitled = replace_title(ticket, escalation.steps_tried)
    after = handoff_quality(escalation, retitled)
    assert after == _uncached(escalation, retitled)
    assert _statuses(after)["steps_tried"] == "weak"  # now it only repeats the title


def replace_title(ticket, title):
    ticket.title = title
    return ticket


def test_evidence_pointing_at_an_attachment_follows_the_ticket_s_files(ticket, agent):
    escalation = SimpleNamespace(**{**COMPLETE_HANDOFF, "error_evidence": "See the attached screenshot."})
    assert _statuses(handoff_quality(escalation, ticket))["error_evidence"] == "weak"  # nothing attached
    Attachment.objects.create(
        ticket=ticket, file="a/shot.png", filename="shot.png", content_type="image/png", size=10, uploaded_by=agent
    )
    with CaptureQueriesContext(connection) as queries:
        quality = handoff_quality(escalation, ticket)
    assert _statuses(quality)["error_evidence"] == "complete"
    assert len(queries) == 1  # asked the database again, not the cache


def test_the_cache_is_bounded(ticket, monkeypatch):
    monkeypatch.setattr(handoff_module, "QUALITY_CACHE_SIZE", 3)
    for n in range(7):
        handoff_quality(SimpleNamespace(**{**COMPLETE_HANDOFF, "problem_summary": f"VPN drops, case {n}"}), ticket)
        assert len(handoff_module._QUALITY_CACHE) <= 3


def test_the_answer_is_a_copy(ticket):
    escalation = SimpleNamespace(**COMPLETE_HANDOFF)
    first = handoff_quality(escalation, ticket)
    first[0] = replace(first[0], status="missing")
    assert handoff_quality(escalation, ticket)[0].status == "complete"
