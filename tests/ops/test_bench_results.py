"""A partial bench run (--only) replaces its own rows in latest.json, even when their names carry new figures."""

import json

from bench import run


def row(name: str, value: float) -> dict:
    return {"name": name, "tickets": 20030, "value": value, "unit": "s", "budget": 1, "pass": True}


def test_a_partial_run_replaces_a_scenario_whose_name_carries_other_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    monkeypatch.setattr(run, "README", tmp_path / "README.md")
    (tmp_path / "README.md").write_text("untouched\n")
    (tmp_path / "latest.json").write_text(
        json.dumps({"scenarios": [row("dashboard, 90 days", 0.1), row("sweep: 1002 newly due among 85649 open", 0.9)]})
    )

    run._write([row("sweep: 1000 newly due among 87649 open", 0.5)], tickets=20030, minutes=1.0, partial=True)

    written = json.loads((tmp_path / "latest.json").read_text())["scenarios"]
    assert [(r["name"], r["value"]) for r in written] == [
        ("dashboard, 90 days", 0.1),
        ("sweep: 1000 newly due among 87649 open", 0.5),
    ]
    assert (tmp_path / "README.md").read_text() == "untouched\n"  # only a complete run rewrites the README's table
