"""Consent one purpose at a time: the page, the immutable records, the audit chain, the
receipt and its schema, and the expiry reminder (Django's test client, no browser)."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta

import pytest

from flows import audit, clock
from portal import consent
from portal.models import ConsentRecord, ImmutableRecordError, Person, User
from tests.conftest import ROOT
from tests.portal.support import logged_in_person

pytestmark = pytest.mark.django_db
SCHEMA = ROOT / "portal" / "schemas" / "consent-receipt.schema.json"


@pytest.fixture
def person(client) -> Person:
    return logged_in_person(client, 42, "010106A9423", team=None)


def submit(client, *purposes: str, lang: str = "fi", channel: str = "jodel"):
    page = client.get(f"/suostumus/?lang={lang}&c={channel}")
    notice = re.search(r'name="notice" value="([^"]+)"', page.content.decode()).group(1)
    data = {"purpose": list(purposes), "notice": notice, "c": channel}
    return client.post(f"/suostumus/?lang={lang}", data)


def test_consent_page_offers_each_purpose_unticked(client, person) -> None:
    page = client.get("/suostumus/?c=school")
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    boxes = re.findall(r'<input type="checkbox"[^>]*>', html)
    values = [re.search(r'value="([^"]+)"', b).group(1) for b in boxes]
    assert values == [
        "scoring",
        "contact",
        "source:school",
        "source:outreach",
        "source:ohjaamo",
        "source:employment",
    ]
    assert not [b for b in boxes if "checked" in b]
    assert "Ammattiopisto" in html and "poissaolot" in html  # named, with what it holds
    assert 'name="csrfmiddlewaretoken"' in html and "<script" not in html.lower()


def test_consent_page_needs_login(client) -> None:
    assert client.get("/suostumus/").status_code == 302
    assert ConsentRecord.objects.count() == 0


def test_each_change_is_one_new_record_replacing_the_last(client, person, portal_workspace):
    first = submit(client, "scoring", "contact", "source:school")
    assert first.status_code == 302 and first["Location"].startswith("/kuitti/")
    given = {r.purpose: r for r in ConsentRecord.objects.all()}
    assert set(given) == {"scoring", "contact", "source:school"}
    assert {r.state for r in given.values()} == {"given"}
    assert {r.channel for r in given.values()} == {"jodel"}
    assert all(r.replaces is None and str(r.notice) == "v1/fi" for r in given.values())

    submit(client, "scoring", "source:school")  # contact withdrawn, nothing else changes
    assert ConsentRecord.objects.count() == 4
    latest = ConsentRecord.objects.order_by("-recorded_at").first()
    assert latest.purpose == "contact" and latest.state == "withdrawn"
    assert latest.replaces == given["contact"] and latest.withdrawn_at is not None
    state = consent.state_for(person, clock.today("Europe/Helsinki"))
    assert state["contact"]["granted"] is False and state["scoring"]["granted"] is True

    page = client.get("/suostumus/").content.decode()
    checked = re.findall(r'value="([^"]+)"[^>]*checked', page)
    assert checked == ["scoring", "source:school"]  # the person's own choices, kept
    again = submit(client, "scoring", "source:school")
    assert again["Location"].startswith("/suostumus/?saved=none")
    assert ConsentRecord.objects.count() == 4


def test_the_hand_written_latest_records_query_answers_as_the_orm(client, person) -> None:
    """``consent.latest_facts`` (SQL by hand, on every personal page) against the ORM's
    own query, over chains of gives, withdrawals and renewals, and for another person."""
    other = Person.objects.create(
        user=User.objects.create(uuid="00000000-0000-4000-8000-000000000043", username="u43"),
        encrypted_identity_code="020206A9424",
        identity_code="020206A9424",
        birth_year=2006,
    )

    def orm(who: Person) -> list[tuple]:
        rows = ConsentRecord.objects.filter(person=who, replaced_by__isnull=True)
        fields = ("purpose", "given_at", "expires_at", "withdrawn_at", "notice__version")
        return sorted(rows.values_list(*fields))

    assert consent.latest_facts(person) == [] == orm(person)
    for chosen in (("scoring", "contact"), ("scoring",), ("contact", "source:school"), ()):
        submit(client, *chosen)
        assert sorted(consent.latest_facts(person)) == orm(person)
        assert len(orm(person)) == len({f[0] for f in orm(person)})  # one per purpose
    assert consent.latest_facts(other) == []


def test_records_cannot_be_updated_or_deleted(client, person) -> None:
    submit(client, "scoring")
    record = ConsentRecord.objects.get()
    record.channel = "poster"
    with pytest.raises(ImmutableRecordError):
        record.save()
    with pytest.raises(ImmutableRecordError):
        record.delete()
    with pytest.raises(ImmutableRecordError):
        ConsentRecord.objects.filter(pk=record.pk).update(channel="poster")
    with pytest.raises(ImmutableRecordError):
        ConsentRecord.objects.all().delete()
    assert ConsentRecord.objects.get().channel == "jodel"


def test_audit_chain_verifies_and_names_nobody(client, person, portal_workspace) -> None:
    submit(client, "scoring", "contact")
    submit(client, "scoring")
    log, key = consent.audit_log()
    assert audit.verify(log.path, key).ok
    entries = audit.read(log.path)
    assert [e["event"] for e in entries] == ["portal.consent", "portal.consent"]
    assert entries[1]["purposes"] == {"contact": "withdrawn"}
    raw = log.path.read_text()
    assert person.person_id not in raw and "010106A9423" not in raw
    assert entries[0]["person_hash"] == consent.person_hash(person.person_id, key)


def test_a_broken_audit_log_stores_nothing(client, person, portal_workspace) -> None:
    submit(client, "scoring")
    log, _key = consent.audit_log()
    log.path.write_text(log.path.read_text()[:-5])  # a torn last line
    page = submit(client, "scoring", "contact")
    assert page.status_code == 503
    assert ConsentRecord.objects.count() == 1


def test_receipt_page_and_json_validate(client, person) -> None:
    import jsonschema

    submit(client, "scoring")
    location = submit(client, "scoring", "contact", "source:school", lang="sv")["Location"]
    page = client.get(location).content.decode()
    assert "Kvitto" in page and "Yrkesinstitut" in page
    receipt = location.split("/")[2]
    download = client.get(f"/kuitti/{receipt}.json")
    assert download["Content-Disposition"].startswith("attachment;")
    body = json.loads(download.content)
    jsonschema.Draft202012Validator(
        json.loads(SCHEMA.read_text()), format_checker=jsonschema.FormatChecker()
    ).validate(body)
    assert {r["purpose"] for r in body["records"]} == {"contact", "source:school"}
    assert body["records"][0]["notice"]["language"] == "sv"
    other = User.objects.create(uuid="00000000-0000-4000-8000-000000000043", username="u43")
    client.force_login(other)
    assert client.get(f"/kuitti/{receipt}.json").status_code == 404  # only one's own


@pytest.mark.parametrize(("days_ago", "reminded"), [(340, True), (300, False)])
def test_reminder_before_expiry(client, person, monkeypatch, days_ago, reminded) -> None:
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda tz: real_now(tz) - timedelta(days=days_ago))
    submit(client, "scoring", "contact")
    monkeypatch.setattr(clock, "now", real_now)
    page = client.get("/suostumus/?lang=en").content.decode()
    assert ('id="reminder"' in page) is reminded
    mine = client.get("/omat-tiedot/?lang=en").content.decode()
    assert ('id="reminder"' in mine) is reminded
    if reminded:
        assert "Your consent is about to end." in page and "Scoring: ends on" in page
        assert len(ConsentRecord.objects.all()) == 2
        submit(client, "scoring", "contact")  # renewing writes new records
        assert ConsentRecord.objects.filter(replaces__isnull=False).count() == 2
        assert 'id="reminder"' not in client.get("/suostumus/").content.decode()


def test_notice_text_is_versioned_per_language(client) -> None:
    page = client.get("/tietosuoja/v1/?lang=fi").content.decode()
    assert "Tietosuojaseloste, versio 1" in page
    assert client.get("/tietosuoja/v9/").status_code == 404


def test_short_notice_links_the_whole_one(client) -> None:
    html = client.get("/tietosuoja/?lang=sv").content.decode()
    assert '<a href="/tietosuoja/v1/?lang=sv">Läs hela dataskyddsbeskrivningen</a>' in html


def test_ennakko_audit_verify_accepts_the_portals_entries(client, person, tmp_path) -> None:
    import subprocess

    submit(client, "scoring", "contact")
    submit(client, "contact")
    config = tmp_path / "ennakko.yaml"
    config.write_text(
        f"extends: {ROOT / 'configs' / 'demo.yaml'}\n"
        f"workspace: {tmp_path / 'workspace'}\n"
        f"data_dir: {tmp_path / 'data'}\n"
    )
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ennakko"), "audit", "verify", "-c", str(config), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            k: v
            for k, v in os.environ.items()
            if k not in ("ENNAKKO_WORKSPACE", "ENNAKKO_DATA_DIR")
        },
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["entries"] == 2


def test_consents_expire_after_the_configured_days(client, person, settings, monkeypatch):
    settings.PORTAL_CONSENT_DAYS = 10
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda tz: real_now(tz) - timedelta(days=11))
    submit(client, "scoring")
    monkeypatch.setattr(clock, "now", real_now)
    record = ConsentRecord.objects.get()
    assert record.expires_at - record.given_at == timedelta(days=10)
    state = consent.state_for(person, clock.today("Europe/Helsinki"))
    assert state["scoring"] == {
        "granted": False,
        "status": "expired",
        "expires_at": consent.local_date(record.expires_at),
        "expiring_soon": False,
    }
    page = client.get("/suostumus/").content.decode()
    assert "checked" not in page and 'id="reminder"' not in page


def test_a_double_submit_stores_the_change_once(client, person) -> None:
    """The same form sent twice (a double click, a reload after POST): one receipt, one
    record per purpose; the second answer says nothing changed."""
    page = client.get("/suostumus/?lang=fi&c=jodel")
    notice = re.search(r'name="notice" value="([^"]+)"', page.content.decode()).group(1)
    data = {"purpose": ["scoring", "contact"], "notice": notice, "c": "jodel"}
    first = client.post("/suostumus/?lang=fi", data)
    second = client.post("/suostumus/?lang=fi", data)
    assert "/kuitti/" in first["Location"]
    assert "saved=none" in second["Location"]
    assert ConsentRecord.objects.count() == 2
    assert ConsentRecord.objects.values("receipt").distinct().count() == 1
