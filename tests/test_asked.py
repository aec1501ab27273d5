"""Persons who asked in the portal to be contacted (issue 14 item 5): listed first on their
team's list in a section of their own, outside the risk ranking and its capacity, until a
counsellor records a decision; the manifest counts them separately."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from features.consent import consent_state
from features.contracts import (
    CONTACT_METHODS,
    HELP_WANTED,
    LANGUAGES,
    SITUATIONS,
    Context,
    contact_requests_contract,
)
from features.errors import SourceError
from features.readers import locate, read_source
from features.sources import empty_frame, load_source
from features.spec import ConsentPolicy, ReadSpec
from outreach import labels
from outreach.assemble import assemble, open_requests
from outreach.writers import list_frame, write_csv, write_xlsx
from tests.test_consent import consent_rows
from tests.test_outreach import SPEC, reviews, scored

D = date(2025, 12, 1)


def requests(*rows: dict) -> pl.DataFrame:
    base = {"requested_at": D - timedelta(days=1), "method": "phone", "language": "sv",
            "situation": None, "help_wanted": None, "closed_at": None}  # fmt: skip
    return pl.DataFrame(
        [{**base, **r} for r in rows], schema=empty_frame("contact_requests").schema
    )


def asked_frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(
        [{"method": "sms", "language": "fi", "expiring_soon": False, **r} for r in rows]
    ).with_columns(pl.col("requested_at").cast(pl.Date))


# --- assembly -------------------------------------------------------------------------


def test_asked_rows_come_first_outside_the_capacity_and_the_ranking_keeps_its_size() -> None:
    """Two asked persons of team a (one of them also eligible and high in the ranking) and
    one of team b: each team's list starts with its asked rows by request date, and still
    has its full ranked capacity of other persons."""
    frame = scored(n_a=6, n_b=4)
    plain, _, _ = assemble(frame, reviews(), None, {}, False, D, SPEC)
    asked = asked_frame(
        {"person_id": "ENX", "team": "a", "requested_at": D - timedelta(days=1)},
        {"person_id": "a0", "team": "a", "requested_at": D - timedelta(days=3)},
        {"person_id": "ENY", "team": "b", "requested_at": D},
    )
    listed, _, _ = assemble(frame, reviews(), None, {}, False, D, SPEC, asked=asked)
    for team, capacity, first in (("a", 3, ["a0", "ENX"]), ("b", 2, ["ENY"])):
        rows = listed.filter(pl.col("team") == team)
        assert rows["person_id"].to_list()[: len(first)] == first
        assert rows["section"].to_list() == ["asked"] * len(first) + ["ranked"] * capacity
        ranked = rows.filter(pl.col("section") == "ranked")
        assert ranked["rank"].to_list() == list(range(1, capacity + 1))
        assert ranked.height == plain.filter(pl.col("team") == team).height
        assert rows.filter(pl.col("section") == "asked")["probability"].is_null().all()
    # a0 was first in the ranking: asked now, so the ranking moved up by one.
    ranked_a = listed.filter((pl.col("team") == "a") & (pl.col("section") == "ranked"))
    assert ranked_a["person_id"].to_list() == ["a1", "a2", "a3"]


def test_an_asked_person_in_the_cool_down_is_listed_all_the_same() -> None:
    """They asked after the last contact: the cool-down and decline window do not apply."""
    frame = scored(n_a=2, n_b=0)
    asked = asked_frame({"person_id": "a1", "team": "a", "requested_at": D - timedelta(days=1)})
    history = reviews(("a1", "contacted", 5))
    listed, _, _ = assemble(frame, history, None, {}, False, D, SPEC, asked=asked)
    assert listed.filter(pl.col("section") == "asked")["person_id"].to_list() == ["a1"]


def _state(as_of: date) -> pl.DataFrame:
    rows = [
        # contact without scoring: may be asked-listed
        {"person_id": "ENA", "purposes": "contact", "team": "t1"},
        {"person_id": "ENB", "purposes": "scoring"},  # no contact consent
        {"person_id": "ENC", "purposes": "scoring,contact"},  # request closed
        {"person_id": "END", "purposes": "scoring,contact"},  # decided after the request
        {"person_id": "ENE", "purposes": "scoring,contact", "team": "t2"},  # decided before
        {"person_id": "ENF", "purposes": "scoring,contact"},  # withdrawn by today
        {"person_id": "ENG", "purposes": "contact", "withdrawn_at": D - timedelta(days=2)},
    ]
    consents = consent_rows(
        [
            {
                "consent_id": r["person_id"],
                "given_at": date(2025, 1, 1),
                "expires_at": None,
                "withdrawn_at": None,
                "notice_version": "v3",
                **r,
            }
            for r in rows
        ]
    )
    return consent_state(consents, [as_of], ConsentPolicy(), ())


def test_only_open_requests_of_persons_who_may_be_contacted_are_asked() -> None:
    day = D - timedelta(days=1)
    frame = requests(
        {"person_id": "ENA", "situation": "studying", "help_wanted": "work,money"},
        {"person_id": "ENB"},
        {"person_id": "ENC", "closed_at": day},
        {"person_id": "END"},
        {"person_id": "ENE"},
        {"person_id": "ENF"},
        {"person_id": "ENG"},
        {"person_id": "ENA", "requested_at": D + timedelta(days=1)},  # after the run date
    )
    decided = pl.DataFrame(
        {
            "person_id": ["END", "ENE"],
            "decision": ["contacted", "not_reached"],
            "decided_at": [day, day - timedelta(days=1)],
        }
    )
    gone = pl.Series("person_id", ["ENF"])
    out = open_requests(frame, _state(D), gone, decided, D)
    assert sorted(out["person_id"].to_list()) == ["ENA", "ENE"]
    first = out.filter(pl.col("person_id") == "ENA").row(0, named=True)
    assert (first["team"], first["language"], first["method"]) == ("t1", "sv", "phone")
    assert (first["situation"], first["help_wanted"]) == ("studying", "work,money")


# --- contract and source ------------------------------------------------------------


def _load(tmp_path: Path, rows: list[dict]) -> pl.DataFrame:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    frame = requests(*rows)
    frame.write_parquet(data / "contact_requests.parquet")
    result, _ = load_source(
        data, "contact_requests", ReadSpec(on_error="fail"), Context(reference_date=D)
    )
    return result.good


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ({"method": "fax"}, "method"),
        ({"language": "de"}, "language"),
        ({"situation": "sleeping"}, "situation"),
        ({"help_wanted": "work,lottery"}, "help_wanted"),
        ({"person_id": "p-12345"}, "person_id"),
        ({"person_id": "010101A123N"}, "person_id"),
        ({"closed_at": D - timedelta(days=5)}, "closed_at"),
        ({"requested_at": D + timedelta(days=3)}, "requested_at"),
    ],
)
def test_the_contract_refuses_bad_rows_naming_the_column(
    tmp_path: Path, row: dict, column: str
) -> None:
    with pytest.raises(SourceError) as caught:
        _load(tmp_path, [{"person_id": "EN0123456789", **row}])
    assert caught.value.column == column
    text = caught.value.describe()
    assert f"{column}:" in text
    assert "010101A123N" not in text


def test_a_good_request_passes_and_an_absent_file_is_no_requests(tmp_path: Path) -> None:
    good = _load(tmp_path, [{"person_id": "EN0123456789", "help_wanted": "work, studies"}])
    assert good.height == 1
    assert (
        empty_frame("contact_requests").columns
        == contact_requests_contract(Context(reference_date=D)).names
    )


# --- words and files ----------------------------------------------------------------


def test_every_asked_word_exists_in_three_languages_for_every_contract_choice() -> None:
    for key, entry in labels.ASKED.items():
        assert set(entry) == set(labels.LANGS), key
        fields = {lang: labels.placeholders(entry[lang]) for lang in labels.LANGS}
        assert fields["fi"] == fields["sv"] == fields["en"], key
    wanted = [f"method.{m}" for m in CONTACT_METHODS] + [f"in.{x}" for x in LANGUAGES]
    wanted += [f"situation.{x}" for x in SITUATIONS] + [f"help.{x}" for x in HELP_WANTED]
    assert [k for k in wanted if k not in labels.ASKED] == []
    assert labels.asked_text(D, "sms", "sv", "en") == (
        "Asked to be contacted on 1.12.2025, prefers text, in Swedish"
    )
    assert labels.asked_text(D, "phone", "fi", "fi") == (
        "Pyysi yhteydenottoa 1.12.2025, toivoo yhteyttä puhelimitse, suomeksi"
    )


def _rows() -> pl.DataFrame:
    base = {"list_id": "2025-12-01-a", "name": "Asker", "phone": "+358 40 1", "email": None,
            "language": "en", "consent_expires_at": None, "flags": "", "reason_2": None,
            "reason_3": None}  # fmt: skip
    return list_frame(
        pl.DataFrame(
            [
                {
                    **base,
                    "rank": 0,
                    "section": "asked",
                    "person_id": "EN0000000001",
                    "risk_band": None,
                    "probability": None,
                    "reason_1": "Asked to be contacted on 30.11.2025, prefers phone, in English",
                },
                {
                    **base,
                    "rank": 1,
                    "section": "ranked",
                    "person_id": "EN0000000002",
                    "name": "Ranked",
                    "risk_band": "high",
                    "probability": 0.8,
                    "reason_1": "x",
                },
            ]
        )
    )


def test_the_workbook_prints_the_asked_section_first_under_its_heading(tmp_path: Path) -> None:
    frame = _rows()
    path = tmp_path / "list.xlsx"
    write_xlsx(frame, path, title="t", as_of=D, model_version="1", team="a", language="en")
    write_csv(frame, tmp_path / "list.csv")
    sheet = load_workbook(path)["Lista"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    assert values[0][0] == labels.ASKED["heading"]["en"]
    assert values[1][1] == "Asker" and values[1][0] is None  # no rank number
    assert values[1][5].startswith("Asked to be contacted on 30.11.2025")
    assert values[1][4] == "not scored"
    assert values[2][0] == labels.ASKED["ranked_heading"]["en"]
    assert values[3][:2] == [1, "Ranked"]
    # the print area reaches the last list row
    assert sheet.print_area.endswith(f"$L${4 + len(values)}")
    csv = pl.read_csv(tmp_path / "list.csv")
    assert csv["section"].to_list() == ["asked", "ranked"]


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_returned_workbooks_read_the_people_not_the_section_headings(
    tmp_path: Path, language: str
) -> None:
    """A counsellor returns the workbook: its two section headings are layout, so the
    import reads exactly the two persons' rows (no heading counted as undecided)."""
    from outreach.reviews import read_returned

    path = tmp_path / "list.xlsx"
    write_xlsx(_rows(), path, title="t", as_of=D, model_version="1", team="a", language=language)
    returned = read_returned(path)
    assert returned["person_id"].to_list() == _rows()["person_id"].to_list()


# --- end to end ---------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.xdist_group("prefect")
def test_the_next_nights_list_shows_the_asker_first_and_the_manifest_counts_them(
    published, tmp_path: Path
) -> None:
    """The demo city; a person who consents to contact on D asks on D; the run of D+1
    lists them first on their team's list with the text and their contact details, keeps
    the ranked capacity, and counts them in ``counts.asked``; ``ennakko validate`` checks
    the new source."""
    from typer.testing import CliRunner

    from flows.cli import app
    from tests.test_privacy import copy_workspace
    from tests.test_privacy_report import make_report, must_be_zero
    from tests.test_transactions import run_night

    _, settings, city, _ = published
    day, next_day = D, D + timedelta(days=1)
    data = tmp_path / "data"
    data.mkdir()
    for entry in city.iterdir():
        os.symlink(entry, data / entry.name)
    consents = read_source(locate(city, "consents", ReadSpec()), ReadSpec())
    state = consent_state(consents, [next_day], settings.consent, settings.partners)
    contacts = read_source(locate(city, "contacts", ReadSpec()), ReadSpec())
    may = state.filter(pl.col("can_contact")).join(contacts, on="person_id").sort("person_id")
    person = may.sort(pl.col("can_score"), "person_id").row(0, named=True)  # no scoring first
    closed = may.filter(pl.col("person_id") != person["person_id"])["person_id"][0]
    silent = state.filter(~pl.col("can_contact"))["person_id"].sort()[0]
    requests(
        {"person_id": person["person_id"], "requested_at": day, "method": "email",
         "language": "sv", "help_wanted": "studies"},
        {"person_id": closed, "requested_at": day, "closed_at": day},
        {"person_id": silent, "requested_at": day},
    ).write_parquet(data / "contact_requests.parquet")  # fmt: skip
    workspace, config = copy_workspace(
        published, tmp_path, data_dir=str(data), as_of=next_day.isoformat()
    )

    checked = CliRunner().invoke(app, ["validate", "--config", str(config), "--json"])
    sources = {s["source"]: s for s in json.loads(checked.stdout)["sources"]}
    assert sources["contact_requests"]["verdict"] == "ok"
    assert sources["contact_requests"]["rows"] == 3

    run_night(config)
    folder = workspace / "lists" / next_day.isoformat()
    manifest = json.loads((folder / "manifest.json").read_text())
    team = person["team"]
    assert manifest["counts"]["asked"] == {t: int(t == team) for t in manifest["teams"]}
    stem = f"{next_day.isoformat()}-{team}"
    frame = pl.read_csv(folder / f"{stem}.csv")
    first = frame.row(0, named=True)
    assert (first["person_id"], first["section"], first["rank"]) == (person["person_id"],
                                                                      "asked", 0)  # fmt: skip
    assert (first["name"], first["email"]) == (person["name"], person["email"])
    assert first["language"] == "sv"
    assert first["risk_band"] is None and first["probability"] is None
    lang = settings.outreach.language_for(team)
    opening = {"fi": "Pyysi yhteydenottoa 1.12.2025, toivoo yhteyttä sähköpostilla",
               "sv": "Bad om kontakt 1.12.2025, vill bli kontaktad per e-post",
               "en": "Asked to be contacted on 1.12.2025, prefers e-mail"}[lang]  # fmt: skip
    assert first["reason_1"].startswith(opening)
    ranked = frame.filter(pl.col("section") == "ranked")
    assert ranked.height == manifest["teams"][team]["rows"] - 1
    assert ranked.height <= settings.outreach.capacity.for_team(team)
    assert ranked["rank"].to_list() == list(range(1, ranked.height + 1))
    assert person["person_id"] not in ranked["person_id"].to_list()
    everyone = pl.concat([pl.read_parquet(p) for p in folder.glob("*.parquet")])
    assert closed not in everyone.filter(pl.col("section") == "asked")["person_id"].to_list()
    assert silent not in everyone["person_id"].to_list()
    sheet = load_workbook(folder / f"{stem}.xlsx")["Lista"]
    assert sheet.cell(5, 1).value == labels.ASKED["heading"][lang]
    assert sheet.cell(6, 2).value == person["name"]
    # The record of processing: an asked person needs a contact consent only.
    _, text = make_report(config, tmp_path / "record.md")
    assert must_be_zero(text) and set(must_be_zero(text).values()) == {0}, text


def test_the_review_report_counts_decisions_on_asked_rows_apart_from_the_ranking() -> None:
    from outreach.decisions import STORE_SCHEMA
    from outreach.review_report import summarise

    rows = [
        {"list_id": "2025-12-02-a", "person_id": f"EN000000000{i}", "decision": "contacted",
         "decided_at": D, "team": "a", "rank": rank, "override": False, "imported_at": D}
        for i, rank in enumerate((0, 0, 1))
    ]  # fmt: skip
    decisions = pl.DataFrame(rows).with_columns(
        [pl.lit(None, t).alias(c) for c, t in STORE_SCHEMA.items() if c not in rows[0]]
    )
    by_rank = summarise(decisions.cast(STORE_SCHEMA), min_cell=1)["by_rank"]
    assert dict(by_rank.select("rank_band", "decisions").iter_rows()) == {
        "asked": 2, "rank 1-5": 1
    }  # fmt: skip
