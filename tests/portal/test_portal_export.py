"""The portal's consents reach the nightly job: ``portal.exports`` writes
``consents/portal.parquet`` in the consents contract, one row per person and day (the
day's last state), with pseudonyms only, replaced atomically."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from django.conf import settings
from django.core.management import call_command

from features.consent import consent_state
from features.contracts import Context, consents_contract
from features.validate import validate
from flows import clock
from portal import consent, exports
from portal.models import Person, User

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("Europe/Helsinki")
DAY = date(2026, 11, 2)
CODES = ("010106A9423", "020207A901M")


def make_person(n: int, *, home: bool = True) -> Person:
    user = User.objects.create(uuid=f"00000000-0000-4000-8000-00000000004{n}", username=f"u{n}")
    return Person.objects.create(
        user=user,
        encrypted_identity_code=CODES[n],
        identity_code=CODES[n],
        birth_year=2006,
        postal_code="00100" if home else "",
        language="fi" if home else "",
        team="keskusta" if home else "",
    )


def change(monkeypatch, person: Person, at: datetime, *purposes: str) -> None:
    """The person's choice at ``at`` (local time), as the consent page records it."""
    monkeypatch.setattr(clock, "now", lambda tz: at.astimezone(ZoneInfo(tz)))
    shown = consent.notice("v1", "fi")
    consent.record_changes(person, set(purposes), shown, "jodel", "suomi_fi")


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


def state(frame: pl.DataFrame, as_of: date) -> dict:
    partners = list(settings.ENNAKKO.partners)
    found = consent_state(frame, as_of, settings.ENNAKKO.consent, partners)
    return {row["person_id"]: row for row in found.iter_rows(named=True)}


def export(out: Path) -> pl.DataFrame:
    done = exports.export_consents(out)
    assert done.path == out / "consents" / "portal.parquet"
    return pl.read_parquet(done.path)


def test_export_passes_the_consents_contract_and_keeps_the_days_last_state(monkeypatch, tmp_path):
    person = make_person(0)
    change(monkeypatch, person, at(DAY - timedelta(days=3), 9), "scoring")
    change(monkeypatch, person, at(DAY, 10), "scoring", "contact")
    change(monkeypatch, person, at(DAY, 11), "scoring", "contact", "source:school")
    change(monkeypatch, person, at(DAY, 12), "scoring", "source:school")
    frame = export(tmp_path)

    ctx = Context(reference_date=DAY, partners=tuple(settings.ENNAKKO.partners))
    checked = validate(frame, consents_contract(ctx), source="consents")
    assert checked.bad.height == 0 and checked.good.height == 2
    days = frame.sort("given_at")
    assert days["given_at"].to_list() == [DAY - timedelta(days=3), DAY]
    assert days["purposes"].to_list() == ["scoring", "scoring,source:school"]
    last = person.consents.order_by("-recorded_at").first()
    assert days["consent_id"][1] == str(last.record_id)

    after = state(frame, DAY + timedelta(days=1))[person.person_id]
    assert after["can_score"] and after["source_school"] and not after["can_contact"]
    before = state(frame, DAY - timedelta(days=1))[person.person_id]
    assert before["can_score"] and not before["source_school"]


def test_a_withdrawal_on_the_day_of_the_grant_exports_only_the_withdrawal(monkeypatch, tmp_path):
    person = make_person(0)
    change(monkeypatch, person, at(DAY, 10), "scoring", "contact")
    change(monkeypatch, person, at(DAY, 15))  # everything withdrawn
    frame = export(tmp_path)
    assert frame.height == 1
    row = frame.row(0, named=True)
    assert row["withdrawn_at"] == DAY and row["given_at"] == DAY
    assert row["purposes"] == "contact,scoring"
    assert state(frame, DAY + timedelta(days=1))[person.person_id]["status"] == "withdrawn"


def test_an_expired_consent_exports_with_its_expiry(monkeypatch, tmp_path, settings):
    settings.PORTAL_CONSENT_DAYS = 30
    person = make_person(0)
    given = clock.today("Europe/Helsinki") - timedelta(days=40)
    change(monkeypatch, person, at(given, 10), "scoring", "source:school")
    monkeypatch.undo()
    frame = export(tmp_path)
    row = frame.row(0, named=True)
    assert row["given_at"] == given and row["expires_at"] == given + timedelta(days=30)
    today = clock.today("Europe/Helsinki")
    after = state(frame, today)[person.person_id]
    assert after["status"] == "expired" and not after["can_score"]


def test_two_persons_export_their_pseudonyms_and_nothing_identifying(monkeypatch, tmp_path):
    first, second = make_person(0), make_person(1)
    third = User.objects.create(uuid="00000000-0000-4000-8000-000000000049", username="u9")
    homeless = Person.objects.create(
        user=third,
        encrypted_identity_code="030308A9030",
        identity_code="030308A9030",
        birth_year=2008,
    )
    for person in (first, second, homeless):
        change(monkeypatch, person, at(DAY, 10), "scoring", "contact")
    monkeypatch.undo()
    done = exports.export_consents(tmp_path)
    frame = pl.read_parquet(done.path)
    assert done.left_out == 1  # no postal code or language yet: not exported
    assert set(frame["person_id"]) == {first.person_id, second.person_id}
    assert tuple(frame.columns) == exports.COLUMNS
    raw = done.path.read_bytes()
    cells = " ".join(str(v) for row in frame.iter_rows() for v in row)
    for code in (*CODES, "030308A9030"):
        assert code not in cells and code.encode() not in raw
    assert not {"name", "phone", "email", "identity_code", "hetu"} & set(frame.columns)


def test_a_failed_export_leaves_the_previous_file(monkeypatch, tmp_path):
    person = make_person(0)
    change(monkeypatch, person, at(DAY, 10), "scoring")
    monkeypatch.undo()
    export(tmp_path)
    target = tmp_path / exports.PART
    before = target.read_bytes()
    change(monkeypatch, person, at(DAY + timedelta(days=1), 10), "scoring", "contact")
    monkeypatch.undo()

    def half_written(frame, out):
        out.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", half_written)
    with pytest.raises(OSError, match="disk full"):
        exports.export_consents(tmp_path)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == ["portal.parquet"]  # no temp left
    assert export(tmp_path).height == 2  # the next export goes through


def test_a_consents_file_beside_the_folder_is_refused(monkeypatch, tmp_path):
    change(monkeypatch, make_person(0), at(DAY, 10), "scoring")
    monkeypatch.undo()
    (tmp_path / "consents.parquet").write_bytes(b"")
    with pytest.raises(exports.ExportRefusedError, match=r"register\.parquet"):
        exports.export_consents(tmp_path)
    assert not (tmp_path / "consents").exists()


def test_the_management_command_exports(monkeypatch, tmp_path, capsys):
    change(monkeypatch, make_person(0), at(DAY, 10), "scoring")
    monkeypatch.undo()
    call_command("portal_export", "--out", str(tmp_path))
    assert "1 rows, 1 persons" in capsys.readouterr().out
    assert (tmp_path / exports.PART).is_file()


def test_the_nightly_reader_reads_the_portal_part_beside_the_register(monkeypatch, tmp_path):
    from features.readers import locate, read_source
    from features.spec import ReadSpec

    person = make_person(0)
    change(monkeypatch, person, at(DAY, 10), "scoring")
    monkeypatch.undo()
    frame = export(tmp_path)
    register = frame.with_columns(person_id=pl.lit("EN0123456789"), consent_id=pl.lit("r1"))
    register.write_parquet(tmp_path / "consents" / "register.parquet")
    spec = ReadSpec()
    folder = locate(tmp_path, "consents", spec)
    assert folder == tmp_path / "consents"
    read = read_source(folder, spec)
    assert set(read["person_id"]) == {person.person_id, "EN0123456789"}


def test_no_contact_requests_is_no_file_so_the_night_still_reads_its_sources(tmp_path):
    """A portal where nobody asked to be contacted writes no ``contact_requests.parquet``
    (the nightly refuses a file without rows, and reads no file as no requests); a file
    left by an earlier export goes once its last request is gone."""
    make_person(0)
    stale = tmp_path / "contact_requests.parquet"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"left by an earlier export")
    requests, _ = exports.export_contacts(tmp_path)
    assert requests == stale and not stale.exists()  # tests/test_asked.py: absent = none
    assert (tmp_path / "contacts" / "portal.parquet").is_file()
