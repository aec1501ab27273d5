"""The input boundary: labels that become file names, personal values in messages, mixed
encodings, huge CSVs, and as-of dates the data does not reach.

Unit and property tests on the readers, contracts and errors themselves (no Prefect, no
MLflow); the same refusals through the command line are in tests/test_bad_input.py.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.contracts import (
    Context,
    consents_contract,
    contacts_contract,
    events_contract,
    outcomes_contract,
)
from features.coverage import check_as_of_covered, check_training_dates
from features.errors import HIDDEN, SourceError, scrub
from features.folds import labelled_dates
from features.names import TEAM
from features.readers import read_table
from features.sources import enforce_policy
from features.spec import ReadSpec
from features.text import first_utf8_line
from features.validate import validate
from outreach.decisions import STORE_SCHEMA
from outreach.reviews import ReturnedListError, check_returned

CTX = Context(date(2025, 12, 1), ("school",), ("absence", "enrolled"))
TEAM_REFUSED = "team: team name not allowed"
# Personal values a partner might put anywhere: identity codes, phone numbers, e-mails.
SECRETS = ("010203A123B", "131052-308T", "+358 40 1234567", "040-7654321", "aino.v@example.org")


def consents(teams: list[str], **columns: list) -> pl.DataFrame:
    """A consents frame as a CSV reader gives it (text), one row per team."""
    n = len(teams)
    base = {
        "person_id": [f"EN{i:010X}" for i in range(n)],
        "consent_id": [f"C{i}" for i in range(n)],
        "given_at": ["2024-01-01"] * n,
        "purposes": ["scoring,contact"] * n,
        "channel": ["web"] * n,
        "notice_version": ["v3"] * n,
        "birth_year": ["2004"] * n,
        "postal_code": ["00100"] * n,
        "language": ["fi"] * n,
        "team": teams,
    }
    return pl.DataFrame({**base, **columns}, schema={k: pl.String for k in {**base, **columns}})


# ------------------------------------------------------------------ team names, at the door


@pytest.mark.parametrize(
    "team",
    [
        "itä/koillinen",
        "..",
        "a\\b",
        "t\x00x",
        "a" * 41,
        "010203A123B",
        "0401234567",
        "aino@example.org",
        "-itäinen",
        "itäinen tiimi",
    ],
)
def test_a_team_that_could_not_name_a_file_refuses_its_row(team: str) -> None:
    """The row is refused with the team reason; the other rows are kept."""
    result = validate(consents(["itäinen", team]), consents_contract(CTX), source="c")
    assert result.good["team"].to_list() == ["itäinen"]
    assert result.bad["row"].to_list() == [2]
    assert next(iter(result.reasons())).startswith(TEAM_REFUSED)


def test_team_names_are_trimmed_nfc_and_lower_case_before_the_check() -> None:
    """' Itäinen ', its NFD spelling and 'ITÄINEN' are all the team itäinen."""
    nfd = unicodedata.normalize("NFD", "itäinen")
    result = validate(
        consents([" Itäinen ", nfd, "ITÄINEN", "pohjoinen_2"]), consents_contract(CTX), source="c"
    )
    assert result.bad.is_empty()
    assert result.good["team"].to_list() == ["itäinen"] * 3 + ["pohjoinen_2"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_every_team_the_contract_keeps_is_a_safe_file_name_part(team: str) -> None:
    """Whatever a partner writes, a kept team has no separator, control character or
    identifier, and fits in a file name with the date and suffix (255 bytes)."""
    result = validate(consents([team]), consents_contract(CTX), source="c")
    if result.good.is_empty():
        return
    kept = result.good["team"][0]
    assert re.fullmatch(TEAM, kept)
    assert not set(kept) & {"/", "\\", "\x00", ".", " "} and kept.isprintable()
    assert len(f"2025-12-01-{kept}.parquet".encode()) <= 255
    assert scrub(kept) == kept  # nothing identifier-shaped


def test_a_team_refused_under_quarantine_stays_out_and_under_fail_stops_without_its_value() -> None:
    """Quarantine keeps the good rows; fail stops; neither message shows the identity code."""
    teams = ["itäinen"] * 199 + ["010203A123B"]
    result = validate(consents(teams), consents_contract(CTX), source="consents.csv")
    enforce_policy(result, ReadSpec(on_error="quarantine", max_bad_share=0.01))
    assert result.good.height == 199 and result.bad["row"].to_list() == [200]
    with pytest.raises(SourceError) as refused:
        enforce_policy(result, ReadSpec(on_error="fail"))
    text = str(refused.value) + repr(refused.value)
    assert "010203A123B" not in text
    assert f"row 200: team={HIDDEN} ({TEAM_REFUSED}" in text


def test_an_identity_code_is_not_a_pseudonym() -> None:
    """A person_id shaped like an identity code is refused (consents, vault, outcomes,
    services; events drop persons the consent register does not know), masked."""
    frame = pl.DataFrame(
        {"person_id": ["ENAAAAAAAAAA", "131052-308T"], "registered_at": ["2024-02-01"] * 2}
    )
    result = validate(frame, outcomes_contract(CTX), source="s")
    assert result.reasons() == {
        "person_id: looks like a personal identity code, not a pseudonym": 1
    }
    assert "131052" not in " ".join(result.examples())


# ------------------------------------------------------ personal values never in a message


@pytest.mark.parametrize("secret", SECRETS)
def test_personal_values_never_reach_an_error_its_repr_or_a_log_record(
    secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad row holding an identifier in any column is named by row and column only."""
    vault = pl.DataFrame(
        {
            "person_id": ["ENAAAAAAAAAA", secret if "@" not in secret else "ENBBBBBBBBBB"],
            "name": [secret, "Aino"],
            "phone": ["+358 40 1111111", secret],
            "email": [secret, "not an address"],
            "preferred_language": [secret, "xx"],
        }
    )
    frames = [
        (vault, contacts_contract(CTX)),
        (consents(["itäinen", secret], channel=["web", secret]), consents_contract(CTX)),
    ]
    logger = logging.getLogger("ennakko.test")
    for frame, contract in frames:
        result = validate(frame, contract, source=contract.name)
        with pytest.raises(SourceError) as refused:
            enforce_policy(result, ReadSpec(on_error="fail"))
        logger.error("run failed: %r", refused.value, exc_info=refused.value)
        logger.error(str(refused.value))
        text = str(refused.value) + repr(refused.value) + " ".join(result.examples())
        assert secret not in text, text
        assert "row " in text and f"Column: {contract.name}" not in text  # rows and columns
    # A returned list (reviews) is checked by outreach.reviews, not by a data contract.
    returned = pl.DataFrame(
        {
            "row": [2],
            "list_id": ["2025-12-01-itainen"],
            "person_id": ["ENAAAAAAAAAA"],
            "decision": ["maybe"],
            "comment": [f"call {secret}"],
            "decided_at": ["2025-11-30"],
            "counsellor": [secret],
        }
    )
    with pytest.raises(ReturnedListError) as refused:
        check_returned(
            returned, source="returned.csv", published={}, contactable={},
            recorded=pl.DataFrame(schema=STORE_SCHEMA), today=date(2025, 12, 1), counsellor=None,
        )  # fmt: skip
    logger.error("import failed: %r", refused.value, exc_info=refused.value)
    text = str(refused.value) + repr(refused.value) + refused.value.describe()
    assert secret not in text, text
    assert "row " in text
    assert secret not in caplog.text
    assert "row 1" in caplog.text or "row 2" in caplog.text


@settings(max_examples=200)
@given(
    st.sampled_from(SECRETS),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
)
def test_scrub_removes_an_identifier_wherever_it_sits(secret: str, before: str, after: str) -> None:
    """An identity code, phone or e-mail between any text is replaced by the hidden mark."""
    text = f"{before} {secret} {after}"
    assert secret not in scrub(text)


@given(
    st.integers(0, 10**8),
    st.dates(date(1990, 1, 1), date(2030, 12, 31)),
    st.integers(0, 99999),
)
def test_scrub_leaves_counts_dates_and_postal_codes_alone(count: int, day: date, code: int) -> None:
    """What messages are made of (row counts, dates, postal codes, hex bytes) stays readable."""
    text = (
        f"{count:,} of {count + 1:,} rows; line {count} (row {count}); date "
        f"{day.isoformat()} or {day:%d.%m.%Y}; postal_code='{code:05d}'; byte 0x{code % 256:02X}"
    )
    assert scrub(text) == text


def test_a_headerless_file_never_echoes_its_first_row(tmp_path: Path) -> None:
    """Without a header the first data row is read as one: its cells are not shown."""
    path = tmp_path / "contacts.csv"
    path.write_text("ENAAAAAAAAAA;Aino Virtanen;+358 40 1234567;aino@example.org;fi\n")
    contract = contacts_contract(CTX)
    table = read_table(path, ReadSpec(), contract)
    with pytest.raises(SourceError) as refused:
        validate(table.frame, contract, source=str(path), header=table.header)
    text = str(refused.value) + repr(refused.value)
    assert "ENAAAAAAAAAA" not in text and "Aino" not in text and "first line may be data" in text


# ------------------------------------------------------------------------------ encodings


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


HEADER = b"person_id;event_date;event_type;value"


def test_one_windows_1252_line_among_utf8_lines_is_refused_naming_the_line(
    tmp_path: Path,
) -> None:
    """Read as Windows-1252 it would turn itäinen into itÃ¤inen: refused, line and column."""
    path = write(
        tmp_path / "school.csv",
        [
            HEADER + b";team",
            b"ENAAAAAAAAAA;01.02.2024;absence;1;it\xc3\xa4inen",
            b"ENBBBBBBBBBB;01.02.2024;absence;2;pohjoinen",
            b"ENCCCCCCCCCC;01.02.2024;absence;3;it\xe4inen",
        ],
    )
    with pytest.raises(SourceError) as refused:
        read_table(path, ReadSpec())
    text = str(refused.value)
    assert str(path) in text and refused.value.column == "team"
    assert "line 4 is not UTF-8" in text and "line 2 is UTF-8" in text
    assert "line 4 (row 3)" in text


def test_the_utf8_line_may_come_after_the_windows_1252_one(tmp_path: Path) -> None:
    """Order does not matter: the first undecodable line and the first UTF-8 line are named."""
    path = write(
        tmp_path / "school.csv",
        [
            HEADER,
            b"ENAAAAAAAAAA;01.02.2024;absence;1 \xe4",
            b"ENBBBBBBBBBB;01.02.2024;absence;\xc3\xb6",
        ],
    )
    with pytest.raises(SourceError, match=r"line 2 is not UTF-8.*while line 3 is UTF-8"):
        read_table(path, ReadSpec())


def test_pure_utf8_and_pure_windows_1252_files_read_as_before(tmp_path: Path) -> None:
    """The same text in either encoding reads to the same frame; only 1252 carries a note."""
    text = "person_id;event_date;event_type;note\nENAAAAAAAAAA;01.02.2024;absence;itäinen – Åbo\n"
    utf8 = tmp_path / "a.csv"
    utf8.write_bytes(text.encode("utf-8"))
    cp1252 = tmp_path / "b.csv"
    cp1252.write_bytes(text.encode("windows-1252"))
    a, b = read_table(utf8, ReadSpec()), read_table(cp1252, ReadSpec())
    assert a.frame.equals(b.frame) and a.frame["note"][0] == "itäinen – Åbo"
    assert a.notes == [] and "read as Windows-1252" in b.notes[0]
    assert first_utf8_line(text.encode("windows-1252")) is None
    assert read_table(cp1252, ReadSpec(encoding="windows-1252")).frame.equals(a.frame)


def _cp1252_alphabet() -> str:
    """Every printable character Windows-1252 can hold, except Ã and â (see below)."""
    chars = []
    for byte in range(0x20, 0x100):
        try:
            ch = bytes([byte]).decode("windows-1252")
        except UnicodeDecodeError:
            continue
        if ch.isprintable() and ch not in "Ãâ":
            chars.append(ch)
    return "".join(chars)


@settings(max_examples=500)
@given(st.lists(st.text(alphabet=_cp1252_alphabet(), min_size=1, max_size=12), max_size=30))
def test_a_windows_1252_file_is_never_mistaken_for_mixed(lines: list[str]) -> None:
    """Any Windows-1252 text is read as such: a line that happens to decode as UTF-8 ('Ä–'
    is the UTF-8 of 'Ė') is not taken for UTF-8. Only Ã and â, the marks of text already
    mis-decoded ('itÃ¤inen'), can make a UTF-8 line out of Windows-1252 bytes."""
    assert first_utf8_line("\n".join(lines).encode("windows-1252")) is None


# ------------------------------------------------------------------------- huge CSV files


def test_a_csv_over_the_limit_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    """The size alone decides: a file that would also fail to decode is refused by size."""
    path = tmp_path / "school.csv"
    path.write_bytes(HEADER + b"\n" + b"\xff\xfe broken \xe4\n" * 200)  # ~3 kB
    with pytest.raises(SourceError) as refused:
        read_table(path, ReadSpec(max_csv_mb=0.001), events_contract(CTX, "events/school"))
    text = str(refused.value)
    assert str(path) in text and "above the limit of 0.001 MB (`max_csv_mb`)" in text
    assert "Parquet" in text and "folder of CSV parts" in text
    small = write(tmp_path / "ok.csv", [HEADER, b"ENAAAAAAAAAA;01.02.2024;absence;1"])
    assert read_table(small, ReadSpec(max_csv_mb=0.001)).frame.height == 1


def test_every_part_of_a_folder_is_measured_before_any_is_read(tmp_path: Path) -> None:
    """A folder's oversized second part is refused though the first would fail to parse."""
    folder = tmp_path / "school"
    folder.mkdir()
    (folder / "part-1.csv").write_bytes(b"\n\nbroken")  # blank header: refused if read
    (folder / "part-2.csv").write_bytes(HEADER + b"\n" + b"x" * 4000 + b"\n")
    with pytest.raises(SourceError) as refused:
        read_table(folder, ReadSpec(max_csv_mb=0.002))
    assert refused.value.source == str(folder / "part-2.csv")


def test_the_limit_is_a_setting_per_source_with_a_generous_default() -> None:
    """1024 MB unless a source says otherwise; zero or less is not a limit."""
    from pydantic import ValidationError

    assert ReadSpec().max_csv_mb == 1024
    with pytest.raises(ValidationError):
        ReadSpec(max_csv_mb=0)


# ------------------------------------------------------------- as-of dates and the data


def test_an_as_of_date_before_the_data_is_one_clear_error() -> None:
    """Before the first consent or partner row nobody can be scored: the earliest date is named."""
    consents_frame = pl.DataFrame({"given_at": [date(2021, 9, 1), date(2022, 1, 1)]})
    events = pl.DataFrame({"event_date": [date(2021, 1, 3), date(2025, 1, 1)]})
    with pytest.raises(SourceError) as refused:
        check_as_of_covered(date(2019, 1, 1), consents_frame, events)
    text = str(refused.value)
    assert text.startswith("--as-of: the as-of date 2019-01-01 is before the data")
    assert "2021-09-01" in text and "2021-01-03" in text and "on or after 2021-09-01" in text
    check_as_of_covered(date(2021, 9, 1), consents_frame, events)
    late_events = events.with_columns(pl.col("event_date") + timedelta(days=365))
    with pytest.raises(SourceError, match="on or after 2022-01-04"):
        check_as_of_covered(date(2021, 12, 1), consents_frame, late_events)
    with pytest.raises(SourceError, match="no partner row at all"):
        check_as_of_covered(date(2025, 1, 1), consents_frame, events.clear())


@given(
    st.dates(date(2015, 1, 1), date(2025, 1, 1)),
    st.integers(30, 730),
    st.integers(30, 365),
    st.integers(1, 3),
)
def test_the_earliest_training_date_named_is_the_first_that_trains(
    start: date, history: int, horizon: int, step: int
) -> None:
    """The date the message names trains, and the day before it does not."""
    with pytest.raises(SourceError) as refused:
        check_training_dates([], start, start, history, horizon, step)
    named = date.fromisoformat(re.search(r"on or after (\S+),", str(refused.value)).group(1))
    assert labelled_dates(start, named, horizon, history, step)
    assert not labelled_dates(start, named - timedelta(days=1), horizon, history, step)
    check_training_dates([named], named, start, history, horizon, step)  # dates: no error


def test_the_shipped_configurations_stay_inside_the_rules() -> None:
    """default, demo and the production example load: their names and folders pass."""
    from flows.settings import load_settings
    from tests.conftest import ROOT

    for name in ("default.yaml", "demo.yaml", "production.example.yaml"):
        load_settings(ROOT / "configs" / name, env={k: v for k, v in os.environ.items() if False})
