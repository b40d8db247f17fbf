"""The list rows' helpers answer as the tags they replace: row_url as {% url %}, the countdown
chip's markup escaped as format_html escaped it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import timezone

from tickets.templatetags.workspace import countdown_chip, row_url

TICKET_PAGES = ("ticket-detail", "ticket-accept", "ticket-return", "ticket-rate")


@pytest.mark.parametrize("name", TICKET_PAGES)
def test_row_url_is_the_url_tag_for_any_ticket_number(name):
    for number in (1, 42, 98765, 987654321987654):
        assert row_url(name, number) == reverse(name, args=[number])


def test_row_url_follows_the_script_prefix_the_app_is_served_under():
    set_script_prefix("/helpdesk/")
    try:
        assert row_url("ticket-detail", 7) == reverse("ticket-detail", args=[7]) == "/helpdesk/tickets/7/"
    finally:
        set_script_prefix("/")
    assert row_url("ticket-detail", 7) == "/tickets/7/"


def test_row_url_refuses_a_page_that_takes_no_ticket_number():
    with pytest.raises(NoReverseMatch):
        row_url("desk", 7)


def test_countdown_chip_escapes_its_words_and_label():
    due = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    with time_machine.travel(due - timedelta(seconds=30), tick=False), timezone.override(UTC):
        chip = countdown_chip(due, label="Fix & <check>")
        overdue = countdown_chip(due - timedelta(hours=3))
    assert chip == (
        '<span class="chip chip-soon" data-due="2026-11-30T16:00:00+00:00" data-label="Fix &amp; &lt;check&gt;" '
        'title="Mon 30 Nov, 16:00 UTC">Fix &amp; &lt;check&gt; due in &lt; 1 min</span>'
    )
    assert overdue == (
        '<span class="chip chip-overdue" data-due="2026-11-30T13:00:00+00:00" data-label="" '
        'title="Mon 30 Nov, 13:00 UTC">overdue 2 h 59 min</span>'  # 2 h 59 min 30 s
    )
