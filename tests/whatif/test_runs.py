"""Long periods: a WhatIfRun a worker computes, with progress the page polls."""

import pytest
import time_machine

from escalation.whatif import tasks
from escalation.whatif.models import RunStatus, WhatIfRun
from escalation.whatif.services import whatif_run_execute
from tests.dashboard.conftest import NOW, VIEWER_ZONE

URL = "/api/v1/metrics/sla/what-if/"
BODY = {
    "from": "2025-01-06",
    "to": "2025-01-12",
    "changes": [{"priority": "P4", "target": "resolution", "business_minutes": 60}],
}


@pytest.fixture
def queued(monkeypatch):
    """The enqueued run ids (the worker is played by the test)."""
    sent = []
    monkeypatch.setattr(tasks.whatif_run_task, "delay", lambda run_id: sent.append(run_id))
    return sent


def test_a_long_period_runs_in_the_background_and_answers_the_same(
    week, viewer, api_for, settings, queued, django_capture_on_commit_callbacks
):
    client = api_for(viewer)
    with time_machine.travel(NOW, tick=False):
        inline = client.post(URL, BODY, format="json").json()
        settings.WHATIF_INLINE_TICKETS = 3  # the week replays 8 tickets
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, BODY, format="json")
        assert response.status_code == 202, response.content
        run = response.json()
        assert run["status"] == "queued" and run["total"] == 8 and run["percent"] == 0
        assert queued == [run["id"]]
        assert response["Location"] == run["url"]
        # Polling before the worker starts: still queued, no result yet.
        assert "result" not in client.get(run["url"]).json()

        tasks.whatif_run_task.apply(args=[run["id"]])
        polled = client.get(run["url"]).json()
    assert polled["status"] == "done" and polled["percent"] == 100 and polled["done"] == 8
    assert polled["result"]["tickets"] == inline["tickets"]
    assert polled["result"]["proposed"] == inline["proposed"]
    assert polled["result"]["current"] == inline["current"]


def test_a_run_is_claimed_once(week, viewer):
    run = WhatIfRun.objects.create(requested_by=viewer, params={**BODY, "filters": {}, "time_zone": VIEWER_ZONE})
    with time_machine.travel(NOW, tick=False):
        assert whatif_run_execute(run_id=str(run.pk)) is not None
        # A second delivery of the same message finds it no longer queued and does nothing.
        assert whatif_run_execute(run_id=str(run.pk)) is None
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert {row["reference"] for row in run.result["tickets"]} == {week.b.reference, week.d.reference}


def test_only_the_requester_sees_a_run(week, viewer, admin_user, agent, api_for):
    run = WhatIfRun.objects.create(requested_by=viewer, params={**BODY, "filters": {}})
    url = f"{URL}runs/{run.pk}/"
    assert api_for(viewer).get(url).status_code == 200
    assert api_for(admin_user).get(url).status_code == 404
    assert api_for(agent).get(url).status_code == 403


def test_a_failed_run_says_so(viewer, api_for, monkeypatch):
    from escalation.whatif import services

    def boom(**kwargs):
        raise RuntimeError("calendar has no working time")

    monkeypatch.setattr(services, "what_if", boom)
    run = WhatIfRun.objects.create(requested_by=viewer, params={**BODY, "filters": {}})
    with pytest.raises(RuntimeError):
        whatif_run_execute(run_id=str(run.pk))
    polled = api_for(viewer).get(f"{URL}runs/{run.pk}/").json()
    assert polled["status"] == "failed"
    assert "error" in polled
