""" "My data", one-click withdrawal and "do not contact me": the page and its JSON show
what Ennakko holds (consents, history, sources, requests, lists with reasons, decisions);
a withdrawal is a new record through the consent page's path and takes the person off
today's published list (CSV, Parquet and manifest rebuilt, audit entry by keyed hash)."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from flows import audit, clock
from outreach.decisions import STORE_SCHEMA
from outreach.publish import list_stem
from outreach.writers import list_frame, write_team_files
from portal import consent, contact
from portal.models import ConsentRecord, ContactRequest, Person
from tests.portal.support import logged_in_person

pytestmark = pytest.mark.django_db
CODE = "010106A9423"
OTHER = "ENAAAAAAAAAA"
TEAM = "etelainen"


@pytest.fixture
def person(client) -> Person:
    found = logged_in_person(client, 62, CODE, TEAM)
    consent.record_changes(
        found, {"scoring", "contact", "source:school"}, consent.notice("v1", "fi"), "jodel", "x"
    )
    return found


def row(person_id: str, rank: int, reason: str) -> dict:
    return {
        "list_id": f"L{rank}",
        "rank": rank,
        "person_id": person_id,
        "name": f"Nimi {rank}",
        "phone": "040 000 0000",
        "email": None,
        "language": "fi",
        "risk_band": "high",
        "probability": 0.5,
        "reason_1": reason,
        "reason_2": None,
        "reason_3": None,
        "flags": None,
        "consent_expires_at": None,
    }


def publish(workspace, day: date, person_id: str) -> tuple:
    """Today's list of one team as the nightly publishes it: a version folder with the
    three formats and a manifest, and ``lists/<day>`` linking to it."""
    from flows.workspace import sha256_file

    folder = workspace / "lists" / ".versions" / f"{day}--r1"
    folder.mkdir(parents=True)
    frame = list_frame(
        pl.DataFrame([row(OTHER, 1, "Poissaoloja paljon"), row(person_id, 2, "Opinnot kesken")])
    )
    stem = list_stem(day.isoformat(), TEAM)
    paths = write_team_files(
        frame, folder, stem, title="t", as_of=day, model_version="1", team=TEAM
    )
    manifest = {
        "as_of": day.isoformat(),
        "rows": 2,
        "teams": {TEAM: {"rows": 2, "language": "fi"}},
        "files": {p.name: sha256_file(p) for p in paths},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (workspace / "lists" / day.isoformat()).symlink_to(folder)
    return folder, stem


def test_my_data_shows_everything_and_downloads_it(client, person, portal_workspace) -> None:
    today = clock.today("Europe/Helsinki")
    publish(portal_workspace, today, person.person_id)
    store = portal_workspace / "reviews" / "decisions.parquet"
    store.parent.mkdir(parents=True)
    decision = {k: None for k in STORE_SCHEMA} | {
        "list_id": "L2",
        "person_id": person.person_id,
        "decision": "contacted",
        "decided_at": today,
    }
    pl.DataFrame([decision], schema=STORE_SCHEMA).write_parquet(store)
    ContactRequest.objects.create(
        person=person, requested_at=clock.now("Europe/Helsinki"), method="phone",
        phone="040 123 4567", language="fi", name="Testi Nuori",
    )  # fmt: skip

    html = client.get("/omat-tiedot/?lang=sv").content.decode()
    assert "Yrkesinstitut" in html.split('id="sources"')[1].split("</ul>")[0]
    assert "Opinnot kesken" in html and "Poissaoloja paljon" not in html  # only their row
    assert "nådd" in html  # the decision in their language
    assert "Listor där du fanns med" in html and 'id="no-home"' not in html
    assert html.count('action="/peru/') == 4  # three purposes and "all"
    assert "/kuitti/" in html and 'action="/ala-ota-yhteytta/' in html

    download = client.get("/omat-tiedot.json")
    assert download["Content-Disposition"] == 'attachment; filename="omat-tiedot.json"'
    assert download["Cache-Control"] == "no-store"
    body = json.loads(download.content)
    assert body["person"]["person_id"] == person.person_id
    assert CODE not in download.content.decode()  # the code masked
    assert {c["purpose"] for c in body["consents"] if c["granted"]} == {
        "scoring",
        "contact",
        "source:school",
    }
    assert len(body["history"]) == 3 and body["contact_requests"][0]["phone"] == "040 123 4567"
    assert body["lists"] == [
        {"date": today.isoformat(), "team": TEAM, "rank": 2, "reasons": ["Opinnot kesken"]}
    ]
    assert [d["decision"] for d in body["decisions"]] == ["contacted"]


def test_one_click_withdrawal_takes_the_person_off_todays_list(client, person, portal_workspace):
    today = clock.today("Europe/Helsinki")
    folder, stem = publish(portal_workspace, today, person.person_id)
    done = client.post("/peru/source:school/?lang=fi")
    assert done.status_code == 302 and "withdrawn=" in done["Location"]
    latest = ConsentRecord.objects.order_by("-recorded_at").first()
    assert (latest.purpose, latest.state) == ("source:school", "withdrawn")
    assert ConsentRecord.objects.count() == 4  # nothing else renewed or changed
    state = consent.state_for(person, today)
    assert state["scoring"]["granted"] and not state["source:school"]["granted"]

    assert pl.read_parquet(folder / f"{stem}.parquet")["person_id"].to_list() == [OTHER]
    csv = (folder / f"{stem}.csv").read_text()
    assert person.person_id not in csv and OTHER in csv
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rows"] == 1 and manifest["teams"][TEAM]["rows"] == 1
    from flows.workspace import sha256_file

    assert manifest["files"][f"{stem}.csv"] == sha256_file(folder / f"{stem}.csv")

    log, key = consent.audit_log()
    assert audit.verify(log.path, key).ok
    events = [e["event"] for e in audit.read(log.path)]
    assert events[-2:] == ["portal.consent", "portal.unlist"]
    assert audit.read(log.path)[-1]["person_hash"] == consent.person_hash(person.person_id, key)
    assert person.person_id not in log.path.read_text()
    exported = pl.read_parquet(portal_workspace.parent / "data" / "consents" / "portal.parquet")
    assert exported["purposes"].to_list()[-1] == "contact,scoring"  # the next list knows

    assert client.post("/peru/source:nowhere/").status_code == 302
    assert client.get("/peru/all/").status_code == 405  # a change needs a POST
    client.post("/peru/all/")
    assert not any(s["granted"] for s in consent.state_for(person, today).values())


def test_do_not_contact_withdraws_contact_and_closes_requests(client, person, portal_workspace):
    session = client.session
    session[contact.NAME_SESSION_KEY] = contact.seal_name({"given_name": "Testi"})
    session.save()
    client.post("/ota-yhteytta/", {"method": "phone", "phone": "040 123 4567", "language": "fi"})
    contacts = portal_workspace.parent / "data" / "contacts" / "portal.parquet"
    assert pl.read_parquet(contacts).height == 1
    done = client.post("/ala-ota-yhteytta/?lang=en")
    request = ContactRequest.objects.get()
    assert request.closed_reason == "do_not_contact" and request.closed_at is not None
    today = clock.today("Europe/Helsinki")
    assert not consent.state_for(person, today)["contact"]["granted"]
    assert consent.state_for(person, today)["scoring"]["granted"]
    assert pl.read_parquet(contacts).height == 0  # out of the contact vault
    requests = pl.read_parquet(portal_workspace.parent / "data" / "contact_requests.parquet")
    assert requests["closed_at"].to_list() == [today]
    page = client.get(done["Location"]).content.decode()
    assert 'id="withdrawn"' in page and "lists no longer show you" in page
