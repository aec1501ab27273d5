""" "Contact me" and the postal code page: what is stored (encrypted), what is refused
(nothing stored), the audit entry (keyed hash only) and the exports the nightly reads."""

from __future__ import annotations

import re

import polars as pl
import pytest
from django.db import connection

from features import contracts
from features.validate import validate
from flows import audit, clock
from portal import consent, contact
from portal.contact_views import team_for
from portal.models import ContactRequest, Person
from tests.portal.support import log_in, logged_in_person

pytestmark = pytest.mark.django_db
CODE = "010106A9423"
PHONE = "040 123 4567"


@pytest.fixture
def person(client) -> Person:
    found = logged_in_person(client, 52, CODE)
    session = client.session
    session[contact.NAME_SESSION_KEY] = contact.seal_name(
        {"given_name": "Testi", "family_name": "Nuori"}
    )
    session.save()
    return found


def give(person: Person, *purposes: str) -> None:
    consent.record_changes(person, set(purposes), consent.notice("v1", "fi"), "jodel", "suomi_fi")


def ask(client, **fields):
    data = {"method": "sms", "phone": PHONE, "language": "sv", "situation": "looking_for_work"}
    return client.post("/ota-yhteytta/?lang=fi", {**data, **fields})


def test_without_a_contact_consent_the_page_explains_and_stores_nothing(client, person):
    give(person, "scoring")
    page = client.get("/ota-yhteytta/?lang=en")
    html = page.content.decode()
    assert 'id="needs-consent"' in html and 'href="/suostumus/?lang=en"' in html
    assert '<form method="post" action="/ota-yhteytta/' not in html
    ask(client)
    assert ContactRequest.objects.count() == 0


def test_a_request_is_stored_encrypted_audited_and_exported(client, person, portal_workspace):
    give(person, "scoring", "contact")
    sent = ask(client, help_wanted="studies")
    assert sent.status_code == 302 and "sent=1" in sent["Location"]
    thanks = client.get(sent["Location"]).content.decode()
    assert 'id="sent"' in thanks and "Kiitos. Ohjaaja ottaa sinuun yhteyttä" in thanks
    request = ContactRequest.objects.get()
    assert (request.method, request.phone, request.language) == ("sms", PHONE, "sv")
    assert (request.situation, request.help_wanted, request.name) == (
        "looking_for_work",
        "studies",
        "Testi Nuori",
    )
    with connection.cursor() as cursor:  # at rest: neither the number nor the name in clear
        cursor.execute("select phone, name from portal_contactrequest")
        raw = b"".join(bytes(v) for v in cursor.fetchone())
    assert PHONE.encode() not in raw and b"Nuori" not in raw

    log, key = consent.audit_log()
    assert audit.verify(log.path, key).ok
    entry = audit.read(log.path)[-1]
    assert entry["event"] == "portal.contact_request"
    assert entry["person_hash"] == consent.person_hash(person.person_id, key)
    text = log.path.read_text()
    assert person.person_id not in text and "4567" not in text and "Nuori" not in text

    data = portal_workspace.parent / "data"
    requests = pl.read_parquet(data / "contact_requests.parquet")
    contacts = pl.read_parquet(data / "contacts" / "portal.parquet")
    ctx = contracts.Context(reference_date=clock.today("Europe/Helsinki"), partners=())
    for frame, contract in (
        (requests, contracts.contact_requests_contract(ctx)),
        (contacts, contracts.contacts_contract(ctx)),
    ):
        checked = validate(frame, contract, source=contract.name)
        assert checked.bad.height == 0 and checked.good.height == 1
    assert requests.row(0, named=True) | {"requested_at": None} == {
        "person_id": person.person_id,
        "requested_at": None,
        "method": "sms",
        "language": "sv",
        "situation": "looking_for_work",
        "help_wanted": "studies",
        "closed_at": None,
    }
    assert "phone" not in requests.columns and "name" not in requests.columns
    assert contacts.row(0, named=True) == {
        "person_id": person.person_id,
        "name": "Testi Nuori",
        "phone": PHONE,
        "email": None,
        "preferred_language": "sv",
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "call me maybe"}, "phone"),
        ({"method": "email", "email": "not-an-address"}, "email"),
        ({"method": "pigeon"}, "method"),
        ({"language": "de"}, "language"),
        ({"situation": "free text here"}, "situation"),
        ({"help_wanted": "<b>x</b>"}, "help_wanted"),
    ],
)
def test_bad_input_gets_a_message_and_stores_nothing(client, person, fields, field):
    give(person, "contact")
    page = ask(client, **fields)
    html = page.content.decode()
    assert page.status_code == 400 and f'href="#{field}"' in html and 'role="alert"' in html
    assert "<b>x</b>" not in html
    assert ContactRequest.objects.count() == 0


def test_a_new_request_replaces_the_open_one(client, person, portal_workspace) -> None:
    give(person, "contact")
    ask(client)
    ask(client, method="email", email="nuori@example.fi", phone="")
    first, second = ContactRequest.objects.order_by("pk")
    assert first.closed_reason == "replaced" and second.closed_at is None
    assert (second.email, second.phone) == ("nuori@example.fi", "")
    contacts = pl.read_parquet(portal_workspace.parent / "data" / "contacts" / "portal.parquet")
    assert contacts["email"].to_list() == ["nuori@example.fi"] and contacts.height == 1


def test_the_answers_are_the_contracts_tokens() -> None:
    assert tuple(dict(contact.SITUATIONS)) == contracts.SITUATIONS
    assert tuple(dict(contact.HELP)) == contracts.HELP_WANTED
    assert tuple(dict(contact.METHODS)) == contracts.CONTACT_METHODS


def test_team_from_the_postal_code() -> None:
    from synth.city import TEAM_BY_PREFIX

    assert team_for("00100") == TEAM_BY_PREFIX["001"]
    assert team_for("00940") == TEAM_BY_PREFIX["009"]
    assert team_for("33100") is None  # not Helsinki: not served


def test_a_first_login_asks_the_postal_code_once(portal_url, oidc_provider) -> None:
    sub = oidc_provider.persons["young"].sub
    session, page = log_in(portal_url, sub, home=None)
    assert page.url.startswith(f"{portal_url}/postinumero/?next=%2Fomat-tiedot%2F")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {"csrfmiddlewaretoken": token, "next": "/omat-tiedot/", "language": "sv"}
    headers = {"Referer": page.url}
    bad = session.post(page.url, data={**form, "postal_code": "1234"}, headers=headers)
    assert bad.status_code == 400 and "00100" in bad.text
    outside = session.post(page.url, data={**form, "postal_code": "33100"}, headers=headers)
    assert outside.status_code == 400
    assert Person.objects.get().postal_code == ""  # nothing stored
    skipped = session.get(f"{portal_url}/omat-tiedot/?lang=fi").text
    assert 'id="no-home"' in skipped and "Kerro postinumerosi" in skipped  # asked again
    done = session.post(page.url, data={**form, "postal_code": "00940"}, headers=headers)
    assert done.url == f"{portal_url}/omat-tiedot/"
    stored = Person.objects.get()
    assert (stored.postal_code, stored.language, stored.team) == ("00940", "sv", team_for("00940"))
    _, again = log_in(portal_url, sub, home=None)  # asked once: the next login goes on
    assert again.url == f"{portal_url}/omat-tiedot/"
    assert 'id="no-home"' not in again.text
