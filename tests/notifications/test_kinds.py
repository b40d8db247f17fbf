"""Every notification kind is in the enum, with a subject; a kind outside it is refused loudly."""

import pytest

from tickets.notifications.models import NotificationKind
from tickets.notifications.services import SUBJECTS, Notice


def test_every_kind_has_a_subject_and_rule_fired_and_reassigned_are_kinds():
    assert set(SUBJECTS) == set(NotificationKind)
    assert {"rule_fired", "reassigned", "on_call_page"} <= set(NotificationKind.values)


def test_a_kind_outside_the_enum_is_a_programming_error():
    with pytest.raises(ValueError):
        Notice(event=None, kind="misc")
    assert Notice(event=None, kind="rule_fired").kind is NotificationKind.RULE_FIRED
