"""Logging in to the portal through a real OpenID provider (portal/testop), with requests.

A person in range with strong identification gets a Person with the identity code only
encrypted and a fresh pseudonym; low assurance, an age out of range or a bad identity
code get a kind page in Finnish, and nothing about them is stored.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection

from portal.models import Person, User
from tests.portal.support import log_in

PSEUDONYM = re.compile(r"EN[0-9A-F]{10}")


def stored_rows() -> tuple[int, int]:
    return User.objects.count(), Person.objects.count()


def test_a_young_person_logs_in_and_only_the_encrypted_code_is_kept(
    portal_url, oidc_provider
) -> None:
    person = oidc_provider.persons["young"]
    session, page = log_in(portal_url, person.sub)
    assert page.status_code == 200, page.text[:500]
    assert page.url == f"{portal_url}/omat-tiedot/"
    assert "Olet kirjautunut sisään." in page.text
    assert person.code[:7] + "****" in page.text
    assert person.code not in page.text

    stored = Person.objects.get()
    assert stored.user.uuid.hex == person.sub.replace("-", "")
    assert PSEUDONYM.fullmatch(stored.person_id)
    assert stored.encrypted_identity_code == person.code  # decrypts with the key
    assert Person.objects.filter(identity_code=person.code).get() == stored  # search hash
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_identity_code, identity_code FROM portal_person")
        ciphertext, search_hash = cursor.fetchone()
    raw = bytes(ciphertext)
    assert person.code.encode() not in raw and person.code[:6].encode() not in raw
    assert search_hash.startswith("xx") and person.code not in search_hash

    # The next login finds the same person, pseudonym unchanged.
    _, again = log_in(portal_url, person.sub)
    assert again.url == f"{portal_url}/omat-tiedot/"
    assert stored_rows() == (1, 1)
    assert Person.objects.get().person_id == stored.person_id
    # Logging out (a form post with the CSRF token) ends the session.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    out = session.post(f"{portal_url}/oidc/logout/", data={"csrfmiddlewaretoken": token})
    assert out.url == f"{portal_url}/"
    assert session.get(f"{portal_url}/omat-tiedot/", allow_redirects=False).status_code == 302


def test_fifteen_today_is_in_range(portal_url, oidc_provider) -> None:
    _, page = log_in(portal_url, oidc_provider.persons["just_15"].sub)
    assert page.url == f"{portal_url}/omat-tiedot/"
    assert stored_rows() == (1, 1)


@pytest.mark.parametrize(
    ("case", "explanation"),
    [
        ("low_loa", "vahva tunnistautuminen"),
        ("too_old", "Tämä palvelu on 15–29-vuotiaille."),
        ("bad_code", "Emme voineet tarkistaa henkilötunnustasi."),
    ],
)
def test_a_refused_login_explains_kindly_and_stores_nothing(
    portal_url, oidc_provider, case: str, explanation: str
) -> None:
    person = oidc_provider.persons[case]
    session, page = log_in(portal_url, person.sub)
    assert page.url == f"{portal_url}/kirjautuminen-epaonnistui/"
    assert page.status_code == 403
    assert explanation in page.text
    assert "Emme tallentaneet sinusta mitään." in page.text
    assert person.code not in page.text
    assert stored_rows() == (0, 0)
    # Not logged in: the personal page sends the visitor to log in.
    assert session.get(f"{portal_url}/omat-tiedot/", allow_redirects=False).status_code == 302


def test_test_codes_are_refused_where_not_accepted(portal_url, oidc_provider, settings) -> None:
    settings.PORTAL_ACCEPT_TEST_CODES = False
    _, page = log_in(portal_url, oidc_provider.persons["young"].sub)
    assert page.url == f"{portal_url}/kirjautuminen-epaonnistui/"
    assert stored_rows() == (0, 0)


def test_a_replayed_callback_logs_nobody_in(portal_url, oidc_provider) -> None:
    import requests

    session, page = log_in(portal_url, oidc_provider.persons["young"].sub, home=None)
    callback = next(r.url for r in page.history if "/oidc/callback/" in r.url)
    stranger = requests.get(callback, timeout=10)
    assert stranger.url == f"{portal_url}/kirjautuminen-epaonnistui/"
    replay = session.get(callback, allow_redirects=False, timeout=10)
    assert replay.status_code in (400, 302)
    assert stored_rows() == (1, 1)


@pytest.mark.parametrize(
    ("born", "loa", "reason"),
    [
        (date(2010, 12, 1), "substantial", None),  # 15 on the day
        (date(2010, 12, 2), "high", "age"),  # 15 tomorrow
        (date(1995, 12, 2), "substantial", None),  # 29, 30 tomorrow
        (date(1995, 12, 1), "substantial", "age"),  # 30 on the day
        (date(2005, 1, 1), "low", "loa"),
        (date(2005, 1, 1), None, "loa"),
    ],
)
def test_refusal_rules_on_a_fixed_day(born: date, loa, reason) -> None:
    from portal.auth import refusal
    from portal.identity import make_test_code

    claims = {"loa": loa, "national_id_num": make_test_code(born, 950)}
    assert refusal(claims, date(2025, 12, 1)) == reason
    assert refusal({"loa": "high", "national_id_num": "131052-308t"}, date(2025, 12, 1)) == "code"


def test_the_test_provider_gives_the_citys_claims(oidc_provider) -> None:
    """The provider on its own (no portal): a code flow with state, nonce and PKCE gives an
    RS256 ID token and userinfo with the claims Helsinki-Tunnistus gives; a code is
    good once."""
    import base64
    import hashlib
    import json
    import secrets
    from urllib.parse import parse_qs, urljoin, urlsplit

    import requests
    from django.conf import settings

    from tests.portal.support import PORTAL_PORT

    person = oidc_provider.persons["young"]
    redirect = f"http://127.0.0.1:{PORTAL_PORT}/oidc/callback/"
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    browser = requests.Session()
    page = browser.get(
        f"{oidc_provider.url}/auth",
        params={
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "response_type": "code",
            "scope": "openid profile",
            "redirect_uri": redirect,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
        },
        timeout=10,
    )
    location = ""
    for prompt, data in (("login", {"login": person.sub, "password": "x"}), ("consent", {})):
        action = urljoin(page.url, re.search(r'action="([^"]+)"', page.text).group(1))
        page = browser.post(action, data={"prompt": prompt, **data}, allow_redirects=False)
        while page.is_redirect and not page.headers["location"].startswith(redirect):
            page = browser.get(urljoin(page.url, page.headers["location"]), allow_redirects=False)
        location = page.headers.get("location", "")
        if location.startswith(redirect):  # back to the portal: no consent prompt needed
            break
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": redirect,
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "client_secret": settings.OIDC_RP_CLIENT_SECRET,
        "code_verifier": verifier,
    }
    tokens = requests.post(f"{oidc_provider.url}/token", data=exchange, timeout=10).json()
    header, payload = (
        json.loads(base64.urlsafe_b64decode(part + "=="))
        for part in tokens["id_token"].split(".")[:2]
    )
    assert header["alg"] == "RS256"
    assert payload["nonce"] == nonce and payload["sub"] == person.sub
    userinfo = requests.get(
        f"{oidc_provider.url}/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()
    assert userinfo["national_id_num"] == person.code
    assert userinfo["loa"] == "substantial" and userinfo["amr"] == ["suomi_fi"]
    replay = requests.post(f"{oidc_provider.url}/token", data=exchange, timeout=10)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_the_example_users_carry_fictional_codes() -> None:
    import json

    from portal.identity import is_test_code, validate
    from tests.conftest import ROOT

    users = json.loads((ROOT / "portal" / "testop" / "users.example.json").read_text())
    for claims in (u["claims"] for u in users.values()):
        code = validate(claims["national_id_num"], allow_test_codes=True)
        assert is_test_code(code)


def test_an_expired_code_gets_the_kind_page_and_stores_nothing(
    portal_url, oidc_provider, settings, tmp_path
) -> None:
    """A login answer used after its code expired (the person left the provider's page
    open): the provider refuses the code, the person sees the kind failure page, nothing
    is stored. A second provider with one-second codes stands in for the slow path."""
    import json
    import os
    import subprocess
    import time
    from urllib.parse import urljoin

    import requests

    from tests.portal.conftest import TESTOP, wait_for
    from tests.portal.support import free_port

    person = oidc_provider.persons["young"]
    users = tmp_path / "users.json"
    claims = {"given_name": "Testi", "family_name": "Nuori", "national_id_num": person.code,
              "loa": "substantial", "amr": ["suomi_fi"]}  # fmt: skip
    users.write_text(json.dumps({person.sub: {"claims": claims}}))
    port = free_port()
    env = {**os.environ, "OP_PORT": str(port), "OP_USERS": str(users), "OP_CODE_TTL": "1",
           "OP_CLIENT_SECRET": settings.OIDC_RP_CLIENT_SECRET,
           "OP_REDIRECT_URIS": f"{portal_url}/oidc/callback/"}  # fmt: skip
    log = (tmp_path / "op.log").open("w")
    provider = subprocess.Popen(["node", str(TESTOP / "op.mjs")], env=env, stdout=log,
                                stderr=subprocess.STDOUT)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/.well-known/openid-configuration", provider, tmp_path / "op.log")
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{base}/auth"
        settings.OIDC_OP_TOKEN_ENDPOINT = f"{base}/token"
        settings.OIDC_OP_USER_ENDPOINT = f"{base}/userinfo"
        settings.OIDC_OP_JWKS_ENDPOINT = f"{base}/certs"
        session = requests.Session()
        page = session.get(f"{portal_url}/oidc/authenticate/", timeout=10)
        for prompt, data in (("login", {"login": person.sub, "password": "x"}), ("consent", {})):
            form = re.search(r'action="([^"]+)"', page.text).group(1)
            page = session.post(urljoin(page.url, form), data={"prompt": prompt, **data},
                                allow_redirects=prompt == "login", timeout=10)  # fmt: skip
        location = page.headers["Location"]
        while "/oidc/callback/" not in location:  # the provider's own hops
            location = urljoin(location, session.get(location, allow_redirects=False,
                                                     timeout=10).headers["Location"])  # fmt: skip
        time.sleep(2.5)  # the code lives one second
        answer = session.get(location, timeout=10)
    finally:
        provider.terminate()
        provider.wait(timeout=10)
        log.close()
    assert answer.url == f"{portal_url}/kirjautuminen-epaonnistui/", (
        answer.status_code,
        answer.text[:300],
    )
    assert answer.status_code == 403 and "Kirjautuminen ei onnistunut" in answer.text
    assert stored_rows() == (0, 0)
