"""Lists counsellors can trust: capacity, exclusions, ranking, flags, reasons, safe files."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from features.catalogue import build_catalogue, by_name
from features.spec import FeatureSpec, Labels, PartnerSpec
from outreach.assemble import FLAGS, assemble, risk_band
from outreach.publish import current, publish
from outreach.reasons import add_reasons, reason_text
from outreach.spec import CapacitySpec, OutreachSpec
from outreach.writers import list_frame, neutralise, write_csv, write_parquet, write_xlsx

D = date(2025, 12, 1)
SPEC = OutreachSpec(
    capacity=CapacitySpec(default=3, per_team={"b": 2}), cooldown_days=30, decline_days=180
)


def scored(n_a: int = 6, n_b: int = 4, **columns) -> pl.DataFrame:
    rows = [
        {"person_id": f"{team}{i}", "as_of": D, "team": team, "probability": round(0.9 - 0.1 * i, 2),
         "points": 10 - i, "can_contact": True, "expiring_soon": False, "source_school": True}
        for team, n in (("a", n_a), ("b", n_b)) for i in range(n)
    ]  # fmt: skip
    return pl.DataFrame(rows).with_columns(**{k: pl.lit(v) for k, v in columns.items()})


def reviews(*rows: tuple[str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"person_id": p, "decision": d, "decided_at": D - timedelta(days=ago)}
            for p, d, ago in rows
        ],
        schema={"person_id": pl.String, "decision": pl.String, "decided_at": pl.Date},
    )


def listed_ids(frame: pl.DataFrame) -> list[str]:
    return frame.sort("team", "rank")["person_id"].to_list()


def test_each_team_gets_its_capacity_in_order_of_risk() -> None:
    listed, _, _ = assemble(scored(), reviews(), None, {}, False, D, SPEC)
    assert listed_ids(listed) == ["a0", "a1", "a2", "b0", "b1"]
    assert listed["rank"].to_list() == [1, 2, 3, 1, 2]


def test_weekly_capacity_is_shared_over_the_runs() -> None:
    weekly = CapacitySpec(default=10, period="week", runs_per_week=5)
    assert weekly.for_team("x") == 2
    assert CapacitySpec(default=11, period="week", runs_per_week=5).for_team("x") == 3


def test_exclusions_no_contact_consent_cooldown_and_recent_decline() -> None:
    frame = scored().with_columns(can_contact=pl.col("person_id") != "a0")
    history = reviews(("a1", "contacted", 10), ("a2", "declined", 100), ("a3", "contacted", 45))
    listed, excluded, _ = assemble(frame, history, None, {}, False, D, SPEC)
    assert listed_ids(listed)[:3] == ["a3", "a4", "a5"]  # a0, a1, a2 are out
    assert (excluded.no_contact_consent, excluded.cooldown, excluded.declined) == (1, 1, 1)


def test_an_old_decline_is_listed_again_with_a_flag() -> None:
    listed, _, _ = assemble(scored(), reviews(("a0", "declined", 400)), None, {}, False, D, SPEC)
    row = listed.filter(pl.col("person_id") == "a0")
    assert row["flag_declined_before"].item()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_ranking_is_deterministic_whatever_the_input_order(seed: int) -> None:
    """Equal scores are ordered by a stable hash of (person, date), never by input order."""
    frame = scored(8, 5).with_columns(probability=pl.lit(0.5))
    first, _, _ = assemble(frame, reviews(), None, {}, False, D, SPEC)
    again, _, _ = assemble(
        frame.sample(fraction=1.0, shuffle=True, seed=seed), reviews(), None, {}, False, D, SPEC
    )
    assert listed_ids(first) == listed_ids(again)


def test_every_flag_is_raised_where_it_belongs() -> None:
    frame = scored().with_columns(
        expiring_soon=pl.col("person_id") == "a1",
        source_school=pl.col("person_id") != "a2",
    )
    previous = pl.DataFrame(
        {
            "person_id": ["a0", "a1"],
            "team": ["a", "a"],
            "probability": [0.9, 0.5],
            "listed": [True, True],
        }
    )
    listed, _, _ = assemble(
        frame, reviews(("a2", "declined", 300)), previous, {"school": True}, True, D, SPEC
    )
    row = {r["person_id"]: r for r in listed.iter_rows(named=True)}
    assert not row["a0"]["flag_new"] and not row["a1"]["flag_new"] and row["a2"]["flag_new"]
    assert row["a1"]["flag_score_change"] and not row["a0"]["flag_score_change"]  # 0.5 -> 0.8
    assert row["a1"]["flag_consent_expiring"] and not row["a0"]["flag_consent_expiring"]
    assert (
        row["a0"]["flag_stale_data"] and not row["a2"]["flag_stale_data"]
    )  # a2 has no school consent
    assert all(r["flag_drift"] for r in row.values())
    assert row["a2"]["flag_declined_before"]
    near = {r["person_id"] for r in listed.iter_rows(named=True) if r["flag_near_cutoff"]}
    assert near == {"a0", "a1", "a2", "b0", "b1"}  # capacities 3 and 2, near_cutoff 3
    assert set(listed["flags"].str.split(",").explode().drop_nulls()) <= set(FLAGS)


def test_risk_bands_follow_the_configured_thresholds() -> None:
    frame = pl.DataFrame({"p": [0.6, 0.5, 0.3, 0.25, 0.1]})
    bands = frame.select(risk_band(pl.col("p"), SPEC).alias("band"))["band"].to_list()
    assert bands == ["high", "high", "medium", "medium", "low"]


PARTNERS = {"school": PartnerSpec(label=Labels(fi="Ammattiopisto", sv="Yrkesinstitut", en="Vocational school"),
                                  event_types=("absence", "credits"), value_meaning={"credits": "points"})}  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "high", "low"),
    [
        ("fi", "Poissaolot viimeisen 30 päivän aikana: 5 (tavallisesti 1)",
         "Poissaolot viimeisen 30 päivän aikana: vain 0 (tavallisesti 1)"),
        ("sv", "Frånvarotillfällen de senaste 30 dagarna: 5 (vanligen 1)",
         "Frånvarotillfällen de senaste 30 dagarna: bara 0 (vanligen 1)"),
        ("en", "Absences in the last 30 days: 5 (typically 1)",
         "Absences in the last 30 days: only 0 (typically 1)"),
    ],
)  # fmt: skip
def test_reasons_in_three_languages_carry_the_persons_figure(
    lang: str, high: str, low: str
) -> None:
    """A reason states the person's own figure and the typical one, worded the way it
    raised the score: a value above the reference bin reads as much, below as little."""
    feature = by_name(build_catalogue(FeatureSpec(), PARTNERS, ()))["school_absence_n_30d"]
    assert reason_text(feature, 5, 1, lang) == high
    assert reason_text(feature, 0, 1, lang) == low


def test_add_reasons_names_only_consented_partner_rows_above_the_reference_bin() -> None:
    """Reasons come from the points above each feature's reference bin, in each row's
    language, never from a partner without consent and never from "no data" flags; age and
    home area are background columns, not reasons."""
    catalogue = by_name(build_catalogue(FeatureSpec(), PARTNERS, ()))
    listed = pl.DataFrame({"person_id": ["x", "y"], "language": ["sv", "en"],
                           "source_school": [True, False], "postal_code": ["00100", "00200"]})  # fmt: skip
    explained = pl.DataFrame({"points_school_absence_n_30d": [7, 7],
                              "points_school_credits_sum_90d": [3, 9],
                              "points_school_unknown": [0, 20], "points_age": [15, 15]})  # fmt: skip
    values = pl.DataFrame({"school_absence_n_30d": [4, 0], "school_credits_sum_90d": [0.0, 3.0],
                           "school_unknown": [0, 1], "age": [19, 26]})  # fmt: skip
    points = pl.DataFrame({
        "feature": ["school_absence_n_30d"] * 2 + ["school_credits_sum_90d"] * 2,
        "lower": [None, 2.0, None, 5.0], "upper": [2.0, None, 5.0, None],
        "points": [0, 7, 3, 0], "count": [10, 10, 10, 10]})  # fmt: skip
    out = add_reasons(
        listed,
        explained,
        values,
        catalogue,
        {"school_absence_n_30d": 1.0, "school_credits_sum_90d": 10.0},
        points,
    )
    assert out["reason_1"].to_list() == [
        "Frånvarotillfällen de senaste 30 dagarna: 4 (vanligen 1)",
        None,  # y has not consented to the school's rows
    ]
    assert out["reason_2"].to_list() == [
        "Avlagda kompetenspoäng de senaste 90 dagarna: bara 0 (vanligen 10)",
        None,
    ]
    assert out["reason_1_feature"].to_list() == ["school_absence_n_30d", None]
    assert out["reason_3"].to_list() == [None, None]
    assert out["age_band"].to_list() == ["18–20", "25–29"]
    assert out["home_area"].to_list() == ["00100", "00200"]


def _list_rows(**overrides) -> pl.DataFrame:
    base = {
        "list_id": "2025-12-01-a", "rank": 1, "person_id": "EN0000000001", "name": "=HYPERLINK(\"x\")",
        "phone": "+358 40 1234567", "email": "@evil", "language": "fi", "risk_band": "high",
        "probability": 0.81234, "reason_1": "-1+2", "reason_2": "\tTab", "reason_3": None,
        "flags": "new", "consent_expires_at": date(2026, 1, 1),
    }  # fmt: skip
    return list_frame(pl.DataFrame([{**base, **overrides}]))


def test_formulas_are_neutralised_in_csv_and_xlsx(tmp_path: Path) -> None:
    frame = _list_rows()
    write_csv(frame, tmp_path / "l.csv")
    text = (tmp_path / "l.csv").read_text()
    for value in ("'=HYPERLINK", "'+358 40", "'@evil", "'-1+2", "'\tTab"):
        assert value in text
    write_xlsx(frame, tmp_path / "l.xlsx", title="t", as_of=D, model_version="1", team="a")
    sheet = load_workbook(tmp_path / "l.xlsx")["Lista"]
    header = [c.value for c in sheet[4]]
    row = {h: c for h, c in zip(header, sheet[5], strict=True)}
    assert row["name"].value == '=HYPERLINK("x")' and row["name"].data_type == "s"
    assert row["name"].quotePrefix
    assert row["contact"].value == "+358 40 1234567\n@evil" and row["contact"].quotePrefix
    assert not row["list_id"].quotePrefix
    assert neutralise("=1") == "'=1" and neutralise("ok") == "ok" and neutralise(None) is None


@pytest.mark.parametrize(
    ("lang", "statement", "name", "band", "flag", "choices"),
    [
        ("fi", "se ei tee päätöksiä", "Nimi", "korkea\n81 %", "uusi",
         '"tavoitettu,ei tavoitettu,kieltäytyi,ei sovellu,saa jo apua muualla"'),
        ("sv", "den fattar inga beslut", "Namn", "hög\n81 %", "ny",
         '"nådd,inte nådd,tackade nej,inte lämplig,får redan hjälp på annat håll"'),
    ],
)  # fmt: skip
def test_the_workbook_speaks_the_teams_language_and_prints_on_a4_landscape(
    tmp_path: Path, lang: str, statement: str, name: str, band: str, flag: str, choices: str
) -> None:
    """Headings, band, flags and decision choices are in the team's language; the statement
    that the list decides nothing heads every printed page; rank and name stay frozen; A4
    landscape one page wide with the headings repeated; technical columns after the print
    area; a row is tall enough for its lines."""
    write_xlsx(_list_rows(name="Aino"), tmp_path / "l.xlsx", title="t", as_of=D,
               model_version="1", team="a", language=lang)  # fmt: skip
    book = load_workbook(tmp_path / "l.xlsx")
    sheet = book["Lista"]
    assert statement in sheet["A1"].value
    assert statement in sheet.oddHeader.left.text
    headings = [c.value for c in sheet[3]]
    keys = [c.value for c in sheet[4]]
    cells = {k: c.value for k, c in zip(keys, sheet[5], strict=True)}
    assert headings[keys.index("name")] == name and cells["name"] == "Aino"
    assert cells["risk"] == band and cells["flags"] == flag
    assert keys[:2] == ["rank", "name"] and sheet.freeze_panes == "C5"
    assert keys.index("person_id") > keys.index("counsellor") > keys.index("decision")
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage  # one page wide, as tall as needed
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == "$3:$4"
    assert sheet.print_area == f"'Lista'!$A$1:${chr(ord('A') + keys.index('counsellor'))}$5"
    assert sheet.row_dimensions[5].height >= 2 * 13  # two reason lines
    decision = next(r for r in sheet.data_validations.dataValidation if r.type == "list")
    assert decision.formula1 == choices
    legend = book["Ohje - Guide"]
    assert any(c.value == "consent_expiring" for row in legend.iter_rows() for c in row)


def test_a_low_band_person_on_the_list_comes_with_a_note(tmp_path: Path) -> None:
    """When low-band persons fill places, the sheet says why they are there; not otherwise."""
    for band, expected in (("low", True), ("high", False)):
        write_xlsx(_list_rows(risk_band=band), tmp_path / f"{band}.xlsx", title="t", as_of=D,
                   model_version="1", team="a", language="fi")  # fmt: skip
        texts = [c.value for row in load_workbook(tmp_path / f"{band}.xlsx")["Lista"]["A1:L2"]
                 for c in row if c.value]  # fmt: skip
        assert any("matalan riskin" in t for t in texts) is expected


def test_csv_and_parquet_are_byte_identical_for_the_same_rows(tmp_path: Path) -> None:
    frame = _list_rows(name="Aino")
    for n in (1, 2):
        write_csv(frame, tmp_path / f"{n}.csv")
        write_parquet(frame, tmp_path / f"{n}.parquet")
    assert (tmp_path / "1.csv").read_bytes() == (tmp_path / "2.csv").read_bytes()
    assert (tmp_path / "1.parquet").read_bytes() == (tmp_path / "2.parquet").read_bytes()


def _write_two(folder: Path) -> dict:
    (folder / "a.csv").write_text("new a\n")
    (folder / "b.csv").write_text("new b\n")
    return {"files": ["a.csv", "b.csv"]}


def test_a_crash_between_files_leaves_the_previous_lists_published(tmp_path: Path) -> None:
    root = tmp_path / "lists"
    first, _ = publish(root, "2025-12-01", "run1", _write_two)
    before = {p.name: p.read_bytes() for p in (root / "2025-12-01").iterdir()}

    def crash(folder: Path) -> dict:
        (folder / "a.csv").write_text("half of a new list\n")
        raise OSError("disk full between files")

    with pytest.raises(OSError, match="disk full"):
        publish(root, "2025-12-01", "run2", crash)
    assert current(root, "2025-12-01") == first.resolve()
    assert {p.name: p.read_bytes() for p in (root / "2025-12-01").iterdir()} == before
    assert [p.name for p in (root / ".versions").iterdir()] == [first.name]


def test_publishing_switches_the_link_in_one_step_and_keeps_the_previous(tmp_path: Path) -> None:
    root = tmp_path / "lists"
    publish(root, "2025-12-01", "run1", _write_two)
    second, manifest = publish(root, "2025-12-01", "run2", _write_two)
    third, _ = publish(root, "2025-12-01", "run3", _write_two)
    assert os.readlink(root / "2025-12-01") == f".versions/{third.name}"
    assert sorted(p.name for p in (root / ".versions").iterdir()) == [second.name, third.name]
    assert json.loads((third / "manifest.json").read_text()) == manifest


HOLDOUT = SPEC.model_copy(update={"holdout_share": 0.45, "holdout_margin": 2})


def test_the_hold_out_draws_only_at_the_margin_and_the_list_stays_full() -> None:
    frame = scored(n_a=40, n_b=0)
    listed, excluded, draws = assemble(frame, reviews(), None, {}, False, D, HOLDOUT)
    # Margin of team a (capacity 3, margin 2): ranks 2..5 before the draw.
    assert set(draws["person_id"]) == {"a1", "a2", "a3", "a4"}
    held = set(draws.filter(pl.col("held_out"))["person_id"])
    assert held and held < {"a1", "a2", "a3", "a4"}  # this seed holds out some, not all
    assert excluded.held_out == len(held)
    assert listed.height == 3 and not held & set(listed["person_id"])
    expected = [p for p in (f"a{i}" for i in range(40)) if p not in held][:3]
    assert listed_ids(listed) == expected  # the rows below fill the places, in order
    assert listed["rank"].to_list() == [1, 2, 3]
    assert set(draws.filter(pl.col("listed"))["person_id"]) == set(listed["person_id"]) & set(
        draws["person_id"]
    )
    # The same date and persons draw the same (a re-run replaces its own draws).
    again = assemble(frame, reviews(), None, {}, False, D, HOLDOUT, draws)[2]
    assert again.equals(draws)
    # Nobody is drawn twice: the next night draws only persons new to the margin.
    later = assemble(frame, reviews(), None, {}, False, D + timedelta(days=1), HOLDOUT, draws)[2]
    assert not set(later["person_id"]) & set(draws["person_id"])


def test_a_team_without_a_cut_off_draws_nobody() -> None:
    frame = scored(n_a=3, n_b=2)  # capacities 3 and 2: everyone eligible gets a place
    listed, excluded, draws = assemble(frame, reviews(), None, {}, False, D, HOLDOUT)
    assert draws.is_empty() and excluded.held_out == 0
    assert listed_ids(listed) == ["a0", "a1", "a2", "b0", "b1"]


def test_a_held_out_person_stays_off_the_lists_for_holdout_days() -> None:
    frame = scored(n_a=5, n_b=0)
    before = pl.DataFrame(
        {"person_id": ["a0"], "as_of": [D - timedelta(days=10)], "held_out": [True]}
    )
    off = SPEC.model_copy(update={"holdout_days": 30})
    listed, excluded, draws = assemble(frame, reviews(), None, {}, False, D, off, before)
    assert "a0" not in set(listed["person_id"]) and excluded.held_out == 1
    assert draws.is_empty()  # share 0: no new draw tonight
    long_ago = before.with_columns(as_of=pl.lit(D - timedelta(days=31)))
    listed, _, _ = assemble(frame, reviews(), None, {}, False, D, off, long_ago)
    assert "a0" in set(listed["person_id"])


def test_hold_out_comparison_counts_registrations_within_the_horizon() -> None:
    from outreach.review_report import holdout_comparison

    day = date(2025, 1, 1)
    draws = pl.DataFrame(
        {
            "person_id": [f"h{i}" for i in range(10)] + [f"o{i}" for i in range(10)],
            "as_of": [day] * 20,
            "held_out": [True] * 10 + [False] * 10,
            "listed": [False] * 10 + [True] * 6 + [False] * 4,
        }
    )
    outcomes = pl.DataFrame(
        {  # h0-h4 register within 180 days, h5 after it; o0-o1 within
            "person_id": ["h0", "h1", "h2", "h3", "h4", "h5", "o0", "o1"],
            "registered_at": [day + timedelta(days=d) for d in (5, 30, 60, 90, 179, 200, 10, 20)],
        }
    )
    # min_cell 2: every numerator (5, 2, 0, 6 persons) and denominator (10) is publishable
    table = holdout_comparison(draws, outcomes, 180, date(2025, 12, 1), min_cell=2)
    shares = dict(zip(table["group"], table["registered_share"], strict=True))
    assert shares == {"held out": 0.5, "not held out": 0.2}
    listed = dict(zip(table["group"], table["listed_share"], strict=True))
    assert listed == {"held out": 0.0, "not held out": 0.6}
    suppressed = holdout_comparison(draws, outcomes, 180, date(2025, 12, 1), min_cell=11)
    assert suppressed["registered_share"].is_null().all()
    unobserved = holdout_comparison(draws, outcomes, 180, date(2025, 6, 1), min_cell=10)
    assert unobserved.is_empty()


def test_registration_after_a_decision_is_counted_by_decision() -> None:
    from outreach.review_report import effectiveness

    day = date(2025, 1, 1)
    decisions = pl.DataFrame(
        {
            "person_id": [f"c{i}" for i in range(10)] + [f"d{i}" for i in range(10)],
            "decision": ["contacted"] * 10 + ["declined"] * 10,
            "decided_at": [day] * 20,
        }
    )
    outcomes = pl.DataFrame(
        {  # c0 registered before the decision: not counted; d0-d2 within the horizon
            "person_id": ["c0", "c1", "d0", "d1", "d2"],
            "registered_at": [day - timedelta(days=3), day + timedelta(days=40)]
            + [day + timedelta(days=d) for d in (1, 100, 180)],
        }
    )
    # min_cell 1: one registration among the contacted is shown here (tests/test_small_cells.py
    # checks that it is suppressed under a larger minimum cell)
    table = effectiveness(decisions, outcomes, 180, date(2025, 12, 1), min_cell=1)
    assert dict(zip(table["decision"], table["registered_share"], strict=True)) == {
        "contacted": 0.1,
        "declined": 0.3,
    }
