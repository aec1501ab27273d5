"""A review loop that forgives: returned lists checked on tiny hand-written frames.

The same list may come back again and again; every mistake of a file is found in one
pass; decision words and headers are understood in Finnish, Swedish and English.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from outreach.decisions import DECISION_LABELS, DECISION_WORDS, STORE_SCHEMA, decision_vocabulary
from outreach.review_words import canonical_headers
from outreach.reviews import (
    ReturnedListError,
    check_returned,
    current,
    merge,
    read_returned,
)

TODAY = date(2025, 12, 3)
LIST = "2025-12-01-itainen"
PUBLISHED = {
    LIST: pl.DataFrame(
        {
            "person_id": [f"P{i:03d}" for i in range(1, 21)],
            "team": ["itainen"] * 20,
            "rank": list(range(1, 21)),
            "risk_band": ["high"] * 20,
        }
    )
}
CONTACTABLE = {LIST: {f"P{i:03d}" for i in range(1, 31)}}


def _returned(decisions: dict[int, str], **columns: dict[int, str]) -> pl.DataFrame:
    """The list as returned: rank n (1-20) at file row n + 4, decisions where given."""
    rows = range(1, 21)
    frame = {
        "row": [n + 4 for n in rows],
        "list_id": [columns.get("list_id", {}).get(n, LIST) for n in rows],
        "person_id": [f"P{n:03d}" for n in rows],
        "decision": [decisions.get(n) for n in rows],
        "comment": [columns.get("comment", {}).get(n) for n in rows],
        "decided_at": [
            columns.get("decided_at", {}).get(n, "01.12.2025" if n in decisions else None)
            for n in rows
        ],
        "counsellor": ["ohjaaja-7" if n in decisions else None for n in rows],
    }
    return pl.DataFrame(frame, schema_overrides={"row": pl.Int64})


def _check(returned: pl.DataFrame, stored: pl.DataFrame | None = None, **kw):
    return check_returned(
        returned, source="returned.xlsx", published=PUBLISHED, contactable=CONTACTABLE,
        recorded=pl.DataFrame(schema=STORE_SCHEMA) if stored is None else stored,
        today=TODAY, counsellor=None, **kw,
    )  # fmt: skip


def test_a_list_returned_twice_adds_only_the_new_decisions() -> None:
    """14 decisions, then the same file with 20: the store holds 20, the 14 skipped."""
    first = {n: "contacted" for n in range(1, 15)}
    one = _check(_returned(first))
    assert one.decisions.height == 14 and one.unchanged == 0 and one.undecided == 6
    stored = merge(pl.DataFrame(schema=STORE_SCHEMA), one.decisions, TODAY)
    two = _check(_returned({**first, **{n: "declined" for n in range(15, 21)}}), stored)
    assert two.decisions.height == 6 and two.unchanged == 14 and two.corrections == 0
    stored = merge(stored, two.decisions, TODAY)
    assert stored.height == 20 and stored["person_id"].n_unique() == 20
    assert current(stored).height == 20
    three = _check(_returned({**first, **{n: "declined" for n in range(15, 21)}}), stored)
    assert three.decisions.is_empty() and three.unchanged == 20


def test_a_changed_decision_is_a_correction_and_the_earlier_one_is_kept() -> None:
    """Changing P001 from contacted to not appropriate stores a correction naming the
    decision it replaces; the earlier row stays, marked superseded."""
    stored = merge(
        pl.DataFrame(schema=STORE_SCHEMA), _check(_returned({1: "contacted"})).decisions, TODAY
    )
    changed = _check(_returned({1: "ei sovellu"}, comment={1: "already working"}), stored)
    assert changed.corrections == 1 and changed.decisions["corrects"].to_list() == ["contacted"]
    after = merge(stored, changed.decisions, TODAY)
    assert after.height == 2
    assert current(after)["decision"].to_list() == ["not_appropriate"]
    assert after.filter(pl.col("superseded_at").is_not_null())["decision"].to_list() == [
        "contacted"
    ]


def test_three_kinds_of_mistakes_are_reported_in_one_pass() -> None:
    """An unknown decision, a list never published and a bad date: one error with all
    three, one table row each (row, column, value, expected), nothing stored."""
    returned = _returned(
        {1: "maybe later", 2: "contacted", 3: "contacted", 4: "contacted"},
        list_id={2: "2024-01-01-nowhere"},
        decided_at={3: "31.02.2025"},
    )
    with pytest.raises(ReturnedListError) as err:
        _check(returned)
    problems = err.value.problems
    assert problems.select("row", "column").rows() == [
        (5, "decision"), (6, "list_id"), (7, "decided_at"),
    ]  # fmt: skip
    assert problems["value"].to_list() == ["maybe later", "2024-01-01-nowhere", "31.02.2025"]
    text = str(err.value)
    assert "3 mistake(s) in 3 row(s)" in text
    assert "not one of" in text and "never published" in text and "dd.mm.yyyy" in text


def test_personal_values_are_shown_as_row_numbers_only() -> None:
    """A person neither listed nor contactable and an override without a reason: the
    pseudonym and the comment are never echoed."""
    returned = _returned({1: "contacted", 2: "contacted"}).with_columns(
        person_id=pl.when(pl.col("row") == 5).then(pl.lit("EN0000000000"))
        .when(pl.col("row") == 6).then(pl.lit("P025"))
        .otherwise(pl.col("person_id"))
    )  # fmt: skip
    with pytest.raises(ReturnedListError) as err:
        _check(returned)
    problems = err.value.problems
    assert set(problems["column"]) == {"person_id", "comment"}
    assert "no valid consent" in str(err.value)
    assert "EN0000000000" not in str(err.value) and "P025" not in str(err.value)
    assert "ohjaaja-7" not in str(err.value)


def test_keep_good_rows_stores_the_rows_without_mistakes() -> None:
    """With keep_good_rows the good row is kept and the bad ones come back as problems."""
    returned = _returned({1: "maybe later", 2: "contacted"}, decided_at={1: "yesterday"})
    result = _check(returned, keep_good_rows=True)
    assert result.decisions["person_id"].to_list() == ["P002"]
    assert result.problems.height == 2 and set(result.problems["row"]) == {5}
    assert any("not stored" in w for w in result.warnings)


def test_the_same_decision_in_any_language_is_the_same_code() -> None:
    """Every drop-down word of the workbook, in every language, and every listed synonym
    maps to its code; case, spaces and underscores do not matter."""
    vocabulary = decision_vocabulary()
    for word, code in DECISION_LABELS.items():
        assert vocabulary[word.lower()] == code
    for code, words in DECISION_WORDS.items():
        assert all(vocabulary[w] == code for w in words)
    result = _check(
        _returned({1: "Tavoitettu", 2: " nådd ", 3: "NOT_REACHED", 4: "tackade nej",
                   5: "saa jo apua muualla"})
    )  # fmt: skip
    assert result.decisions["decision"].to_list() == [
        "contacted", "contacted", "not_reached", "declined", "helped_elsewhere",
    ]  # fmt: skip


def test_a_csv_with_finnish_or_swedish_headers_is_read(tmp_path: Path) -> None:
    """Headers typed in Finnish or Swedish map to the published columns."""
    assert canonical_headers(["Päätös", "Beslut", "Kommentti", "Ohjaaja", "list_id"]) == [
        "decision", "decision", "comment", "counsellor", "list_id",
    ]  # fmt: skip
    path = tmp_path / "returned.csv"
    path.write_text(
        "Lista,Tunniste,Päätös,Kommentti,Päivämäärä,Ohjaaja\n"
        f"{LIST},P001,tavoitettu,,01.12.2025,ohjaaja-7\n"
    )
    frame = read_returned(path)
    assert {"list_id", "person_id", "decision", "comment", "decided_at", "counsellor"} <= set(
        frame.columns
    )
    assert _check(frame).decisions["decision"].to_list() == ["contacted"]


def test_already_helped_elsewhere_keeps_a_person_off_the_lists_without_a_flag() -> None:
    """Marked 'already helped elsewhere' two days ago: off tomorrow's list (the decline
    window); long ago: back, and not flagged 'declined before'."""
    from datetime import timedelta

    from outreach.assemble import recent_decisions
    from outreach.spec import OutreachSpec

    spec = OutreachSpec()
    reviews = pl.DataFrame(
        {
            "person_id": ["recent", "long_ago"],
            "decision": ["helped_elsewhere"] * 2,
            "decided_at": [
                TODAY - timedelta(days=2),
                TODAY - timedelta(days=spec.decline_days + 1),
            ],
        }
    )
    state = {
        r["person_id"]: r for r in recent_decisions(reviews, TODAY, spec).iter_rows(named=True)
    }
    assert state["recent"]["declined"] and not state["recent"]["declined_before"]
    assert not state["long_ago"]["declined"] and not state["long_ago"]["declined_before"]


def test_the_guide_sheet_says_what_each_decision_does_with_the_configured_days(
    tmp_path: Path,
) -> None:
    """Beside every decision word, the guide sheet says how long it keeps a person off the
    lists, in the team's language and with the configured days."""
    from openpyxl import load_workbook

    from outreach.assemble import rest_days
    from outreach.spec import OutreachSpec
    from outreach.writers import list_frame, write_xlsx

    row = {
        "list_id": LIST, "rank": 1, "person_id": "P001", "name": "Aino", "phone": None,
        "email": None, "language": "sv", "risk_band": "high", "probability": 0.6,
        "reason_1": None, "reason_2": None, "reason_3": None, "flags": "",
        "consent_expires_at": date(2026, 1, 1),
    }  # fmt: skip
    spec = OutreachSpec(cooldown_days=21, decline_days=120)
    path = tmp_path / "list.xlsx"
    write_xlsx(list_frame(pl.DataFrame([row])), path, title="t", as_of=TODAY, model_version="1",
               team="itainen", language="sv", days_off=rest_days(spec))  # fmt: skip
    guide = load_workbook(path)["Ohje - Guide"]
    effects = {
        r[0]: r[4] for r in guide.iter_rows(values_only=True) if r[0] in DECISION_WORDS
    }  # fmt: skip
    assert set(effects) == set(DECISION_WORDS)
    assert effects["contacted"] == "Inte på listan på 21 dagar."
    assert "120 dagar" in effects["declined"] and "Har tackat nej tidigare" in effects["declined"]
    assert effects["helped_elsewhere"] == "Inte på listan på 120 dagar."
