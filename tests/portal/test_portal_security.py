"""Safe by construction: headers on every address, private pages not stored, rate limits,
kind error pages that echo nothing, and logs without identifiers (issue 14 item 8)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from portal.logfilter import Redact, redact
from portal.models import ConsentRecord, Person
from tests.conftest import ROOT
from tests.portal.support import log_in, logged_in_person
from tests.portal.test_portal_pages import PRODUCTION_ENV

SAMPLE = {"uuid": str(uuid.uuid4()), "str": "v1", "path": "portal/portal.css", "int": "1"}


def addresses(patterns=None, prefix: str = "") -> list[str]:
    """Every address in portal/urls.py (included ones too), converters filled with samples."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += addresses(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            found.append(
                "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
            )
    return [a.replace("^", "").replace("$", "") for a in found]


@pytest.fixture
def person(client) -> Person:
    return logged_in_person(client, 77, "010106A9776", team=None)


@pytest.fixture(autouse=True)
def fresh_counters() -> None:
    cache.clear()


def assert_safe_headers(response, address: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    assert policy, address
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, address
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'none'", address
    assert directives["style-src"] == "'self'", address
    assert directives["frame-ancestors"] == "'none'", address
    assert directives["base-uri"] == "'none'", address
    assert directives["default-src"] == "'self'", address
    assert response["X-Frame-Options"] == "DENY", address
    assert response["X-Content-Type-Options"] == "nosniff", address
    assert response["Referrer-Policy"] == "same-origin", address
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", address


@pytest.mark.django_db
def test_every_address_answers_with_the_security_headers(client, person) -> None:
    urls = addresses()
    assert "/suostumus/" in urls and "/oidc/authenticate/" in urls and len(urls) >= 10
    anonymous = Client(raise_request_exception=False)
    client.raise_request_exception = False
    for address in urls:
        assert_safe_headers(anonymous.get(address), address)
        answer = client.get(address)
        assert_safe_headers(answer, address)
        if not address.startswith(("/static/", "/gdpr-api/")):  # the API wants a token
            assert "no-store" in answer.get("Cache-Control", ""), address
    assert "no-store" not in anonymous.get("/").get("Cache-Control", "")  # public page
    api = anonymous.get(
        next(a for a in urls if a.startswith("/gdpr-api/")), HTTP_AUTHORIZATION="Bearer x"
    )
    assert "no-store" in api.get("Cache-Control", "")


@pytest.mark.django_db
def test_the_pages_carry_no_inline_style_and_the_stylesheet_is_served(client, person) -> None:
    html = client.get("/suostumus/?lang=en").content.decode()
    assert "<style" not in html and " style=" not in html and "<script" not in html
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)
    sheet = client.get(href)
    assert sheet.status_code == 200 and sheet["Content-Type"].startswith("text/css")
    assert b"box-sizing" in b"".join(sheet.streaming_content)


@pytest.mark.django_db
def test_the_eleventh_login_start_in_a_minute_is_refused_kindly(client, settings) -> None:
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "login": 10}
    answers = [client.get("/oidc/authenticate/?lang=sv") for _ in range(11)]
    assert [a.status_code for a in answers[:10]] == [302] * 10
    refused = answers[10]
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    html = refused.content.decode()
    assert '<html lang="sv">' in html and 'href="/"' in html
    assert "lang=sv" not in html.split("<main>")[1].split("</main>")[0]  # nothing echoed
    assert_safe_headers(refused, "429")
    # Another person (another session) is not affected.
    assert Client().get("/oidc/authenticate/").status_code == 302


@pytest.mark.django_db
def test_starts_without_a_session_share_a_coarse_bucket_and_store_no_address(settings) -> None:
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "anonymous": 3}
    codes = []
    for _ in range(4):  # a fresh client each time: no session, no cookie kept
        codes.append(Client(REMOTE_ADDR="10.1.2.3").get("/oidc/callback/").status_code)
    assert codes[:3] != [429] * 3 and codes[3] == 429
    keys = list(cache._cache)  # LocMemCache's keys: counters only, no address
    assert keys and not [k for k in keys if "10.1.2.3" in k]


@pytest.mark.django_db
def test_form_posts_are_limited_per_session_and_store_nothing(client, person, settings) -> None:
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "form": 2}
    data = {"purpose": ["scoring"], "notice": "not-the-shown-one"}
    codes = [client.post("/suostumus/?lang=en", data).status_code for _ in range(3)]
    assert codes == [409, 409, 429]
    assert ConsentRecord.objects.count() == 0


@pytest.mark.django_db
def test_a_tampered_csrf_token_gets_the_kind_page_and_stores_nothing(person) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person.user)
    page = browser.get("/suostumus/?lang=en").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    notice = re.search(r'name="notice" value="([^"]+)"', page).group(1)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    data = {"csrfmiddlewaretoken": tampered, "purpose": ["scoring"], "notice": notice}
    answer = browser.post("/suostumus/?lang=en", data)
    html = answer.content.decode()
    assert answer.status_code == 403
    assert "The form could not be sent" in html and "Nothing was saved." in html
    assert tampered not in html and "CSRF" not in html and 'href="/"' in html
    assert_safe_headers(answer, "csrf")
    assert ConsentRecord.objects.count() == 0
    ok = browser.post("/suostumus/?lang=en", {**data, "csrfmiddlewaretoken": token})
    assert ok.status_code == 302 and ConsentRecord.objects.count() == 1  # the form works


@pytest.mark.django_db
def test_error_pages_are_kind_and_echo_nothing(client, rf) -> None:
    from django.views import defaults

    probe = "EN0123456789"
    missing = client.get(f"/ei-ole-{probe}/?lang=en&q=010106A9776")
    html = missing.content.decode()
    assert missing.status_code == 404 and "Page not found" in html
    assert probe not in html and "010106A9776" not in html and "ei-ole" not in html
    request = rf.get(f"/x-{probe}/")
    for view, status, words in (
        (lambda r: defaults.bad_request(r, ValueError(probe)), 400, "could not be opened"),
        (lambda r: defaults.permission_denied(r, PermissionError(probe)), 403, "not open"),
        (defaults.server_error, 500, "Something went wrong"),
    ):
        answer = view(request)
        body = answer.content.decode()
        assert answer.status_code == status and words in body, status
        assert probe not in body and 'href="/"' in body, status


def test_the_log_filter_drops_query_strings_and_identifiers() -> None:
    line = (
        '"GET /oidc/callback/?code=abc123&state=xyz HTTP/1.1" 302 EN0A1B2C3D4E '
        "010106A9776 nuori@example.fi +358 40 123 4567"
    )
    cleaned = redact(line)
    assert "code=" not in cleaned and "abc123" not in cleaned and "/oidc/callback/" in cleaned
    for secret in ("EN0A1B2C3D4E", "010106A9776", "nuori@example.fi", "123 4567"):
        assert secret not in cleaned, secret
    assert cleaned.endswith('HTTP/1.1" 302 ‹hidden› ‹hidden› ‹hidden› ‹hidden›')


def test_every_portal_and_django_handler_redacts() -> None:
    """The portal's handlers come first on each logger (the test harness may add its own
    after them): the record is redacted before any other handler sees it."""
    names = ["django", "django.server", "portal", "mozilla_django_oidc"]
    for name in names:
        handlers = logging.getLogger(name).handlers
        assert handlers, name
        assert any(isinstance(f, Redact) for f in handlers[0].filters), name


@pytest.mark.django_db(transaction=True)
def test_a_logged_journey_holds_no_identifier(portal_url, oidc_provider, caplog) -> None:
    """Login, consent, a wrong form and a missing page: the captured log (every record,
    after the portal's handlers) holds no identity code, pseudonym, name or ``code=``."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="urllib3")  # the test's own client, not the portal
    young = oidc_provider.persons["young"]
    session, _ = log_in(portal_url, young.sub)
    page = session.get(f"{portal_url}/suostumus/?lang=en").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    notice = re.search(r'name="notice" value="([^"]+)"', page).group(1)
    form = {"csrfmiddlewaretoken": token, "notice": notice, "purpose": ["scoring"]}
    saved = session.post(f"{portal_url}/suostumus/?lang=en", data=form)
    assert saved.status_code == 200 and "/kuitti/" in saved.url
    session.post(f"{portal_url}/suostumus/", data={**form, "csrfmiddlewaretoken": "x" * 64})
    session.get(f"{portal_url}/kuitti/{uuid.uuid4()}/?code=secret-code&state=s")
    pseudonym = Person.objects.get().person_id
    # What a careless line would leak, through the portal's own logger.
    logging.getLogger("portal.test").warning(
        "callback /oidc/callback/?code=secret-code for %s %s", young.code, pseudonym
    )
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "Not Found" in text and "Forbidden (CSRF" in text  # the journey was logged
    for secret in (young.code, pseudonym, "Testi", "code=", "secret-code"):
        assert secret not in text, secret


def test_check_deploy_is_clean_in_production() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "OIDC_"))}
    env.update(PRODUCTION_ENV)
    env.update(
        {
            "PORTAL_SECRET_KEY": "k7#Vq2!pZr9@xL4$wN8^mT1&cY6*bH3(dJ5)fG0_sA" + "e" * 10,
            "PORTAL_GDPR_ISSUER": "https://tunnistus.example/auth/realms/helsinki-tunnistus",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "no issues" in done.stdout


def test_the_browser_applies_the_stylesheet_under_the_policy(chromium: str, live_server) -> None:
    """Only a browser enforces the policy: the page is styled (the stylesheet loaded) and
    Chromium reports no Content-Security-Policy violation."""
    from tests.portal.conftest import phone

    with phone(chromium) as context:
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{live_server.url}/?c=jodel")
        border = page.evaluate(
            "getComputedStyle(document.querySelector('header')).borderBottomColor"
        )
        assert border == "rgb(0, 0, 191)"
        page.goto(f"{live_server.url}/ei-ole/")
        assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"
    assert not [m for m in console if "Content Security Policy" in m]
