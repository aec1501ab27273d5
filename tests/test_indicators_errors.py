"""Malformed indicator files: each fails as one SourceError that names the file.

Every case is written to ``tmp_path`` so the message can be checked for the file's name.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from features.errors import SourceError
from indicators import (
    convert,
    derive_paavo_rates,
    map_areas,
    read_area_hierarchy,
    read_indicators,
    validate_long,
)
from tests.conftest import SHARED_DATA

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "indicators"
SHARED = SHARED_DATA

SMALL_PX = """CHARSET="ANSI";
STUB="Alue";
HEADING="Vuosi";
VALUES("Alue")="091 Helsinki","092 Vantaa";
VALUES("Vuosi")="2020","2021";
DATA=
1 2
3 4;
"""
LONG_HEADER = "area_code,area_level,period,indicator,value\n"


def fails(path: Path, *, match: str = "", **kwargs: str) -> SourceError:
    """Assert reading ``path`` raises SourceError naming it; return the error."""
    with pytest.raises(SourceError) as caught:
        read_indicators(path, **kwargs)
    message = str(caught.value)
    assert path.name in message, message
    assert match.lower() in message.lower(), message
    return caught.value


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding=encoding)
    return path


def test_small_px_reads(tmp_path: Path) -> None:
    """The base of the PX cases below is itself valid (so each case tests one fault)."""
    table = read_indicators(write(tmp_path, "ok.px", SMALL_PX))
    assert table.data.height == 4
    assert set(table.data.get_column("area_code")) == {"091", "092"}


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("truncated.px", SMALL_PX[: SMALL_PX.index("3 4")], "truncated"),
        ("no_data.px", SMALL_PX[: SMALL_PX.index("DATA=")], "no DATA"),
        ("count.px", SMALL_PX.replace("3 4;", "3;"), "need 4"),
        ("too_many.px", SMALL_PX.replace("3 4;", "3 4 5;"), "DATA has 5 values"),
        ("quote.px", SMALL_PX.replace('"092 Vantaa"', '"092 Vantaa'), "line 4"),
        ("semicolon.px", SMALL_PX.replace('HEADING="Vuosi";', 'HEADING="Vuosi"'), "line"),
        ("text.px", SMALL_PX.replace("3 4;", "3 x4;"), "not numbers"),
        ("novalues.px", SMALL_PX.replace('VALUES("Vuosi")="2020","2021";\n', ""), "VALUES"),
        ("codes.px", SMALL_PX.replace("DATA=", 'CODES("Alue")="091";\nDATA='), "CODES"),
        ("area.px", SMALL_PX.replace("092 Vantaa", "Somewhere"), "area"),
        ("time.px", SMALL_PX.replace('"2020","2021"', '"a","b"'), "time dimension"),
        ("nostub.px", SMALL_PX.replace('STUB="Alue";\nHEADING="Vuosi";\n', ""), "STUB"),
        ("keys.px", SMALL_PX.replace("DATA=", 'KEYS("Alue")=VALUES;\nDATA='), "KEYS"),
        ("after.px", SMALL_PX + 'NOTE="late";\n', "after the DATA"),
        ("garbage.px", "this is ( not = px", "malformed"),
    ],
)
def test_malformed_pc_axis(tmp_path: Path, name: str, content: str, match: str) -> None:
    """Truncation, missing DATA, wrong counts and syntax faults name the file and the fault."""
    fails(write(tmp_path, name, content, encoding="cp1252"), match=match)


def test_real_px_cut_anywhere_fails_cleanly(tmp_path: Path) -> None:
    """The Vantaa file truncated at many points never escapes as a bare exception."""
    raw = (SHARED / "aluesarjat" / "C04S_VANS_Tyottomat_Sukupuoli.px").read_bytes()
    for cut in range(1, len(raw), 997):
        fails(write(tmp_path, "cut.px", raw[:cut]))


def test_wrong_explicit_encoding(tmp_path: Path) -> None:
    """A Windows-1252 PX file forced through UTF-8 names the line that broke."""
    path = write(
        tmp_path,
        "vantaa.px",
        (SHARED / "aluesarjat" / "C04S_VANS_Tyottomat_Sukupuoli.px").read_bytes(),
    )
    err = fails(path, match="cannot decode the file as utf-8", encoding="utf-8")
    assert "line 8" in str(err)


def test_latin1_monthly_table_is_refused(tmp_path: Path) -> None:
    """The monthly table must be UTF-8: a Latin-1 copy fails with a hint, not mojibake."""
    content = (
        "month,municipality,region,employed_derived,unemployed_jobseekers,"
        "unemployment_rate,labour_force\n2018-01-01,Hämeenlinna,Kanta-Häme,1,1,0.5,2\n"
    )
    path = write(tmp_path, "kunta.csv", content, encoding="latin-1")
    fails(path, match="encoding", kind="tyonv_monthly")


@pytest.mark.parametrize("name", ["empty.csv", "empty.px", "empty.json", "empty.parquet"])
def test_zero_byte_file(tmp_path: Path, name: str) -> None:
    """A 0-byte file of any extension is reported as empty."""
    fails(write(tmp_path, name, b""), match="empty")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("header_only.csv", LONG_HEADER, "no data rows"),
        (
            "dupes.csv",
            LONG_HEADER + "091,municipality,2020,x,1\n091,municipality,2020,x,2\n",
            "duplicate",
        ),
        ("text.csv", LONG_HEADER + "091,municipality,2020,x,abc\n", "not numbers"),
        ("inf.csv", LONG_HEADER + "091,municipality,2020,x,inf\n", "not numbers"),
        ("period.csv", LONG_HEADER + "091,municipality,2020M01,x,1\n", "period"),
        ("level.csv", LONG_HEADER + "091,city,2020,x,1\n", "area_level"),
        ("slug.csv", LONG_HEADER + "091,municipality,2020,Työttömät,1\n", "indicator"),
        ("nullkey.csv", LONG_HEADER + ",municipality,2020,x,1\n", "area_code"),
        ("nocol.csv", "area_code,area_level,period,value\n091,municipality,2020,1\n", "indicator"),
        ("extra.csv", LONG_HEADER.strip() + ",note\n091,municipality,2020,x,1,a\n", "note"),
        ("ragged.csv", LONG_HEADER + "091,municipality,2020,x,1,9,9\n", "line 2"),
        ("unknown.csv", "hello\nworld\n", "unknown format"),
    ],
)
def test_malformed_csv(tmp_path: Path, name: str, content: str, match: str) -> None:
    """Long-form CSV faults: header only, duplicate keys, non-numbers, bad keys, columns."""
    fails(write(tmp_path, name, content), match=match)


def test_all_missing_long_form(tmp_path: Path) -> None:
    """A file whose every value is a missing marker has nothing to give."""
    path = write(tmp_path, "dots.csv", LONG_HEADER + "091,municipality,2020,x,..\n")
    fails(path, match="all 1 cells are missing")


def test_parquet_with_numeric_codes(tmp_path: Path) -> None:
    """Postal codes stored as integers lost their leading zeros: refused, not guessed."""
    path = tmp_path / "ints.parquet"
    pl.DataFrame(
        {
            "area_code": [100],
            "area_level": ["postal_code"],
            "period": ["2020"],
            "indicator": ["x"],
            "value": [1.0],
        }
    ).write_parquet(path)
    fails(path, match="must be text")


def test_not_parquet(tmp_path: Path) -> None:
    """Bytes that are not Parquet are reported as such."""
    fails(write(tmp_path, "bad.parquet", b"PAR1 not really"), match="Parquet")


def jsonstat(**changes: object) -> str:
    doc = json.loads((FIXTURES / "jsonstat_municipality_monthly.json").read_text("utf-8"))
    doc.update(changes)
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("bad.json", '{"class": "dataset", "id": [', "not valid JSON"),
        ("size.json", jsonstat(size=[3, 1, 2, 3]), "size"),
        ("values.json", jsonstat(value=[1, 2, 3]), "'value' has 3 cells"),
        ("sparse.json", jsonstat(value={"99": 1}), "not a position"),
        ("string.json", jsonstat(value=["x"] * 12), "not numbers"),
        ("valuetype.json", jsonstat(value="1,2"), "array or an object"),
        ("class.json", jsonstat(**{"class": "collection"}), "dataset"),
        ("ids.json", jsonstat(id=["Alue", "Nope", "Kuukausi", "Tiedot"]), "Nope"),
        ("role.json", jsonstat(role={"time": ["Missing"]}), "Missing"),
        ("list.json", "[1, 2]", "object"),
    ],
)
def test_malformed_jsonstat(tmp_path: Path, name: str, content: str, match: str) -> None:
    """Bad JSON, sizes that do not match, bad value forms and roles."""
    fails(write(tmp_path, name, content), match=match)


def test_paavo_without_header(tmp_path: Path) -> None:
    """A Paavo file with its header removed cannot be read as Paavo."""
    content = '"12f7 -- 9. All data groups"\n\n"00100  Helsinki keskusta (Helsinki)","X",1\n'
    fails(write(tmp_path, "paavo.csv", content, "latin-1"), match="header", kind="paavo")


def test_paavo_bad_value_and_area(tmp_path: Path) -> None:
    """Non-numbers and areas without a postal code name the column."""
    head = '"t"\n\n"Postal code area","Information","2023"\n'
    bad_value = write(tmp_path, "v.csv", head + '"00100  A (Helsinki)","Employed (PT)",x\n')
    fails(bad_value, match="not numbers")
    bad_area = write(tmp_path, "a.csv", head + '"Nowhere","Employed (PT)",1\n')
    fails(bad_area, match="Postal code area")


def test_pxweb_header_only_and_ragged(tmp_path: Path) -> None:
    """A PxWeb table with no rows, or with a row longer than the header, is refused."""
    head = '\ufeff"Työttömyysaste 2024-2025";;\n;"2024";"2025"\n'
    fails(write(tmp_path, "head.csv", head), match="no data rows", kind="pxweb_csv")
    ragged = head + '"15 - 24";18,8;21,8;9\n'
    fails(write(tmp_path, "ragged.csv", ragged), match="fields", kind="pxweb_csv")
    text = head + '"15 - 24";18,8;lots\n'
    fails(write(tmp_path, "text.csv", text), match="not numbers", kind="pxweb_csv")


def test_monthly_table_faults(tmp_path: Path) -> None:
    """Missing columns, bad months and a rate that is not a share are refused."""
    header = (
        "month,municipality,region,employed_derived,unemployed_jobseekers,"
        "unemployment_rate,labour_force\n"
    )
    row = "2018-01-01,Helsinki,Uusimaa,9,1,0.1,10\n"
    fails(
        write(tmp_path, "nocol.csv", "month,municipality\n2018-01-01,Helsinki\n"),
        match="unemployed_jobseekers",
        kind="tyonv_monthly",
    )
    fails(
        write(tmp_path, "month.csv", header + row.replace("2018-01-01", "Jan 2018")),
        match="month",
        kind="tyonv_monthly",
    )
    fails(
        write(tmp_path, "rate.csv", header + row.replace("0.1", "10.0")),
        match="share",
        kind="tyonv_monthly",
    )
    fails(write(tmp_path, "head.csv", header), match="no data rows", kind="tyonv_monthly")


def test_missing_file_directory_and_unknown_kind(tmp_path: Path) -> None:
    """Paths that are not readable files, and kinds that do not exist."""
    fails(tmp_path / "nowhere.csv", match="not found")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    fails(folder, match="directory")
    fails(write(tmp_path, "x.csv", LONG_HEADER), match="unknown kind", kind="excel")
    fails(write(tmp_path, "y.csv", LONG_HEADER), match="unknown encoding", encoding="klingon")


def test_hierarchy_faults(tmp_path: Path) -> None:
    """Hierarchy lines that are not a path from the city down are refused with the line."""
    for name, content, match in [
        (
            "order.csv",
            "091 Helsinki;091 101 Vironniemen peruspiiri;091 1 Eteläinen suurpiiri",
            "line 1",
        ),
        ("code.csv", "091 Helsinki;Somewhere", "no recognisable code"),
        (
            "two.csv",
            "091 Helsinki;091 1 A suurpiiri;091 10 X\r091 Helsinki;091 2 B suurpiiri;091 10 X",
            "two different",
        ),
        ("empty.csv", "", "empty"),
    ]:
        path = write(tmp_path, name, content)
        with pytest.raises(SourceError, match=match) as caught:
            read_area_hierarchy(path)
        assert name in str(caught.value)


def test_contract_errors_outside_files() -> None:
    """validate_long, derive_paavo_rates and map_areas refuse bad frames with SourceError."""
    frame = pl.DataFrame(
        {
            "area_code": ["091"],
            "area_level": ["municipality"],
            "period": ["2020"],
            "indicator": ["x"],
            "value": [1.0],
        }
    )
    with pytest.raises(SourceError, match="extra_source"):
        validate_long(frame.rename({"value": "v"}), "extra_source")
    with pytest.raises(SourceError, match="Paavo"):
        derive_paavo_rates(frame)
    with pytest.raises(SourceError, match="to_code"):
        map_areas(frame, pl.DataFrame({"from_level": ["x"]}), "country")
    mixed = pl.concat([frame, frame.with_columns(area_level=pl.lit("sub_district"))])
    mapping = pl.DataFrame(
        {
            "from_level": ["sub_district"],
            "from_code": ["091"],
            "to_level": ["country"],
            "to_code": ["SSS"],
        }
    )
    with pytest.raises(SourceError, match="from_level"):
        map_areas(mixed, mapping, "country")


def test_convert_with_no_or_bad_inputs(tmp_path: Path) -> None:
    """convert() names the bad input and writes nothing."""
    with pytest.raises(SourceError, match="no input files"):
        convert([], tmp_path / "out.parquet")
    bad = write(tmp_path, "bad.csv", LONG_HEADER)
    with pytest.raises(SourceError, match=r"bad\.csv"):
        convert([FIXTURES / "jsonstat_vantaa_sparse.json", bad], tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()
