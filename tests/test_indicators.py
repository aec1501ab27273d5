"""Indicator readers on the real published files: every file converts, published values survive.

The real files live outside the repository (``../shared/data/indicators``); tests that need
them fail (never skip) where that folder cannot be found (see tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from features.errors import SourceError
from indicators import (
    AREA_LEVELS,
    LONG_COLUMNS,
    IndicatorSchema,
    IndicatorTable,
    convert,
    derive_paavo_rates,
    detect_kind,
    map_areas,
    read_area_hierarchy,
    read_indicators,
)
from tests.conftest import SHARED_DATA

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "indicators"
SHARED = SHARED_DATA

REAL_FILES = {
    "paavo/009_12f7_2020_all.csv": "paavo",
    "paavo/009_12f7_2021_all.csv": "paavo",
    "paavo/009_12f7_2022_all.csv": "paavo",
    "paavo/009_12f7_2023_all.csv": "paavo",
    "statfin/13aj_unemployment_rate_by_age_2009_2025.csv": "pxweb_csv",
    "aluesarjat/C04S_VANS_Tyottomat_Sukupuoli.px": "pcaxis",
    "aluesarjat/A01HKIS_Vaestotulot.px": "pcaxis",
    "tyonv/kunta_monthly_unemployment_2006_2018.csv": "tyonv_monthly",
}


@pytest.fixture(scope="module")
def indicators_dir() -> Path:
    """The shared folder of real indicator files, found relative to the repository."""
    if not SHARED.is_dir():
        pytest.fail(f"real indicator files not found at {SHARED}: set ENNAKKO_SHARED_DATA")
    return SHARED


@pytest.fixture(scope="module")
def tables(indicators_dir: Path) -> dict[str, IndicatorTable]:
    """Every real file read once for the module (the readers are the slow part)."""
    return {name: read_indicators(indicators_dir / name) for name in REAL_FILES}


def value_of(df: pl.DataFrame, **key: str) -> float:
    """The single value at ``key`` (area_code, area_level, period, indicator)."""
    rows = df.filter(*[pl.col(k) == v for k, v in key.items()])
    assert rows.height == 1, f"{key} matched {rows.height} rows"
    return rows.item(0, "value")


@pytest.mark.parametrize(("name", "kind"), REAL_FILES.items())
def test_kind_is_detected(indicators_dir: Path, name: str, kind: str) -> None:
    """Auto-detection picks the right reader for every real file."""
    assert detect_kind(indicators_dir / name) == kind


@pytest.mark.parametrize("name", REAL_FILES)
def test_every_real_file_reads_into_the_contract(
    tables: dict[str, IndicatorTable], name: str
) -> None:
    """Each file gives the five columns with their dtypes, valid against the schema."""
    table = tables[name]
    assert table.data.columns == list(LONG_COLUMNS)
    assert table.data.dtypes == [pl.String, pl.String, pl.String, pl.String, pl.Float64]
    assert table.data.height == table.report.rows > 0
    assert table.report.kind == REAL_FILES[name]
    assert set(table.data.get_column("indicator")) <= set(table.report.labels)
    IndicatorSchema.validate(table.data)
    assert set(table.data.get_column("area_level")) <= set(AREA_LEVELS)
    assert table.data.equals(table.data.sort(["area_level", "area_code", "indicator", "period"]))


def test_paavo_unemployment_rate_is_recomputed_from_raw_counts(
    tables: dict[str, IndicatorTable],
) -> None:
    """00100 in 2023: 693 unemployed and 10179 employed give 6.374 %."""
    raw = tables["paavo/009_12f7_2023_all.csv"].data
    key = {"area_code": "00100", "area_level": "postal_code", "period": "2023"}
    assert value_of(raw, **key, indicator="unemployed_pt") == 693
    assert value_of(raw, **key, indicator="employed_pt") == 10179
    derived = derive_paavo_rates(raw)
    assert value_of(derived, **key, indicator="unemployment_rate") == pytest.approx(
        100 * 693 / (10179 + 693)
    )
    assert value_of(derived, **key, indicator="youth_18_29") == 314 + 1828 + 2316
    bands = {"youth_18_19": 314, "youth_20_24": 1828, "youth_25_29": 2316}
    assert {b: value_of(derived, **key, indicator=b) for b in bands} == bands
    assert value_of(derived, **key, indicator="youth_share") == pytest.approx(4458 / 18462)
    assert value_of(derived, **key, indicator="basic_education_share") == pytest.approx(
        1749 / 16365
    )
    assert value_of(derived, **key, indicator="student_share") == pytest.approx(1625 / 18462)
    assert value_of(derived, **key, indicator="median_income") == 32509


def test_paavo_reads_84_areas_of_107_variables(tables: dict[str, IndicatorTable]) -> None:
    """Every Helsinki postal area and variable survives, with Latin-1 names decoded."""
    table = tables["paavo/009_12f7_2021_all.csv"]
    assert table.data.get_column("area_code").n_unique() == 84
    assert table.data.get_column("indicator").n_unique() == 107
    assert table.report.dropped_missing == 0
    assert table.report.labels["unemployed_pt"] == "Unemployed (PT)"


def test_paavo_rates_skip_areas_without_inhabitants(tables: dict[str, IndicatorTable]) -> None:
    """00230 has nobody living in it: no rate, share or income, and never inf."""
    derived = derive_paavo_rates(tables["paavo/009_12f7_2023_all.csv"].data)
    empty_area = derived.filter(pl.col("area_code") == "00230")
    counts = {"labour_force", "youth_18_29", "youth_18_19", "youth_20_24", "youth_25_29"}
    assert set(empty_area.get_column("indicator")) == counts
    assert derived.get_column("value").is_finite().all()
    shares = derived.filter(pl.col("indicator").str.ends_with("_share"))
    assert shares.get_column("value").is_between(0, 1).all()


def test_derive_keeps_inputs_when_asked(tables: dict[str, IndicatorTable]) -> None:
    """keep_inputs returns the raw counts and the derived indicators together."""
    raw = tables["paavo/009_12f7_2020_all.csv"].data
    both = derive_paavo_rates(raw, keep_inputs=True)
    assert both.height == raw.height + derive_paavo_rates(raw).height


def test_statfin_youth_unemployment_2025(tables: dict[str, IndicatorTable]) -> None:
    """The 15-24 rate for 2025 is 21.8 % for the whole country, read from a decimal comma."""
    table = tables["statfin/13aj_unemployment_rate_by_age_2009_2025.csv"]
    df = table.data
    assert value_of(df, area_code="SSS", period="2025", indicator="unemployment_rate_15_24") == (
        21.8
    )
    assert set(df.get_column("area_level")) == {"country"}
    assert df.get_column("period").n_unique() == 17
    assert any("prosenttia" in note for note in table.report.notes)


def test_vantaa_districts_from_pc_axis(tables: dict[str, IndicatorTable]) -> None:
    """Vantaa values by district, sex and year come out of the 4-dimensional PX file."""
    table = tables["aluesarjat/C04S_VANS_Tyottomat_Sukupuoli.px"]
    df = table.data
    linnainen = {"area_code": "092 10", "area_level": "sub_district"}
    assert value_of(df, **linnainen, period="2000", indicator="unemployed") == 7
    assert value_of(df, **linnainen, period="2000", indicator="unemployment_rate") == 1.9
    assert value_of(df, **linnainen, period="2006", indicator="unemployed_men") == 5
    myyrmaki = {"area_code": "092 1", "area_level": "major_district"}
    assert value_of(df, **myyrmaki, period="2000", indicator="unemployed") == 1791
    assert (
        value_of(
            df,
            area_code="092",
            area_level="municipality",
            period="2007",
            indicator="unemployment_rate_women",
        )
        == 5.5
    )
    # ".." cells (men/women in 2000, small districts) are dropped and counted
    assert table.report.dropped_missing > 0
    assert table.report.rows + table.report.dropped_missing == 70 * 3 * 2 * 8
    assert (
        df.filter(
            pl.col("area_code") == "092 10",
            pl.col("period") == "2000",
            pl.col("indicator") == "unemployed_men",
        ).height
        == 0
    )


def test_helsinki_numbers_reused_across_levels_stay_apart(
    tables: dict[str, IndicatorTable],
) -> None:
    """091 201 is Reijolan peruspiiri and Ruoholahti: two areas, told apart by level."""
    df = tables["aluesarjat/A01HKIS_Vaestotulot.px"].data
    key = {"area_code": "091 201", "period": "2008", "indicator": "persons_15_plus"}
    reijola = value_of(df, **key, area_level="basic_district")
    ruoholahti = value_of(df, **key, area_level="sub_district")
    assert reijola != ruoholahti
    basic = df.filter(pl.col("area_level") == "basic_district")
    assert basic.get_column("area_code").n_unique() == 34
    assert (
        value_of(
            df, area_code="091", area_level="municipality", period="2008", indicator="mean_income"
        )
        == 29252
    )


def test_tyonv_helsinki_month(tables: dict[str, IndicatorTable]) -> None:
    """Helsinki in January 2018: job seekers as published, the share turned into percent."""
    table = tables["tyonv/kunta_monthly_unemployment_2006_2018.csv"]
    df = table.data
    key = {"area_code": "091", "area_level": "municipality", "period": "2018-01"}
    assert value_of(df, **key, indicator="unemployed_jobseekers") == 34825
    assert value_of(df, **key, indicator="labour_force") == 341043
    assert value_of(df, **key, indicator="unemployment_rate") == pytest.approx(100 * 34825 / 341043)
    assert df.get_column("period").n_unique() == 151
    assert df.get_column("area_code").n_unique() == 311
    assert (
        value_of(
            df,
            area_code="koski_tl",
            area_level="municipality",
            period="2006-01",
            indicator="labour_force",
        )
        > 0
    )


def test_jsonstat_dense_fixture_with_null() -> None:
    """The dense value array maps row-major; the null cell is dropped and counted."""
    table = read_indicators(FIXTURES / "jsonstat_municipality_monthly.json")
    df = table.data
    assert table.report.kind == "jsonstat"
    assert table.report.dropped_missing == 1
    assert df.height == 11
    helsinki = {"area_code": "091", "area_level": "municipality"}
    assert value_of(df, **helsinki, period="2018-02", indicator="unemployed_jobseekers") == 33974
    assert value_of(df, **helsinki, period="2018-01", indicator="unemployment_rate") == 10.2
    assert (
        df.filter(
            pl.col("area_code") == "049",
            pl.col("period") == "2018-02",
            pl.col("indicator") == "unemployment_rate",
        ).height
        == 0
    )


def test_jsonstat_sparse_fixture_agrees_with_the_px_file(
    tables: dict[str, IndicatorTable],
) -> None:
    """The sparse object form gives the same Vantaa values as the PC-Axis file."""
    table = read_indicators(FIXTURES / "jsonstat_vantaa_sparse.json")
    assert table.report.dropped_missing == 1
    px = tables["aluesarjat/C04S_VANS_Tyottomat_Sukupuoli.px"].data
    joined = table.data.join(px, on=["area_code", "area_level", "period", "indicator"])
    assert joined.height == table.data.height == 3
    assert (joined.get_column("value") == joined.get_column("value_right")).all()


def test_with_labels_adds_the_published_label() -> None:
    """with_labels() keeps the five columns and adds indicator_label."""
    table = read_indicators(FIXTURES / "jsonstat_vantaa_sparse.json")
    labelled = table.with_labels()
    assert labelled.columns == [*LONG_COLUMNS, "indicator_label"]
    assert set(labelled.get_column("indicator_label")) == {"Työttömät"}


def test_hierarchy_has_8_major_and_34_basic_districts(indicators_dir: Path) -> None:
    """The CR-only hierarchy file reads into a mapping with the city's structure."""
    mapping = read_area_hierarchy(indicators_dir / "aluesarjat" / "HKI-Aluehierarkia.csv")
    to_city = mapping.filter(pl.col("to_level") == "municipality")
    counts = dict(to_city.group_by("from_level").agg(pl.col("from_code").n_unique()).iter_rows())
    assert counts["major_district"] == 8
    assert counts["basic_district"] == 34
    assert counts["sub_district"] == 136
    ruoholahti = mapping.filter(
        pl.col("from_level") == "sub_district",
        pl.col("from_code") == "091 201",
        pl.col("to_level") == "basic_district",
    )
    assert ruoholahti.get_column("to_name").to_list() == ["Kampinmalmin peruspiiri"]


def test_map_areas_sums_sub_districts_and_reports_unmapped(
    tables: dict[str, IndicatorTable], indicators_dir: Path
) -> None:
    """Sub-district counts add up to major districts; areas outside the mapping are listed."""
    mapping = read_area_hierarchy(indicators_dir / "aluesarjat" / "HKI-Aluehierarkia.csv")
    income = tables["aluesarjat/A01HKIS_Vaestotulot.px"].data.filter(
        pl.col("indicator") == "persons_15_plus"
    )
    stray = pl.DataFrame(
        {
            "area_code": ["091 777"],
            "area_level": ["sub_district"],
            "period": ["2008"],
            "indicator": ["persons_15_plus"],
            "value": [5.0],
        }
    )
    result = map_areas(
        pl.concat([income, stray]), mapping, "major_district", from_level="sub_district"
    )
    assert result.unmapped.rows() == [("sub_district", "091 777", 1)]
    published = value_of(
        income,
        area_code="091 8",
        area_level="major_district",
        period="2008",
        indicator="persons_15_plus",
    )
    summed = value_of(
        result.data,
        area_code="091 8",
        area_level="major_district",
        period="2008",
        indicator="persons_15_plus",
    )
    assert summed <= published  # small sub-districts are suppressed ("..") in the source
    assert summed == pytest.approx(published, rel=0.1)

    vantaa = tables["aluesarjat/C04S_VANS_Tyottomat_Sukupuoli.px"].data
    elsewhere = map_areas(vantaa, mapping, "major_district", from_level="sub_district")
    assert elsewhere.data.height == 0
    assert (
        elsewhere.unmapped.height
        == vantaa.filter(pl.col("area_level") == "sub_district").get_column("area_code").n_unique()
    )


def test_convert_writes_sorted_parquet_with_a_summary(indicators_dir: Path, tmp_path: Path) -> None:
    """convert() concatenates files into one deterministic Parquet and reports per file."""
    paths = [indicators_dir / n for n in REAL_FILES if not n.startswith("tyonv")]
    paths.append(FIXTURES / "jsonstat_municipality_monthly.json")  # the sparse one overlaps
    out = tmp_path / "out" / "indicators.parquet"
    summary = convert(paths, out)
    written = pl.read_parquet(out)
    assert written.height == summary.rows == sum(summary.rows_per_file().values())
    assert summary.dropped_missing == sum(f.dropped_missing for f in summary.files) > 0
    assert written.equals(written.sort(["area_level", "area_code", "indicator", "period"]))
    IndicatorSchema.validate(written)
    again = tmp_path / "again.parquet"
    convert(list(reversed(paths)), again)
    assert pl.read_parquet(again).equals(written)
    assert [p.name for p in tmp_path.joinpath("out").iterdir()] == ["indicators.parquet"]


def test_convert_refuses_the_same_keys_from_two_files(tmp_path: Path) -> None:
    """Reading the same data twice is a duplicate, named by both files."""
    first = FIXTURES / "jsonstat_vantaa_sparse.json"
    second = tmp_path / "copy.json"
    second.write_bytes(first.read_bytes())
    with pytest.raises(SourceError, match=r"copy\.json") as err:
        convert([first, second], tmp_path / "out.parquet")
    assert "jsonstat_vantaa_sparse.json" in str(err.value)
    assert not (tmp_path / "out.parquet").exists()


def test_long_form_round_trip(tmp_path: Path) -> None:
    """A converted Parquet and its CSV copy read back as the long form unchanged."""
    table = read_indicators(FIXTURES / "jsonstat_municipality_monthly.json")
    parquet = tmp_path / "long.parquet"
    csv = tmp_path / "long.csv"
    table.data.write_parquet(parquet)
    table.data.write_csv(csv)
    for path in (parquet, csv):
        back = read_indicators(path)
        assert back.report.kind == "long"
        assert back.data.equals(table.data)
