"""The arrival page, the notice, production's refusals and the ``ennakko portal`` command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.portal.support import free_port

PYTHON = sys.executable


@pytest.mark.django_db  # the arrival is counted (day, channel, step: no cookie)
def test_arrival_page_in_finnish_without_cookies_or_scripts(client) -> None:
    page = client.get("/?c=jodel")
    assert page.status_code == 200
    assert page["Content-Language"] == "fi"
    html = page.content.decode()
    assert '<html lang="fi">' in html
    assert "Haluatko, että ohjaaja ottaa sinuun yhteyttä?" in html
    assert "Helsingin kaupungin työllisyyspalvelut" in html  # who runs it
    assert "Ammattiopisto" in html  # which data (the partners' names)
    assert "ohjaaja näkee" in html  # and why
    assert "Ihminen, ei koskaan kone, päättää" in html
    assert 'href="/tietosuoja/?lang=fi"' in html
    assert 'href="/oidc/authenticate/?c=jodel"' in html  # the channel into the login
    assert "<script" not in html.lower()
    assert not page.cookies  # nothing stored on the device before login
    assert "Set-Cookie" not in page.headers


@pytest.mark.parametrize(
    ("query", "headers", "heading"),
    [
        ("?c=school&lang=sv", {}, "Vill du att en handledare kontaktar dig?"),
        ("?c=poster&lang=en", {}, "Would you like a counsellor to get in touch with you?"),
        ("?c=ohjaamo", {"Accept-Language": "sv-FI,sv;q=0.9"}, "Vill du att en handledare"),
        ("?c=outreach&lang=de", {}, "Haluatko, että ohjaaja ottaa sinuun yhteyttä?"),
    ],
)
@pytest.mark.django_db
def test_arrival_page_languages(client, query: str, headers: dict, heading: str) -> None:
    page = client.get(f"/{query}", headers=headers)
    assert heading in page.content.decode()
    assert not page.cookies


def test_unknown_channels_are_not_echoed(client) -> None:
    html = client.get("/?c=%3Cb%3Ex%3C/b%3E").content.decode()
    assert "<b>x</b>" not in html and "&lt;b&gt;" not in html


@pytest.mark.parametrize(
    ("lang", "heading"), [("fi", "Tietosuojaseloste"), ("sv", "Dataskyddsbeskrivning")]
)
def test_privacy_notice(client, lang: str, heading: str) -> None:
    page = client.get(f"/tietosuoja/?lang={lang}")
    assert page.status_code == 200
    # Long compounds carry a soft hyphen (U+00AD) where a 320 px screen may break them.
    assert f"<h1>{heading}</h1>" in page.content.decode().replace("\u00ad", "")


PRODUCTION_ENV = {
    "PORTAL_PRODUCTION": "1",
    "PORTAL_SECRET_KEY": "s" * 50,
    "PORTAL_ENCRYPTION_KEYS": "a1" * 32,
    "PORTAL_IDENTITY_CODE_HASH_KEY": "b2" * 32,
    "PORTAL_DATABASE_URL": "postgresql://portal:pw@db.example:5432/portal",
    "OIDC_OP_BASE_URL": "https://tunnistus.example/auth/realms/helsinki-tunnistus/protocol/openid-connect",
    "OIDC_RP_CLIENT_SECRET": "real-secret",
    "PORTAL_ALLOWED_HOSTS": "ennakko.example",
}


def import_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "OIDC_"))}
    return subprocess.run(
        [PYTHON, "-c", "import portal.settings as s; print(s.DATABASES['default']['ENGINE'])"],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_demo_values() -> None:
    """One process per case would cost a second each: the cases run in one process."""
    cases = {
        "PORTAL_SECRET_KEY": {"PORTAL_SECRET_KEY": ""},
        "PORTAL_ENCRYPTION_KEYS": {"PORTAL_ENCRYPTION_KEYS": ""},
        "PORTAL_IDENTITY_CODE_HASH_KEY": {"PORTAL_IDENTITY_CODE_HASH_KEY": ""},
        "PORTAL_DATABASE_URL": {"PORTAL_DATABASE_URL": ""},
        "PORTAL_ACCEPT_TEST_CODES": {"PORTAL_ACCEPT_TEST_CODES": "1"},
        "local test provider": {"OIDC_OP_BASE_URL": "http://127.0.0.1:9000"},
    }
    script = f"""
import importlib, os, sys
from django.core.exceptions import ImproperlyConfigured
base = {PRODUCTION_ENV!r}
os.environ.update(base)
import portal.settings as s
assert s.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql", s.DATABASES
assert s.SESSION_COOKIE_SECURE and not s.PORTAL_ACCEPT_TEST_CODES
for name, change in {cases!r}.items():
    os.environ.update(base)
    os.environ.update(change)
    try:
        importlib.reload(s)
    except ImproperlyConfigured as exc:
        print(name, "->", exc)
    else:
        sys.exit(f"production started with {{name}} wrong")
"""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "OIDC_"))}
    done = subprocess.run(
        [PYTHON, "-c", script], env=clean, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr + done.stdout
    refused = done.stdout.splitlines()
    assert len(refused) == len(cases), refused
    for (name, _), line in zip(cases.items(), refused, strict=True):
        assert line.startswith(name), line


def test_the_cli_does_not_import_django() -> None:
    done = subprocess.run(
        [
            PYTHON,
            "-c",
            "import sys, flows.cli; print(sorted(m for m in sys.modules if m.startswith('django')))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_ennakko_portal_starts_and_answers_the_arrival_page(tmp_path) -> None:
    """The first start creates the database in the workspace; a later start reuses it.
    (How fast it answers belongs to a benchmark, not to a test on a shared machine.)"""
    config = tmp_path / "ennakko.yaml"
    config.write_text(
        f"extends: {ROOT / 'configs' / 'demo.yaml'}\n"
        f"workspace: {tmp_path / 'workspace'}\n"
        f"data_dir: {tmp_path / 'data'}\n"
    )
    first, _, _ = start_portal(config)
    assert first.status_code == 200
    assert "Haluatko, että ohjaaja ottaa sinuun yhteyttä?" in first.text
    database = tmp_path / "workspace" / "portal" / "db.sqlite3"
    assert database.is_file()
    created = database.stat().st_ino
    page, _, _ = start_portal(config)
    assert page.status_code == 200 and "set-cookie" not in page.headers
    assert database.stat().st_ino == created


ENNAKKO = str(ROOT / ".venv" / "bin" / "ennakko")


def start_portal(config: Path):
    """Start ``ennakko portal``, wait for ``/?c=jodel``, stop it: the page, the wall time
    and the server's CPU time to that first answer."""
    import requests

    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DJANGO_"))}
    started = time.monotonic()
    server = subprocess.Popen(
        # The provider is not needed here (test_portal_command starts it on a free port).
        [ENNAKKO, "portal", "-c", str(config), "--port", str(port), "--no-test-op"],
        env=clean,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/?c=jodel", timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() - started < 20, "no answer in 20 s"
                time.sleep(0.02)
        return page, time.monotonic() - started, cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
