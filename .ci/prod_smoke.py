"""Production-mode smoke test: DEBUG=false, collectstatic, gunicorn on a free loopback port, sign in, headers.

Run by .ci/run (`.venv/bin/python .ci/prod_smoke.py`). Uses its own SQLite database and static root
in a temporary folder, and Celery's file-system broker there, so it needs no service and leaves
nothing behind. Requests carry `X-Forwarded-Proto: https`, as a TLS-terminating proxy would send,
so the production settings (SSL redirect, secure cookies, HSTS) stay as they are in production.
Exits non-zero naming the first thing that is wrong.
"""

import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
USERNAME, PASSWORD = "smoke-agent", secrets.token_urlsafe(16)


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Just enough of a browser: cookies (Secure ones too, we are 'behind' TLS), no redirects followed."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))

    def request(self, path, data=None, headers=None):
        headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            response = self.opener.open(req, timeout=20)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, response.read().decode("utf-8", "replace")


def check_security_headers(path, headers):
    csp = headers.get("Content-Security-Policy", "")
    check(
        "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0],
        f"{path}: CSP missing or allows inline script: {csp!r}",
    )
    check("max-age=" in headers.get("Strict-Transport-Security", ""), f"{path}: no HSTS header")
    check(headers.get("X-Content-Type-Options") == "nosniff", f"{path}: no X-Content-Type-Options: nosniff")
    check(headers.get("X-Frame-Options") == "DENY", f"{path}: X-Frame-Options is not DENY")
    check(headers.get("Referrer-Policy") == "same-origin", f"{path}: Referrer-Policy is not same-origin")


def run(env, *args):
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    check(result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def smoke(tmp: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}},
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "CELERY_BROKER_FOLDER": str(tmp / "broker"),
    }
    run(env, "check", "--deploy", "--fail-level", "WARNING")
    run(env, "migrate", "--noinput", "-v", "0")
    run(env, "collectstatic", "--noinput", "-v", "0")
    check((tmp / "static" / "staticfiles.json").exists(), "collectstatic wrote no manifest")
    run(
        env,
        "shell",
        "-c",
        "from tests.factories import UserFactory; from tickets import roles; "
        f"UserFactory(username={USERNAME!r}, first_name='Smoke', last_name='Test', "
        f"password={PASSWORD!r}, role=roles.TIER1_AGENT)",
    )
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "helpdesk.wsgi:application", "--config", "gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        for _ in range(120):
            try:
                if browser.request("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            check(server.poll() is None, "gunicorn exited at start")
            time.sleep(0.5)
        else:
            raise Failed("gunicorn did not answer /healthz within 60 s")

        status, headers, page = browser.request("/login/")
        check(status == 200, f"/login/ answered {status}")
        check_security_headers("/login/", headers)
        check("Demo accounts" not in page, "/login/ advertises the demo accounts without DEMO_DATA=1")
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
        check(stylesheet, "/login/ does not link the hashed (manifest) stylesheet")
        check(browser.request(stylesheet.group(1))[0] == 200, f"{stylesheet.group(1)} is not served")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

        status, headers, _ = browser.request(
            "/login/",
            {"csrfmiddlewaretoken": token, "username": USERNAME, "password": PASSWORD},
            {"Referer": "https://127.0.0.1/login/"},
        )
        check(status == 302, f"signing in answered {status}")
        status, headers, page = browser.request("/desk/")
        check(status == 200, f"/desk/ after signing in answered {status}")
        check("Smoke Test" in page, "/desk/ does not show the signed-in user")
        check_security_headers("/desk/", headers)

        status, headers, body = browser.request("/api/v1/no-such-endpoint/")
        check(status == 404 and headers.get("Content-Type") == "application/json", "unknown /api/ path is not JSON 404")
        status, _, _ = browser.request("/api/v1/tickets/", headers={"Authorization": "Token nope"})
        check(status == 401, f"a bad API token answered {status}")
        status, _, _ = browser.request("/readyz")
        check(status == 200, f"/readyz answered {status}")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    check(" 500 " not in output and "Traceback" not in output, f"gunicorn logged an error:\n{output}")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="handoff-smoke-") as tmp:
        try:
            smoke(Path(tmp))
        except Failed as failure:
            print(f"production smoke test FAILED: {failure}")
            return 1
    print("production smoke test passed: check --deploy, collectstatic, gunicorn, sign-in, security headers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
