"""Partners only get what consent allows: `ennakko partners requests` writes, per partner,
exactly the persons consenting to that source on the day; rows a partner returns about
anyone else are quarantined with that reason and never used; and a source cannot be a file
and a folder at once (the folder would silently go unread)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from features.consent import consent_state
from features.contracts import Context, events_contract
from features.errors import SourceError
from features.readers import locate
from features.requests import Request, partner_requests
from features.sources import enforce_policy, load_source
from features.spec import ReadSpec
from features.validate import validate
from flows import audit
from flows.cli import app
from flows.settings import load_settings
from tests.conftest import ROOT
from tests.portal import support  # noqa: F401  (Django set up as for the portal's tests)

DAY = date(2025, 12, 1)


def read_request(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def consents_of(config: Path) -> pl.DataFrame:
    s = load_settings(config)
    result, _ = load_source(
        s.data_dir, "consents", s.sources.consents, Context(DAY, tuple(s.partners))
    )
    return result.good


def test_each_partner_gets_exactly_its_consenting_persons(config_for, tmp_path: Path) -> None:
    config = config_for()
    s = load_settings(config)
    consents = consents_of(config)
    before = consent_state(consents, DAY, s.consent, list(s.partners))
    # Erase one person who consents to the first partner: they must be in no request.
    partner = next(iter(s.partners))
    erased = before.filter(pl.col(f"source_{partner}"))["person_id"][0]
    runner = CliRunner()
    done = runner.invoke(app, ["erase", "--person-id", erased, "-c", str(config)])
    assert done.exit_code == 0, done.output
    out = tmp_path / "requests"
    done = runner.invoke(
        app, ["partners", "requests", "-c", str(config), "--as-of", "2025-12-01", "--out", str(out), "--json"]
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    state = consent_state(consents, DAY, s.consent, list(s.partners), [erased])
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{p}.csv" for p in s.partners)
    for name in s.partners:
        rows = read_request(out / f"{name}.csv")
        assert rows and list(rows[0]) == ["person_id", "identity_code"]
        got = {r["person_id"] for r in rows}
        expected = set(state.filter(pl.col(f"source_{name}"))["person_id"])
        assert got == expected and len(got) == len(rows)
        assert erased not in got
        not_valid = set(state.filter(pl.col("status") != "valid")["person_id"])
        assert not_valid and not (got & not_valid)  # withdrawn, expired, erased: none
        assert not any(r["identity_code"] for r in rows)  # no portal: no identifiers held
        entry = next(e for e in summary["partners"] if e["partner"] == name)
        assert entry["persons"] == len(rows) == entry["without_code"]
    key = audit.read_key(None, s.workspace / "privacy" / "audit.key")
    last = audit.AuditLog(audit.log_path(s.workspace), key).read()[-1]
    assert last["event"] == "partners-requests" and last["as_of"] == "2025-12-01"
    assert last["partners"][partner]["persons"] == len(read_request(out / f"{partner}.csv"))
    text = json.dumps(last)
    assert erased not in text and not any(p in text for p in got)  # counts only


def test_the_nightly_keeps_rows_an_earlier_request_named_and_drops_the_withdrawn() -> None:
    """The file of D names only who consents on D; the nightly also keeps the rows of
    persons an earlier request named (the gate masks them outside their consent), and
    drops, unkept, the rows of anyone who has withdrawn by today."""
    d, today, far = DAY, date(2026, 1, 15), date(2027, 1, 1)
    rows = [  # person, given, expires, withdrawn, purposes
        ("NOW01", date(2025, 6, 1), far, None, "scoring,source:school"),
        ("PAST1", date(2024, 1, 1), date(2025, 1, 1), None, "scoring,source:school"),
        ("NEVER", date(2025, 6, 1), far, None, "scoring"),
        ("LEFT1", date(2025, 6, 1), far, date(2026, 1, 2), "scoring,source:school"),
    ]
    consents = pl.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "consent_id": [f"C{i}" for i in range(len(rows))],
            "given_at": [r[1] for r in rows],
            "expires_at": [r[2] for r in rows],
            "withdrawn_at": pl.Series([r[3] for r in rows], dtype=pl.Date),
            "purposes": [r[4] for r in rows],
            "notice_version": ["v1"] * len(rows),
            "birth_year": [2005] * len(rows),
            "postal_code": ["00100"] * len(rows),
            "language": ["fi"] * len(rows),
            "team": ["keskusta"] * len(rows),
        }
    )
    policy = load_settings(ROOT / "configs" / "demo.yaml").consent
    of_d = partner_requests(consents, d, today, policy, ["school"])["school"]
    nightly = partner_requests(consents, d, today, policy, ["school"], earlier=True)["school"]
    assert of_d.persons == {"NOW01"}
    assert nightly.persons == {"NOW01", "PAST1"} and nightly.erased == {"LEFT1"}
    contract = events_contract(Context(d, ("school",), ("absence",)), "events/school")
    frame = events([(p, "2025-11-01") for p, *_ in rows])
    result = validate(frame, contract, source="school", request=nightly)
    assert sorted(result.good["person_id"]) == ["NOW01", "PAST1"]
    assert result.bad["person_id"].to_list() == ["NEVER"]  # LEFT1's row is not kept at all
    assert result.bad["reason"][0].endswith("request of 2025-12-01 or an earlier one")


def events(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_id": [p for p, _ in rows],
            "event_date": [d for _, d in rows],
            "event_type": ["absence"] * len(rows),
            "value": ["2"] * len(rows),
        }
    )


def test_rows_outside_the_request_are_quarantined_with_the_reason() -> None:
    ctx = Context(DAY, ("school",), ("absence",))
    contract = events_contract(ctx, "events/school")
    request = Request(DAY, frozenset({"PER001", "PER002"}), erased=frozenset({"PER009"}))
    frame = events(
        [("PER001", "2025-11-01"), ("PER003", "2025-11-02"), ("PER002", "2025-11-03"),
         ("PER009", "2025-11-04"), ("PER004", "2099-01-01"), ("NOBODY", "2025-11-05")]
    )  # fmt: skip
    result = validate(frame, contract, source="school", request=request)
    assert sorted(result.good["person_id"]) == [
        "PER001",
        "PER002",
    ]  # only the request's persons used
    reasons = dict(zip(result.bad["person_id"], result.bad["reason"], strict=True))
    outside = "person_id: not in the partner's request of 2025-12-01"
    assert reasons["PER003"] == reasons["NOBODY"] == outside
    assert reasons["PER004"].startswith("event_date") and outside in reasons["PER004"]
    assert "PER009" not in reasons  # an erased person's rows are not kept, not even in quarantine
    assert result.outside_request == 2 and result.contract_refused == 1
    assert any("erased" in w for w in result.warnings)
    # Over-delivery is not a broken extract: a `fail` source stops only for the bad date.
    with pytest.raises(SourceError, match="1 of 6 rows") as caught:
        enforce_policy(result, ReadSpec(on_error="fail"))
    said = caught.value.describe()
    assert "Column: event_date." in said and "request" not in said  # the partner's real error
    clean = validate(
        frame.filter(pl.col("person_id") != "PER004"), contract, source="s", request=request
    )
    enforce_policy(clean, ReadSpec(on_error="fail"))
    assert clean.bad.height == 2 and clean.bad_share == 0.0


def test_a_source_as_file_and_folder_is_refused(tmp_path: Path, config_for) -> None:
    data = tmp_path / "data"
    (data / "consents").mkdir(parents=True)
    (data / "consents" / "register.parquet").write_bytes(b"PAR1")
    (data / "consents.parquet").write_bytes(b"PAR1")
    with pytest.raises(SourceError) as caught:
        locate(data, "consents", ReadSpec())
    message = caught.value.describe()
    assert str(data / "consents.parquet") in message and str(data / "consents") in message
    (data / "consents.parquet").unlink()
    assert locate(data, "consents", ReadSpec()) == data / "consents"
    # Through a command: exit 2 with both paths named, nothing written.
    (data / "consents.parquet").write_bytes(b"PAR1")
    config = config_for(data_dir=str(data))
    out = tmp_path / "requests"
    done = CliRunner().invoke(app, ["partners", "requests", "-c", str(config), "--out", str(out)])
    assert done.exit_code == 2
    flat = " ".join(done.output.split())
    assert "both a file and a folder" in flat and not out.exists()


@pytest.mark.django_db
def test_portal_persons_get_their_identity_code(tmp_path: Path) -> None:
    from flows.commands.partners import write_request
    from portal.models import Person, User
    from portal.partners import identity_codes

    code = "010106A9423"
    user = User.objects.create(uuid="00000000-0000-4000-8000-000000000071", username="u71")
    person = Person.objects.create(
        user=user, encrypted_identity_code=code, identity_code=code, birth_year=2006
    )
    found = identity_codes([person.person_id, "REGISTER0001"])
    assert found == {person.person_id: code}
    written = write_request(tmp_path, "school", [person.person_id, "REGISTER0001"], found)
    rows = read_request(tmp_path / "school.csv")
    assert rows == [
        {"person_id": person.person_id, "identity_code": code},
        {"person_id": "REGISTER0001", "identity_code": ""},
    ]
    assert (written.persons, written.with_code, written.without_code) == (2, 1, 1)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
