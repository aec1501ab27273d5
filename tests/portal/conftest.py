"""The portal's test harness: Django settings, a live portal and a real local OpenID provider.

pytest-django picks ``DJANGO_SETTINGS_MODULE`` up when its session fixtures first run,
after collection, so setting it here (at import, during collection) is in time. The two
ports are chosen here too: the provider must know the portal's callback address before
either starts, and the portal's settings must know the provider's.

The provider is ``portal/testop/op.mjs`` (node-oidc-provider, installed by ``make install``
where node is present), started once per test process on a free port with a users file of
fictional test persons written for today's date, and stopped by its own process handle.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from portal.testpersons import years_ago
from tests.conftest import ROOT, require_program, unavailable
from tests.portal.support import OP_PORT, PORTAL_PORT

TESTOP = ROOT / "portal" / "testop"


@dataclass(frozen=True)
class FictionalPerson:
    sub: str
    code: str
    loa: str


def fictional_persons(today: date) -> dict[str, FictionalPerson]:
    """Fictional persons (identity codes 900-999), by the case each one tests."""
    from portal.identity import make_test_code

    def person(n: int, born: date, loa: str = "substantial", code: str | None = None):
        return FictionalPerson(
            f"00000000-0000-4000-8000-{n:012d}", code or make_test_code(born, 900 + n), loa
        )

    ok = make_test_code(years_ago(17, today, days=40), 911)
    return {
        "young": person(1, years_ago(17, today, days=40)),
        "low_loa": person(2, years_ago(20, today), loa="low"),
        "too_old": person(3, years_ago(30, today)),  # 30 today: one day over the range
        "bad_code": person(4, years_ago(20, today), code=ok[:-1] + ("X" if ok[-1] != "X" else "Y")),
        "just_15": person(5, years_ago(15, today)),  # 15 today: the first day in range
    }


@dataclass(frozen=True)
class Provider:
    url: str
    persons: dict[str, FictionalPerson]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Provider:
    """The local OpenID provider on OP_PORT, its users written for today."""
    node = require_program("node", "nodejs", install="apt-get install nodejs npm")
    if not (TESTOP / "node_modules" / "oidc-provider").is_dir():
        raise unavailable("portal/testop has no node_modules (run make install)")
    from django.conf import settings

    from flows import clock

    persons = fictional_persons(clock.today(settings.TIME_ZONE))
    folder = tmp_path_factory.mktemp("testop")
    users = folder / "users.json"
    users.write_text(
        json.dumps(
            {
                p.sub: {
                    "claims": {
                        "given_name": "Testi",
                        "family_name": case,
                        "national_id_num": p.code,
                        "loa": p.loa,
                        "amr": ["suomi_fi"],
                    }
                }
                for case, p in persons.items()
            }
        )
    )
    url = f"http://127.0.0.1:{OP_PORT}"
    portal = f"http://127.0.0.1:{PORTAL_PORT}"
    env = {
        **os.environ,
        "OP_PORT": str(OP_PORT),
        "OP_USERS": str(users),
        "OP_CLIENT_SECRET": settings.OIDC_RP_CLIENT_SECRET,
        "OP_REDIRECT_URIS": f"{portal}/oidc/callback/",
        "OP_POST_LOGOUT_URIS": f"{portal}/",
    }
    log = (folder / "op.log").open("w")
    process = subprocess.Popen(
        [node, str(TESTOP / "op.mjs")], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(f"{url}/.well-known/openid-configuration", process, folder / "op.log")
        yield Provider(url, persons)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 15) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the test OpenID provider exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the test OpenID provider did not answer at {url} in {timeout} s")


@pytest.fixture
def portal_url(live_server, oidc_provider: Provider) -> str:
    """The live portal (its database emptied after each test), with the provider up."""
    assert live_server.url.endswith(f":{PORTAL_PORT}")
    return live_server.url


@pytest.fixture(autouse=True)
def portal_workspace(settings, tmp_path: Path) -> Path:
    """Each test's own workspace for Ennakko's audit log, and its own data folder for the
    exports written after each change (never the demo's)."""
    settings.PORTAL_WORKSPACE = tmp_path / "workspace"
    settings.PORTAL_DATA_DIR = tmp_path / "data"
    return settings.PORTAL_WORKSPACE


PHONE_WIDTH = 320


@contextmanager
def phone(chromium: str) -> Iterator:
    """A Playwright browser context the size of a small phone (320 px, Finnish), on the
    system Chromium. A context manager, not a fixture: the database may be asked only
    once Playwright's event loop has closed (Django refuses it inside one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield browser.new_context(
                viewport={"width": PHONE_WIDTH, "height": 640}, locale="fi-FI"
            )
        finally:
            browser.close()


def log_in_at_provider(
    page, portal_url: str, sub: str, home: tuple[str, str] | None = ("00100", "fi")
) -> None:
    """The provider's development login and consent forms (standing in for Suomi.fi),
    back to the portal's own page; a first login's postal code page gets ``home`` (None:
    stay on that page)."""
    import re

    page.fill("input[name=login]", sub)
    page.fill("input[name=password]", "x")
    page.click("button[type=submit]")
    page.click("button[type=submit]")  # the provider's consent prompt
    page.wait_for_url(re.compile(f"^{re.escape(portal_url)}/(omat-tiedot|postinumero)/"))
    if home and "/postinumero/" in page.url:
        page.fill("#postal_code", home[0])
        page.check(f"#lang-{home[1]}")
        page.click("button[type=submit]")
    if home:
        page.wait_for_url(f"{portal_url}/omat-tiedot/")
