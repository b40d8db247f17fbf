"""The one conditions matcher and the one priority ordering (routing, trigger rules, SLA policies)."""

import pytest

from tickets import priorities
from tickets.conditions import Conditions, Facts, matches, why_matched
from tickets.models import Priority


def facts(**changes):
    base = {
        "category_id": 7,
        "title": "VPN drops",
        "description": "Every ten minutes the tunnel goes down.",
        "priority": "P3",
        "requester": lambda: pytest.fail("the requester is read only when a condition needs it"),
        "site_id": 2,
        "tier": 1,
        "impact": "team",
        "reopen_count": 0,
    }
    return Facts(**{**base, **changes})


def test_the_ordering_is_the_priority_choices_most_severe_first():
    assert tuple(Priority.values) == priorities.ORDER
    assert priorities.is_more_severe("P1", than="P2") and not priorities.is_more_severe("P3", than="P3")
    assert priorities.at_least("P2", "P2") and priorities.at_least("P1", "P3") and not priorities.at_least("P4", "P3")
    assert priorities.most_severe("P3", "P1", "P4") == "P1"
    assert [priorities.one_step_up(p) for p in ("P4", "P2", "P1")] == ["P3", "P1", "P1"]


def test_no_condition_never_matches():
    assert not matches(Conditions(), facts())


def test_every_set_condition_must_hold_and_says_why():
    rule = Conditions(category_id=7, keywords=("printer", "tunnel"), min_priority="P3", tier=1, site_id=2)
    assert why_matched(rule, facts()) == "category 7, Tier 1, priority P3 (at least P3), keyword “tunnel”, site 2"
    assert not matches(rule, facts(priority="P4"))  # less severe than the floor
    assert matches(rule, facts(priority="P1"))  # more severe: still at least P3
    assert not matches(rule, facts(site_id=3))
    assert not matches(rule, facts(description="Nothing relevant", title="Hello"))


def test_the_requester_and_the_time_in_tier_are_asked_only_when_needed():
    class Person:
        is_vip = True
        department = "Finance"

    rule = Conditions(requester_is_vip=True, department="finance", min_minutes_in_tier=30)
    assert matches(rule, facts(requester=lambda: Person(), minutes_in_tier=lambda: 45))
    assert not matches(rule, facts(requester=lambda: Person(), minutes_in_tier=lambda: 10))
    assert matches(Conditions(impact="team"), facts())  # the requester was never read
