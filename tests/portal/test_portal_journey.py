"""The young person's whole journey, through real parts only (issue 14, "Done when").

A 17-year-old arrives from a school link, logs in through the local OpenID provider,
consents to being scored, to being contacted and to two partner sources, and asks to be
contacted. The next morning's `ennakko run` lists them first on their team's list; after
they withdraw their contact consent, the next night's run does not list them; after they
erase everything, their pseudonym and contact details are found in no derived store.

The nightly job runs on a copy of the test process's published workspace (its trained
champion) with the portal's own parts written beside the synthetic city's register. The
portal's clock is today's, so the nights are today + 1 and today + 2, a year after the
synthetic partner data ends: staleness is allowed (``max_stale_share: 1``) so that the
lists publish at all; what is checked is who is on them. Playwright's event loop and
Django's database do not mix, so the browser is opened once per visit, as a person would
come back.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows import clock
from flows.cli import app
from flows.privacy import find_traces
from portal.models import ContactRequest, Person
from tests.portal.conftest import PHONE_WIDTH, log_in_at_provider, phone
from tests.test_privacy import copy_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect"), pytest.mark.django_db]

PHONE = "+358 40 123 4567"


def portal_data_dir(city: Path, data: Path) -> Path:
    """The city's sources for the nightly; the register folders copied (the portal writes
    its parts beside them), everything else linked."""
    data.mkdir()
    for entry in city.iterdir():
        if entry.name in ("consents", "contacts"):
            shutil.copytree(entry, data / entry.name)
        else:
            (data / entry.name).symlink_to(entry)
    return data


def night(config: Path, as_of: str) -> Path:
    """`ennakko run` for ``as_of``; the folder of that night's published lists."""
    done = CliRunner().invoke(app, ["run", "--config", str(config), "--as-of", as_of, "--json"])
    assert done.exit_code == 0, done.output
    folder = Path(json.loads(done.stdout)["lists"])
    assert folder.is_dir() and folder.name == as_of, done.stdout
    return folder


def rows_of(folder: Path) -> pl.DataFrame:
    """Every row the night published (Parquet: the values as they are, the CSV guards a
    leading "+" against spreadsheet formulas)."""
    return pl.concat([pl.read_parquet(p) for p in sorted(folder.glob("*.parquet"))])


def visit(chromium: str, portal_url: str, sub: str, path: str, shots: Path, act) -> None:
    """One visit: log in, open ``path``, do ``act(page)``."""
    with phone(chromium) as context:
        page = context.new_page()
        page.goto(f"{portal_url}/?c=school")
        page.get_by_role("link", name="Kirjaudu").first.click()
        log_in_at_provider(page, portal_url, sub)
        page.goto(f"{portal_url}{path}")
        act(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        page.screenshot(path=str(shots / f"{path.strip('/') or 'home'}.png"), full_page=True)


def consent_and_ask(page) -> None:
    boxes = page.locator("input[name=purpose]")
    tokens = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    sources = [t for t in tokens if t.startswith("source:")][:2]
    for token in ["scoring", "contact", *sources]:
        page.check(f"input[name=purpose][value='{token}']")
    page.click("#save")
    page.wait_for_url("**/kuitti/**")
    page.goto(page.url.split("/kuitti/")[0] + "/ota-yhteytta/")
    page.check("#method-phone")
    page.fill("#phone", PHONE)
    page.check("#language-fi")
    page.check("#situation-looking_for_work")
    page.click("#send")
    page.wait_for_selector("#sent")


def withdraw_contact(page) -> None:
    page.locator("form[action^='/peru/contact/'] button").click()
    page.wait_for_load_state()


def erase(page) -> None:
    page.check("input[type=checkbox]")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/poistettu/**")


def test_arrive_consent_ask_listed_withdraw_unlisted_erase_gone(
    published, chromium: str, portal_url: str, oidc_provider, settings, tmp_path: Path
) -> None:
    _, _, city, _ = published
    data = portal_data_dir(city, tmp_path / "data")
    day = clock.today(settings.TIME_ZONE)
    workspace, config = copy_workspace(
        published, tmp_path, data_dir=str(data), outreach={"max_stale_share": 1.0}
    )
    settings.PORTAL_WORKSPACE = workspace
    settings.PORTAL_DATA_DIR = data
    sub = oidc_provider.persons["young"].sub
    shots = tmp_path / "shots"
    shots.mkdir()

    visit(chromium, portal_url, sub, "/suostumus/?c=school", shots, consent_and_ask)
    person = Person.objects.get()
    asked = ContactRequest.objects.get(person=person)
    assert (asked.method, asked.language) == ("phone", "fi")

    first_night = night(config, (day + timedelta(days=1)).isoformat())
    listed = pl.read_parquet(next(first_night.glob(f"*-{person.team}.parquet"))).row(0, named=True)
    assert (listed["person_id"], listed["section"]) == (person.person_id, "asked")
    assert listed["phone"] == PHONE
    manifest = json.loads((first_night / "manifest.json").read_text())
    assert manifest["counts"]["asked"][person.team] == 1

    visit(chromium, portal_url, sub, "/omat-tiedot/", shots, withdraw_contact)
    # Withdrawing took them off the lists already published for the morning ...
    assert person.person_id not in rows_of(first_night)["person_id"].to_list()
    # ... and the night run again (the latest it may run: tomorrow) does not list them.
    second_night = night(config, (day + timedelta(days=1)).isoformat())
    assert person.person_id not in rows_of(second_night)["person_id"].to_list()

    visit(chromium, portal_url, sub, "/poista/", shots, erase)
    assert not Person.objects.exists()
    needles = [person.person_id, PHONE, PHONE.replace(" ", "")]
    assert find_traces(workspace, needles) == []
    assert find_traces(data, needles) == []
