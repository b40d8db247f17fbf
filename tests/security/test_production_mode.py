"""Production mode starts: static files collect, the key is never a public one, headers and JSON errors hold."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from helpdesk.settings import insecure_secret_key_reason

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "x7Qp2vLm9RtW4sZk8NcB3hJf6YdGa1UeXo5TiKrPqMnVbCwE0lHs"


def test_collectstatic_succeeds_with_the_production_storage(settings, tmp_path):
    """Whitenoise's manifest storage fails on any reference to a missing file (e.g. a source map)."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/chartjs/chart.umd.min.js" in manifest
    assert "css/api-docs.css" in manifest


@pytest.mark.parametrize(
    "key",
    [
        "",
        "dev-only-insecure-key-never-use-in-production",
        "change-me-in-production-please-0123456789abcdefghijklmnop",
        "django-insecure-" + "a1b2c3d4e5" * 5,
        "short-but-random-9f8e7d",
        "a" * 60,
    ],
)
def test_an_insecure_secret_key_is_refused(key):
    assert insecure_secret_key_reason(key)


def test_a_long_random_secret_key_is_accepted():
    assert insecure_secret_key_reason(GOOD_KEY) is None


def _start_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_to_load_with_a_published_key():
    refused = _start_settings(DEBUG="false", SECRET_KEY="change-me-in-production-please-0123456789abcdefghijklmnop")
    assert refused.returncode != 0
    assert "SECRET_KEY is a published example key" in refused.stderr
    assert _start_settings(DEBUG="false").returncode != 0
    assert _start_settings(DEBUG="false", SECRET_KEY=GOOD_KEY).returncode == 0


def test_docker_compose_needs_a_secret_key_and_seeds_demo_users_only_when_asked():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["x-app"]["environment"]
    # `${VAR:?message}` makes compose refuse to start when the variable is unset or empty.
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", env["SECRET_KEY"])
    assert env["DEMO_DATA"] == "${DEMO_DATA:-0}"
    migrate = compose["services"]["migrate"]["command"]
    seed_at = migrate.index("seed_demo")
    assert 'if [ \\"$$DEMO_DATA\\" = 1 ]; then' in migrate[:seed_at]


def test_pages_carry_a_csp_without_inline_script(client):
    response = client.get("/login/")
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy["style-src"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


TEMPLATES = sorted((ROOT / "templates").rglob("*.html")) + sorted(ROOT.glob("*/templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\s(on[a-z]+|hx-on[:-][a-z:-]*)\s*=", re.I)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_or_event_handler_attributes(template):
    """The CSP refuses them in the browser; this names the template before anyone opens the page."""
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it into a static JS file"
    assert not INLINE_HANDLER.search(text), "on*= handler attribute: bind the event in a static JS file"


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_path_answers_json_404(client, settings, debug):
    settings.DEBUG = debug
    for path in ["/api/nope", "/api/v1/no-such-thing/", "/api/v1/tickets/abc/"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json", path
        assert response.json() == {"detail": "Not found."}


def test_the_sign_in_page_lists_demo_accounts_only_where_they_exist(client, settings):
    settings.SHOW_DEMO_ACCOUNTS = False
    assert "Demo accounts" not in client.get("/login/").content.decode()
    settings.SHOW_DEMO_ACCOUNTS = True
    assert "Demo accounts" in client.get("/login/").content.decode()
