"""A corpus of malformed inputs, each refused (or read) clearly through the real command line.

One small synthetic city is generated and one nightly run publishes its lists. Each case
then copies the city, breaks one thing, and runs ``ennakko validate`` (and, for a subset
across failure kinds, ``ennakko run``) on the copy with the same workspace. A refusal is
one paragraph naming the file, the column and example rows, a non-zero exit, no
traceback, no pseudonym or contact detail on the terminal, and the published lists
untouched. A few inputs are messy but valid (a byte-order mark, Windows-1252 when
configured, an identifier column to drop) and must be read.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from features.contracts import Context, contacts_contract, events_contract
from features.describe import MASK
from features.errors import SourceError
from features.readers import read_table
from features.spec import ReadSpec
from features.validate import validate
from flows.cli import app
from synth import CitySpec, generate_city
from synth.city import EVENT_TYPES
from tests.conftest import write_config

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]

AS_OF = "2025-12-01"
SPEC = CitySpec(n_persons=600, seed=3, finnish_csv=("events/school",))
PSEUDONYM = re.compile(r"EN[0-9A-F]{10}")
# Fast training for the baseline: one fold, no challenger, any calibration promotes.
BASE: dict[str, Any] = {
    "as_of": AS_OF,
    "partners": {"school": {"format": "csv"}},
    "model": {
        "challenger": {"enabled": False},
        "promotion": {"max_calibration_error": 1.0},
        "scorecard": {"cv": 2},
    },
    "folds": {"n_folds": 1, "train_months": 3},
    "outreach": {"capacity": {"default": 10}},
}


# ---------------------------------------------------------------- the city and its lists


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bad-input") / "city"
    generate_city(SPEC, out)
    return out


@pytest.fixture(scope="module")
def baseline(prefect_harness, city: Path, tmp_path_factory: pytest.TempPathFactory):
    """One real nightly run through the CLI: the workspace whose lists must survive."""
    from prefect.logging.configuration import ensure_logging_setup

    # Prefect sets its logging up at the first flow run, binding its console handlers to
    # the stderr of the moment: not the short-lived one of a CliRunner invocation.
    ensure_logging_setup()
    folder = tmp_path_factory.mktemp("bad-input-ws")
    workspace = folder / "workspace"
    config = make_config(folder / "baseline.yaml", workspace, city, truth=True)
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    lists = snapshot(workspace)
    assert any(name.endswith(".xlsx") for name in lists[1]), lists
    return workspace, lists


def make_config(
    path: Path, workspace: Path, city: Path, *, truth: bool = False, **overrides: Any
) -> Path:
    data = merge(
        {
            **BASE,
            "workspace": str(workspace),
            "data_dir": str(city),
            "truth_path": str(city / "truth" / "truth.parquet") if truth else None,
        },
        overrides,
    )
    return write_config(path, data)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def snapshot(workspace: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Every symlink target and every file's SHA-256 under ``lists/``, links not followed."""
    root = workspace / "lists"
    links, files = {}, {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                links[key] = os.readlink(path)
            elif path.is_file():
                files[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return links, files


# ------------------------------------------------------------------- ways to break a city


def source_file(city: Path, name: str, suffix: str) -> Path:
    """A source's file: ``<name>.<suffix>``, or ``<name>/register.<suffix>`` in a folder
    of parts (the synthetic city's consent register and contact vault)."""
    folder = city / name
    return folder / f"register{suffix}" if folder.is_dir() else city / f"{name}{suffix}"


def parquet(city: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(source_file(city, name, ".parquet"))


def rewrite(city: Path, name: str, change: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    """Rewrite a Parquet source through ``change``."""
    change(parquet(city, name)).write_parquet(source_file(city, name, ".parquet"))


def as_csv(
    city: Path,
    name: str,
    change: Callable[[pl.DataFrame], pl.DataFrame] = lambda f: f,
    *,
    encoding: str = "utf-8",
    bom: bool = False,
) -> Path:
    """Replace a Parquet source by a Finnish CSV export of it (``;``, dd.mm.yyyy)."""
    frame = change(parquet(city, name))
    source_file(city, name, ".parquet").unlink()
    target = source_file(city, name, ".csv")
    text = frame.write_csv(separator=";", date_format="%d.%m.%Y", decimal_comma=True)
    target.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode(encoding))
    return target


def set_value(
    frame: pl.DataFrame, column: str, value: Any, rows: int | list[int] = 3
) -> pl.DataFrame:
    """Set ``column`` to ``value`` on the given rows (text columns become text if needed)."""
    index = list(range(rows)) if isinstance(rows, int) else rows
    if value is not None and not isinstance(value, type(frame[column].drop_nulls()[0])):
        frame = frame.with_columns(pl.col(column).cast(pl.String))
    return (
        frame.with_row_index("_i")
        .with_columns(
            pl.when(pl.col("_i").is_in(index))
            .then(pl.lit(value, dtype=frame.schema[column]))
            .otherwise(pl.col(column))
            .alias(column)
        )
        .drop("_i")
    )


def school_lines(city: Path, change: Callable[[list[str]], list[str]]) -> None:
    """Edit the school's Finnish CSV (BOM, ``;``, dd.mm.yyyy, decimal comma) line by line."""
    path = city / "events" / "school.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_bytes(codecs.BOM_UTF8 + ("\n".join(change(lines)) + "\n").encode("utf-8"))


def replace_field(line: str, index: int, value: str) -> str:
    fields = line.split(";")
    fields[index] = value
    return ";".join(fields)


def school_field(index: int, value: str, rows: tuple[int, ...] = (1, 2)):
    """Set field ``index`` of the given data lines (1 = first row after the header)."""

    def change(lines: list[str]) -> list[str]:
        return [
            replace_field(line, index, value) if i in rows else line for i, line in enumerate(lines)
        ]

    return change


def fail(source: str) -> dict[str, Any]:
    """Configuration making a partner or core source stop the run at its first bad row."""
    if source in ("consents", "contacts", "outcomes", "services"):
        return {"sources": {source: {"on_error": "fail"}}}
    return {"partners": {source: {"on_error": "fail"}}}


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    """One malformed (or messy but valid) input.

    ``breaks`` edits a copy of the city and returns configuration overrides. A refusal
    must name ``file`` (a path fragment), ``column`` and show ``example`` among the
    example rows; ``ok`` cases must be read without an error.
    """

    id: str
    breaks: Callable[[Path], dict[str, Any] | None]
    file: str | None = None
    column: str | None = None
    example: str | None = None
    ok: bool = False
    run: bool = False
    code: int = 1


def _text_in_date(city: Path) -> None:
    rewrite(city, "consents", lambda f: set_value(f, "given_at", "yesterday", [4]))


def _text_in_number(city: Path) -> None:
    as_csv(city, "consents", lambda f: set_value(f, "birth_year", "twenty", [2]))


def _missing_column(city: Path) -> None:
    rewrite(city, "consents", lambda f: f.drop("language"))


def _missing_column_csv(city: Path) -> dict:
    school_lines(city, lambda lines: [";".join(x.split(";")[:2] + x.split(";")[3:]) for x in lines])
    return {}


def _null_person_id(city: Path) -> None:
    rewrite(city, "consents", lambda f: set_value(f, "person_id", None, [7]))


def _null_consent_id(city: Path) -> None:
    as_csv(city, "consents", lambda f: set_value(f, "consent_id", None, [5]))


def _duplicate_consent(city: Path) -> None:
    rewrite(
        city,
        "consents",
        lambda f: set_value(f, "consent_id", f["consent_id"][0], [9]),
    )


def _future_consent(city: Path) -> None:
    rewrite(city, "consents", lambda f: set_value(f, "given_at", date(2099, 1, 1), [3]))


def _future_event(city: Path) -> dict:
    school_lines(city, school_field(1, "01.01.2099", (5,)))
    return fail("school")


def _unknown_event_type(city: Path) -> None:
    rewrite(city, "events/outreach", lambda f: set_value(f, "event_type", "party", 200))


def _postal_code_short(city: Path) -> None:
    rewrite(city, "consents", lambda f: set_value(f, "postal_code", "0010", [6]))


def _postal_code_letters(city: Path) -> None:
    as_csv(city, "consents", lambda f: set_value(f, "postal_code", "00A10", [8]))


def _empty_file(city: Path) -> None:
    (city / "consents/register.parquet").unlink()
    (city / "consents/register.csv").write_bytes(b"")


def _header_only(city: Path) -> None:
    school_lines(city, lambda lines: lines[:1])


def _truncated_parquet(city: Path) -> None:
    path = city / "consents/register.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _wrong_encoding(city: Path) -> dict:
    """A Windows-1252 export with "itäinen" while UTF-8 is declared."""
    as_csv(
        city,
        "consents",
        lambda f: set_value(f, "team", "itäinen", [10]),
        encoding="windows-1252",
    )
    return {"sources": {"consents": {"encoding": "utf-8"}}}


def _windows_1252_configured(city: Path) -> dict:
    as_csv(
        city,
        "consents",
        lambda f: f.with_columns(pl.col("channel").str.replace("school", "kehitysvammaisten_äö")),
        encoding="windows-1252",
    )
    return {"sources": {"consents": {"encoding": "windows-1252"}}}


def _mixed_separators(city: Path) -> dict:
    school_lines(
        city,
        lambda lines: [x.replace(";", ",", 1) if i in (3, 9) else x for i, x in enumerate(lines)],
    )
    return {}


def _bom(city: Path) -> None:
    as_csv(city, "consents", bom=True)


def _huge_value(city: Path) -> dict:
    school_lines(city, school_field(3, "1e300", (4,)))
    return fail("school")


def _huge_birth_year(city: Path) -> None:
    as_csv(city, "consents", lambda f: set_value(f, "birth_year", "1e300", [4]))


def _missing_file(city: Path) -> None:
    (city / "services.parquet").unlink()


def _missing_events_folder(city: Path) -> None:
    shutil.rmtree(city / "events")


def _missing_data_dir(city: Path) -> dict:
    return {"data_dir": str(city.parent / "no-such-folder")}


def _inf_value(city: Path) -> dict:
    school_lines(city, school_field(3, "inf", (2,)))
    return fail("school")


def _nan_value(city: Path) -> dict:
    rewrite(city, "events/ohjaamo", lambda f: set_value(f, "value", float("nan"), [1]))
    return fail("ohjaamo")


def _negative_birth_year(city: Path) -> None:
    rewrite(city, "consents", lambda f: set_value(f, "birth_year", -1990, [2]))


def _expires_before_given(city: Path) -> None:
    rewrite(city, "consents", lambda f: set_value(f, "expires_at", date(2001, 1, 1), [1]))


def _unknown_purpose(city: Path) -> None:
    rewrite(city, "consents", lambda f: set_value(f, "purposes", "scoring,marketing", [0]))


def _parts_differ(city: Path) -> None:
    frame = parquet(city, "events/outreach")
    (city / "events" / "outreach.parquet").unlink()
    folder = city / "events" / "outreach"
    folder.mkdir()
    half = frame.height // 2
    frame.head(half).write_parquet(folder / "part-000.parquet")
    frame.tail(frame.height - half).drop("value").write_parquet(folder / "part-001.parquet")


def _impossible_day(city: Path) -> dict:
    school_lines(city, school_field(1, "31.02.2025", (7,)))
    return fail("school")


def _identifier_column(city: Path) -> None:
    as_csv(
        city,
        "consents",
        lambda f: f.with_columns(hetu=pl.lit("010203A123B")),
    )


def _quarantine_under(city: Path) -> None:
    rewrite(city, "services", lambda f: set_value(f, "end", date(2020, 1, 1), [0]))


def _quarantine_over(city: Path) -> None:
    rewrite(city, "services", lambda f: set_value(f, "end", date(2020, 1, 1), 40))


def _invalid_yaml(city: Path) -> dict:
    return {"__raw__": "partners: {school: [unclosed\n"}


def _unknown_key(city: Path) -> dict:
    return {"sources": {"consents": {"on_eror": "fail"}}}


def _contacts_bad_phone(city: Path) -> None:
    rewrite(city, "contacts", lambda f: set_value(f, "phone", "call me maybe", [3]))


def _contacts_null_name(city: Path) -> None:
    as_csv(city, "contacts", lambda f: set_value(f, "name", None, [2]))


def _contacts_wrong_encoding(city: Path) -> dict:
    """Names with ä and ö, exported in Windows-1252, declared UTF-8."""
    as_csv(
        city,
        "contacts",
        lambda f: set_value(f, "name", "Äijälä Öhman", [1]),
        encoding="windows-1252",
    )
    return {"sources": {"contacts": {"encoding": "utf-8"}}}


def _contacts_duplicate(city: Path) -> None:
    rewrite(city, "contacts", lambda f: set_value(f, "person_id", f["person_id"][0], [5]))


def _contacts_bad_language(city: Path) -> None:
    rewrite(city, "contacts", lambda f: set_value(f, "preferred_language", "klingon", [4]))


def _blank_lines(city: Path) -> None:
    path = as_csv(city, "consents")
    path.write_bytes(path.read_bytes() + b"\n\n;;;;;;;;;;;;\n")


def _utf16(city: Path) -> None:
    path = as_csv(city, "consents")
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


def _nested_column(city: Path) -> None:
    rewrite(city, "consents", lambda f: f.with_columns(pl.col("purposes").str.split(",")))


def _blank_consent_id(city: Path) -> None:
    rewrite(city, "consents", lambda f: set_value(f, "consent_id", "   ", [11]))


def _fractional_year(city: Path) -> None:
    as_csv(city, "consents", lambda f: set_value(f, "birth_year", "2003,5", [3]))


def _empty_parts_folder(city: Path) -> None:
    (city / "events" / "outreach.parquet").unlink()
    (city / "events" / "outreach").mkdir()


def _identity_code_as_team(city: Path) -> None:
    """Typed into the team column, an identity code would name a list file and log lines."""
    rewrite(city, "consents", lambda f: set_value(f, "team", "010203A123B", [13]))


def _email_as_team(city: Path) -> None:
    """A person's own e-mail (from the vault, so `private` looks for it) as a team name."""
    email = parquet(city, "contacts")["email"].drop_nulls()[0]
    rewrite(city, "consents", lambda f: set_value(f, "team", email, [14]))


def _slash_in_team(city: Path) -> None:
    rewrite(city, "consents", lambda f: set_value(f, "team", "itä/koillinen", [5]))


def _phone_in_language(city: Path) -> None:
    """A phone number slipped one column to the right, into preferred_language."""
    phone = parquet(city, "contacts")["phone"].drop_nulls()[0]
    rewrite(city, "contacts", lambda f: set_value(f, "preferred_language", phone, [2]))


def _mixed_encoding(city: Path) -> None:
    """UTF-8 consents where line 12 was typed in Excel (Windows-1252): itäinen on both."""
    target = as_csv(city, "consents", lambda f: set_value(f, "team", "itäinen", [3, 10]))
    lines = target.read_text(encoding="utf-8").split("\n")
    target.write_bytes(
        b"\n".join(x.encode("windows-1252" if i == 11 else "utf-8") for i, x in enumerate(lines))
    )


def _csv_over_limit(city: Path) -> dict:
    return {"partners": {"school": {"format": "csv", "max_csv_mb": 0.01}}}


def _yaml_bomb(city: Path) -> dict:
    laughs = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        laughs.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return {"__raw__": "\n".join(laughs) + "\narea_name: *i\n"}


def _workspace_is_data_dir(city: Path) -> dict:
    return {"workspace": str(city)}


def _negative_capacity(city: Path) -> dict:
    return {"outreach": {"capacity": {"per_team": {"itainen": -1}}}}


def _future_as_of(city: Path) -> dict:
    return {"as_of": (date.today() + timedelta(days=90)).isoformat()}


CASES = [
    Case("text-in-date-column", _text_in_date, "consents/register.parquet", "given_at", "'yesterday'", run=True),
    Case("text-in-number-column", _text_in_number, "consents/register.csv", "birth_year", "'twenty'"),
    Case("missing-required-column", _missing_column, "consents/register.parquet", "language", run=True),
    Case("missing-column-in-csv", _missing_column_csv, "school.csv", "event_type"),
    Case("null-person-id", _null_person_id, "consents/register.parquet", "person_id", "row 8"),
    Case("null-consent-id", _null_consent_id, "consents/register.csv", "consent_id", "row 6 (line 7)"),
    Case("duplicate-consent", _duplicate_consent, "consents/register.parquet", "consent_id", "duplicate value", run=True),
    Case("future-date", _future_consent, "consents/register.parquet", "given_at", "'2099-01-01'"),
    Case("future-event-date", _future_event, "school.csv", "event_date", "'01.01.2099'"),
    Case("unknown-event-type", _unknown_event_type, "outreach.parquet", "event_type", "'party'", run=True),
    Case("postal-code-not-5-digits", _postal_code_short, "consents/register.parquet", "postal_code", "'0010'"),
    Case("postal-code-letters", _postal_code_letters, "consents/register.csv", "postal_code", "'00A10'"),
    Case("empty-file-0-bytes", _empty_file, "consents/register.csv", None, None),
    Case("header-only-csv", _header_only, "school.csv", None, "person_id, event_date"),
    Case("truncated-parquet", _truncated_parquet, "consents/register.parquet", None, None, run=True),
    Case("wrong-encoding", _wrong_encoding, "consents/register.csv", "team", "line 12"),
    Case("mixed-separators", _mixed_separators, "school.csv", None, "line 4", run=True),
    Case("huge-number", _huge_value, "school.csv", "value", "'1e300'"),
    Case("huge-whole-number", _huge_birth_year, "consents/register.csv", "birth_year", "'1e300'"),
    Case("missing-source-file", _missing_file, "services", None, None),
    Case("missing-events-folder", _missing_events_folder, "events", None, None, run=True),
    Case("missing-data-folder", _missing_data_dir, "no-such-folder", None, None, code=2),
    Case("non-finite-inf", _inf_value, "school.csv", "value", "'inf'"),
    Case("non-finite-nan", _nan_value, "ohjaamo.parquet", "value", "'NaN'"),
    Case("implausible-birth-year", _negative_birth_year, "consents/register.parquet", "birth_year", "-1990"),
    Case("expires-before-given", _expires_before_given, "consents/register.parquet", "expires_at", "'2001-01-01'"),
    Case("unknown-purpose", _unknown_purpose, "consents/register.parquet", "purposes", "marketing"),
    Case("parts-with-different-columns", _parts_differ, "part-001.parquet", "value", None),
    Case("empty-parts-folder", _empty_parts_folder, "outreach", None, None),
    Case("impossible-day", _impossible_day, "school.csv", "event_date", "'31.02.2025'"),
    Case("nested-values", _nested_column, "consents/register.parquet", "purposes", None),
    Case("blank-consent-id", _blank_consent_id, "consents/register.parquet", "consent_id", "empty text"),
    Case("fractional-whole-number", _fractional_year, "consents/register.csv", "birth_year", "'2003,5'"),
    Case("quarantine-over-limit", _quarantine_over, "services.parquet", "end", "before start", run=True),
    Case("contacts-bad-phone", _contacts_bad_phone, "contacts/register.parquet", "phone", "phone=‹hidden›"),
    Case("contacts-null-name", _contacts_null_name, "contacts/register.csv", "name", "row 3 (line 4)"),
    Case("contacts-wrong-encoding", _contacts_wrong_encoding, "contacts/register.csv", "name", "line 3", run=True),
    Case("contacts-duplicate-person", _contacts_duplicate, "contacts/register.parquet", "person_id", "row 6"),
    Case("contacts-bad-language", _contacts_bad_language, "contacts/register.parquet", "preferred_language", "'klingon'"),
    Case("invalid-yaml", _invalid_yaml, "case.yaml", None, None, run=True, code=2),
    Case("unknown-config-key", _unknown_key, "case.yaml", "sources.consents.on_eror", None, code=2),
    Case("bom", _bom, ok=True),
    Case("windows-1252-configured", _windows_1252_configured, ok=True),
    Case("identifier-column-dropped", _identifier_column, ok=True),
    Case("quarantine-under-limit", _quarantine_under, ok=True),
    Case("blank-lines", _blank_lines, ok=True),
    Case("utf-16-excel-export", _utf16, ok=True),
    Case("identity-code-as-team", _identity_code_as_team, "consents/register.parquet", "team", "row 14: team=‹hidden›", run=True),
    Case("email-as-team", _email_as_team, "consents/register.parquet", "team", "row 15: team=‹hidden›"),
    Case("slash-in-team", _slash_in_team, "consents/register.parquet", "team", "team='itä/koillinen'"),
    Case("phone-in-language", _phone_in_language, "contacts/register.parquet", "preferred_language", "row 3: preferred_language=‹hidden›"),
    Case("mixed-encoding", _mixed_encoding, "consents/register.csv", "team", "line 12 (row 11)", run=True),
    Case("csv-over-size-limit", _csv_over_limit, "school.csv", None, None),
    Case("yaml-bomb", _yaml_bomb, "case.yaml", None, None, code=2),
    Case("workspace-is-data-dir", _workspace_is_data_dir, "case.yaml", "workspace, data_dir", None, code=2),
    Case("negative-capacity", _negative_capacity, "case.yaml", "outreach.capacity.per_team.itainen", None, code=2),
    Case("future-as-of", _future_as_of, "case.yaml", "as_of", None, run=True, code=2),
]  # fmt: skip


WARNINGS = {
    "identifier-column-dropped": "hetu look like direct identifiers",
    "blank-lines": "empty line(s) skipped",
    "utf-16-excel-export": "UTF-16",
    "quarantine-under-limit": "services: 1 row refused: end: before start",
}


def prepare(case: Case, city: Path, workspace: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A broken copy of the city and a configuration on it with the baseline workspace."""
    copy = tmp_path / "city"
    shutil.copytree(city, copy)
    overrides = case.breaks(copy) or {}
    raw = overrides.pop("__raw__", None)
    workspace = Path(overrides.pop("workspace", workspace))  # a case may point it elsewhere
    config = make_config(tmp_path / "case.yaml", workspace, copy, **overrides)
    if raw is not None:
        config.write_text(config.read_text() + raw)
    return config, copy


def private(text: str, city: Path) -> None:
    """No pseudonym, and no name, phone or e-mail of the city's contact vault, in ``text``."""
    assert not PSEUDONYM.findall(text), PSEUDONYM.findall(text)
    contacts = (
        pl.read_parquet(city / "contacts/register.parquet")
        if (city / "contacts/register.parquet").exists()
        else None
    )
    if contacts is None:
        return
    for column in ("name", "phone", "email"):
        leaked = [v for v in contacts[column].drop_nulls().to_list() if v in text]
        assert not leaked, (column, leaked[:3])
    assert "Äijälä" not in text and "010203A123B" not in text


def error_paragraph(output: str, case: Case) -> str:
    """The one-line error paragraph about the case's file, checked for column and examples."""
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    # A register part (consents/register.parquet) is named itself when it cannot be read,
    # and by its folder (the source) when its rows break the contract.
    names = [case.file]
    if "/register." in case.file:
        names.append(f"/{case.file.split('/')[0]}:")
    about = [line for line in errors if any(name in line for name in names)]
    assert about, output
    paragraph = about[0]
    if case.column:
        label = "Key" if case.file.endswith(".yaml") else "Column"  # a configuration has keys
        assert f"{label}: {case.column}." in paragraph, paragraph
    if case.example:
        assert case.example in paragraph, paragraph
    if case.example and case.column:
        assert "Example rows:" in paragraph, paragraph
    return paragraph


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_validate_reports_each_malformed_input(
    case: Case, city: Path, baseline, tmp_path: Path
) -> None:
    """`ennakko validate` refuses with one paragraph and a non-zero exit, or reads it fine."""
    workspace, lists = baseline
    config, copy = prepare(case, city, workspace, tmp_path)
    result = CliRunner().invoke(app, ["validate", "--config", str(config)])
    output = result.output
    assert "Traceback" not in output
    # CliRunner keeps an escaped exception (a traceback on a terminal) in result.exception.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    private(output, copy)
    assert snapshot(workspace) == lists
    if case.ok:
        assert result.exit_code == 0, output
        assert "Error:" not in output
        if case.id in WARNINGS:
            assert WARNINGS[case.id] in output, output
        return
    assert result.exit_code == case.code, output
    error_paragraph(output, case)


RUN_CASES = [c for c in CASES if c.run]


def invoke_run(config: Path):
    """``ennakko run`` with Prefect's console logs going where this test's stderr goes.

    Prefect binds its console handler to the stderr of the moment it sets logging up; a
    test's capture streams come and go, so point the handler at the current one (capfd
    then sees what a terminal would) and put it back afterwards.
    """
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]
    handlers = {h for lg in loggers for h in lg.handlers if isinstance(h, PrefectConsoleHandler)}
    saved = [(h, h.stream, h.console.file) for h in handlers]
    for handler in handlers:
        handler.setStream(sys.stderr)
        handler.console.file = sys.stderr
    try:
        return CliRunner().invoke(app, ["run", "--config", str(config)])
    finally:
        for handler, stream, file in saved:
            handler.setStream(stream)
            handler.console.file = file


@pytest.mark.parametrize("case", RUN_CASES, ids=lambda c: c.id)
def test_run_stops_and_keeps_the_published_lists(
    case: Case, city: Path, baseline, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """`ennakko run` stops with the same kind of paragraph, exit 2, and publishes nothing."""
    workspace, lists = baseline
    config, copy = prepare(case, city, workspace, tmp_path)
    result = invoke_run(config)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    captured = capfd.readouterr()
    terminal = result.output + captured.out + captured.err
    assert result.exit_code == 2, terminal
    assert "Traceback" not in terminal, terminal
    error_paragraph(result.output, case)
    assert "Nothing was written" in result.output
    private(terminal, copy)
    log = workspace / "logs" / "ennakko.log"
    if log.exists():
        private(log.read_text(encoding="utf-8"), copy)
    assert snapshot(workspace) == lists


def test_run_goes_on_under_the_quarantine_limit_and_keeps_the_refused_rows(
    city: Path, baseline, tmp_path: Path
) -> None:
    """One bad service row of ~600 is under 1 %: the run publishes, the row waits in quarantine."""
    workspace, _ = baseline
    copy_ws = tmp_path / "workspace"
    shutil.copytree(workspace, copy_ws, symlinks=True)
    case = next(c for c in CASES if c.id == "quarantine-under-limit")
    config, _ = prepare(case, city, copy_ws, tmp_path)
    result = invoke_run(config)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    quarantined = pl.read_parquet(copy_ws / "quarantine" / AS_OF / "services.parquet")
    assert quarantined.height == 1
    assert quarantined["reason"].to_list() == ["end: before start"]
    assert quarantined["row"].to_list() == [1]  # 1-based data row
    assert quarantined["end"].to_list() == ["2020-01-01"]


def workspace_copy(baseline, tmp_path: Path) -> Path:
    """A copy of the baseline workspace (trained champion, published lists) to run on."""
    copy_ws = tmp_path / "workspace"
    shutil.copytree(baseline[0], copy_ws, symlinks=True)
    return copy_ws


def test_capacity_zero_gives_that_team_an_empty_list_not_a_traceback(
    city: Path, baseline, tmp_path: Path
) -> None:
    """0 rows for one team lists the others; 0 for every team publishes a manifest of no rows."""
    import json

    copy_ws = workspace_copy(baseline, tmp_path)
    teams = sorted(set(parquet(city, "consents")["team"]))
    one = make_config(
        tmp_path / "one.yaml", copy_ws, city, outreach={"capacity": {"per_team": {teams[0]: 0}}}
    )
    result = invoke_run(one)
    assert result.exit_code == 0, result.output
    manifest = json.loads((copy_ws / "lists" / AS_OF / "manifest.json").read_text())
    assert teams[0] not in manifest["teams"] and manifest["rows"] > 0
    every = make_config(tmp_path / "all.yaml", copy_ws, city, outreach={"capacity": {"default": 0}})
    result = invoke_run(every)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    manifest = json.loads((copy_ws / "lists" / AS_OF / "manifest.json").read_text())
    assert manifest["rows"] == 0 and manifest["teams"] == {}


@pytest.mark.parametrize("command", ["run", "train"])
def test_an_as_of_date_before_the_data_is_one_paragraph(
    command: str, city: Path, baseline, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Before the first consent and partner row: exit 2, the earliest date named, no traceback."""
    copy_ws = workspace_copy(baseline, tmp_path)
    lists = snapshot(copy_ws)
    config = make_config(tmp_path / "early.yaml", copy_ws, city, truth=True)
    result = CliRunner().invoke(app, [command, "--config", str(config), "--as-of", "2019-01-01"])
    terminal = result.output + "".join(capfd.readouterr())
    assert result.exit_code == 2, terminal
    assert "Traceback" not in terminal
    assert "2019-01-01" in result.output and "on or after" in result.output
    assert snapshot(copy_ws) == lists


# ---------------------------------------------------- the rules behind the corpus, one by one

CTX = Context(date(2025, 12, 1), tuple(EVENT_TYPES), EVENT_TYPES["school"])


def contacts_file(tmp_path: Path, rows: list[tuple]) -> Path:
    path = tmp_path / "contacts.csv"
    lines = ["person_id;name;phone;email;preferred_language"]
    lines += [";".join("" if v is None else v for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


VAULT_ROWS = [
    ("ENAAAAAAAAAA", "Aino Virtanen", "+358 40 1234567", "aino@example.org", "fi"),
    ("ENBBBBBBBBBB", "Matti Meikäläinen", "soita minulle", "matti(at)example.org", "xx"),
    ("ENCCCCCCCCCC", None, "+358 40 7654321", "c@example.org", "sv"),
    ("ENAAAAAAAAAA", "Aino Virtanen", "+358 40 1234567", "aino@example.org", "fi"),
]


def vault_text(text: str) -> list[str]:
    values = {v for row in VAULT_ROWS for v in row if v and v not in ("fi", "sv", "xx")}
    return sorted(v for v in values if v in text)


def test_a_broken_contact_vault_shows_no_name_phone_email_or_pseudonym(tmp_path: Path) -> None:
    """Each refused vault row is named by number and reason, never by its contents."""
    from features.sources import enforce_policy

    path = contacts_file(tmp_path, VAULT_ROWS)
    contract = contacts_contract(CTX)
    table = read_table(path, ReadSpec(), contract)
    result = validate(table.frame, contract, source=str(path), where=table.where)
    assert set(result.reasons()) >= {
        "phone: not a phone number",
        "email: not an email address",
        "preferred_language: not one of fi, sv, en",
        "name: empty",
        "person_id: duplicate value",
    }
    with pytest.raises(SourceError) as refused:
        enforce_policy(result, ReadSpec(on_error="fail"))
    text = str(refused.value) + repr(refused.value)
    assert vault_text(text) == []
    assert "row 2 (line 3): phone=‹hidden›, email=‹hidden›, preferred_language='xx'" in text
    assert "row 1 (line 2): person_id=‹pseudonym› (person_id: duplicate value)" in text
    assert "Rows are counted from 1 after the header" in text


def test_the_vault_shows_an_offending_value_only_outside_name_phone_and_email(
    tmp_path: Path,
) -> None:
    path = contacts_file(tmp_path, [("ENDDDDDDDDDD", "Liisa Laine", "+358 40 1111111", None, "de")])
    contract = contacts_contract(CTX)
    table = read_table(path, ReadSpec(), contract)
    example = validate(table.frame, contract, source="c", where=table.where).examples()[0]
    assert example == (
        "row 1 (line 2): preferred_language='de' (preferred_language: not one of fi, sv, en)"
    )


def test_an_undecodable_vault_line_names_line_and_column_not_the_name(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    text = "person_id;name;phone;email;preferred_language\nENEEEEEEEEEE;Kärkkäinen;+358 40 2222222;;fi\n"
    path.write_bytes(text.encode("windows-1252"))
    with pytest.raises(SourceError) as refused:
        read_table(path, ReadSpec(encoding="utf-8"), contacts_contract(CTX))
    message = str(refused.value)
    assert "line 2 (row 1): name=‹hidden›" in message and refused.value.column == "name"
    assert "K" + "\ufffd" not in message and "ENEEEEEEEEEE" not in message


def test_an_identifier_column_is_dropped_at_the_door_unread(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "person_id;hetu;event_date;event_type;value;Nimi\n"
        "ENAAAAAAAAAA;010203A123B;01.02.2024;absence;2,5;Aino\n"
    )
    contract = events_contract(CTX, "events/school")
    table = read_table(path, ReadSpec(), contract)
    assert "hetu" not in table.frame.columns and "Nimi" not in table.frame.columns
    assert table.header == ["person_id", "hetu", "event_date", "event_type", "value", "Nimi"]
    result = validate(table.frame, contract, source="e", header=table.header)
    assert result.bad.is_empty() and result.good["value"].to_list() == [2.5]
    assert any("hetu, Nimi look like direct identifiers" in w for w in result.warnings)


def test_data_checks_run_even_when_pandera_is_told_schema_only() -> None:
    """PANDERA_VALIDATION_DEPTH=SCHEMA_ONLY (or a config context) must not skip data checks."""
    import pandera.config as pandera_config

    frame = pl.DataFrame(
        {"person_id": ["ENAAAAAAAAAA"], "event_date": ["01.02.2024"], "event_type": ["party"]}
    )
    with pandera_config.config_context(
        validation_enabled=False, validation_depth=pandera_config.ValidationDepth.SCHEMA_ONLY
    ):
        result = validate(frame, events_contract(CTX, "s"), source="s")
    assert list(result.reasons()) == [
        "event_type: not one of enrolled, absence, credits, interrupted, graduated"
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dropping_exact_duplicates_equals_unique_in_order(seed: int) -> None:
    import numpy as np

    from features.validate import drop_exact_duplicates

    rng = np.random.default_rng(seed)
    people = ["ENAAAAAAAAAA", "ENBBBBBBBBBB", None]
    frame = pl.DataFrame(
        {
            "person_id": [people[i] for i in rng.integers(0, 3, 400)],
            "day": rng.integers(0, 5, 400),
            "value": [[0.5, 1.5, None][i] for i in rng.integers(0, 3, 400)],
        },
        schema={"person_id": pl.String, "day": pl.Int64, "value": pl.Float64},
    )
    kept, dropped = drop_exact_duplicates(frame)
    expected = frame.unique(maintain_order=True, keep="first")
    assert kept.equals(expected) and dropped == frame.height - expected.height


def test_parts_are_numbered_by_part_and_may_order_columns_differently(tmp_path: Path) -> None:
    folder = tmp_path / "outreach"
    folder.mkdir()
    rows = {"person_id": ["ENAAAAAAAAAA"] * 3, "event_date": [date(2024, 1, 1)] * 3}
    first = pl.DataFrame({**rows, "event_type": ["contact"] * 3, "value": [1.0] * 3})
    first.write_parquet(folder / "part-000.parquet")
    second = first.with_columns(pl.Series("event_type", ["contact", "party", "contact"]))
    second.select(reversed(second.columns)).with_columns(
        pl.col("event_date").cast(pl.String)
    ).write_parquet(folder / "part-001.parquet")
    ctx = Context(date(2025, 12, 1), ("outreach",), EVENT_TYPES["outreach"])
    contract = events_contract(ctx, "events/outreach")
    table = read_table(folder, ReadSpec(), contract)
    result = validate(table.frame, contract, source=str(folder), where=table.where)
    assert result.bad["row"].to_list() == [5]
    assert result.examples()[0].startswith("part-001.parquet row 2: event_type='party'")
    assert result.good.height == 1 and result.duplicates_dropped == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("person_id;person_id ;event_date\nA;B;C\n", "names column 'person_id' twice"),
        ('"person_id";"event_date";"event_type"\nENAAAAAAAAAA,01.02.2024,absence\n', "fields"),
        ("\n\nperson_id;event_date\n", "header) is empty"),
    ],
    ids=["duplicate-header", "quoted-header-mixed-separators", "blank-first-line"],
)
def test_broken_csv_layouts_are_refused_cleanly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "events.csv"
    path.write_text(content)
    with pytest.raises(SourceError, match=re.escape(message)):
        read_table(path, ReadSpec(), events_contract(CTX, "s"))


def test_an_absolute_source_path_that_is_missing_is_refused_cleanly(tmp_path: Path) -> None:
    from features.readers import locate

    with pytest.raises(SourceError, match="source `services` is missing"):
        locate(tmp_path, "services", ReadSpec(path=str(tmp_path.parent / "elsewhere" / "x")))


def test_fractional_and_non_finite_parquet_numbers_are_refused_not_rounded() -> None:
    from features.contracts import consents_contract

    frame = pl.DataFrame(
        {
            "person_id": ["ENAAAAAAAAAA", "ENBBBBBBBBBB"],
            "consent_id": ["C1", "C2"],
            "given_at": [date(2024, 1, 1)] * 2,
            "purposes": ["scoring"] * 2,
            "channel": ["web"] * 2,
            "notice_version": ["v3"] * 2,
            "birth_year": [2003.7, 2004.0],
            "postal_code": [100, 150],
            "language": ["fi"] * 2,
            "team": ["t"] * 2,
        }
    )
    result = validate(frame, consents_contract(CTX), source="c")
    assert result.bad["row"].to_list() == [1]
    assert result.reasons() == {"birth_year: cannot be read as a whole number": 1}
    assert result.good["birth_year"].to_list() == [2004]
    assert result.good["postal_code"].to_list() == ["00150"]  # a spreadsheet's lost zeros


def test_validate_escapes_markup_in_values(city: Path, tmp_path: Path) -> None:
    """A value like "[bold]" in an example row is printed, not swallowed as console markup."""
    copy = tmp_path / "city"
    shutil.copytree(city, copy)
    rewrite(copy, "consents", lambda f: set_value(f, "postal_code", "[bold]001", [0]))
    config = make_config(tmp_path / "case.yaml", tmp_path / "ws", copy)
    result = CliRunner().invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 1
    assert "postal_code='[bold]001'" in result.output
    assert not (tmp_path / "ws").exists()  # validate writes nothing


def test_describe_row_masks_pseudonyms_and_identifiers_everywhere() -> None:
    from features.describe import describe_row

    row = {"person_id": "ENAAAAAAAAAA", "hetu": "010203A123B", "value": "x"}
    text = describe_row(row, "row 4", "value: cannot be read as a finite number")
    assert text == (
        f"row 4: value='x' (value: cannot be read as a finite number); person_id={MASK}, "
        "hetu=‹hidden›"
    )
