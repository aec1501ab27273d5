"""Indicator readers on tiny hand-written and generated inputs: the rules, one at a time."""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import indicators.areas
import indicators.labels
from features.errors import SourceError
from indicators import (
    KINDS,
    map_areas,
    municipality_code,
    parse_area,
    read_indicators,
)
from indicators.labels import compose_slug, normalize_period, slugify

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "indicators"


@pytest.mark.parametrize("module", [indicators.areas, indicators.labels])
def test_docstring_examples(module: object) -> None:
    """The examples in the docstrings are true."""
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("00100  Helsinki keskusta - Etu-Töölö (Helsinki)", ("00100", "postal_code")),
        ("091 Helsinki", ("091", "municipality")),
        ("KU091", ("091", "municipality")),
        ("KU049 Espoo", ("049", "municipality")),
        ("SSS KOKO MAA", ("SSS", "country")),
        ("Vantaa", ("092", "municipality")),
        ("KOKO MAA", ("SSS", "country")),
        ("091 1 Eteläinen suurpiiri", ("091 1", "major_district")),
        ("092 1 Myyrmäen suuralue", ("092 1", "major_district")),
        ("091 201 Reijolan peruspiiri", ("091 201", "basic_district")),
        ("091 201 Ruoholahti", ("091 201", "sub_district")),
        ("092 10 Linnainen", ("092 10", "sub_district")),
        ("091 998 Kantakaupunki", ("091 998", "district_group")),
        ("092 99 Muut", ("092 99", "unallocated")),
        ("Somewhere", None),
        ("", None),
    ],
)
def test_parse_area(label: str, expected: tuple[str, str] | None) -> None:
    """Area labels map to (code, level); the level comes from the name, not the number."""
    assert parse_area(label) == expected


def test_municipality_code_falls_back_to_a_slug() -> None:
    """Known names get their code; others a slug that never looks like a code."""
    assert municipality_code("Espoo") == "049"
    assert municipality_code(" helsinki ") == "091"
    assert municipality_code("Pedersören kunta") == "pedersoren_kunta"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023", "2023"),
        ("2023M01", "2023-01"),
        ("2023M1", "2023-01"),
        ("2023-12", "2023-12"),
        ("2006-01-01", "2006-01"),
        ("2023Q4", "2023Q4"),
        ("2023K2", "2023Q2"),
        ("2023M13", None),
        ("2006-01-15", None),
        ("15 - 24", None),
    ],
)
def test_normalize_period(text: str, expected: str | None) -> None:
    """Years, months and quarters in their publishers' spellings → one spelling."""
    assert normalize_period(text) == expected


def test_slugs() -> None:
    """Known Finnish measures translate, totals vanish, the rest transliterates."""
    assert slugify("Academic degree - Higher university level degree (KO)") == (
        "academic_degree_higher_university_level_degree_ko"
    )
    assert compose_slug(["Työttömät", "Miehet"]) == "unemployed_men"
    assert compose_slug(["Työttömyysaste", "Sukupuolet yhteensä", "15 - 24"]) == (
        "unemployment_rate_15_24"
    )
    assert compose_slug(["Yhteensä"]) == "yhteensa"
    assert compose_slug(["Asuntokunnat", "Ruotsinkieliset"]) == "asuntokunnat_ruotsinkieliset"


def long_frame(rows: list[tuple[str, str, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["area_code", "area_level", "period", "indicator", "value"],
        orient="row",
    )


def test_map_areas_sum_mean_weighted() -> None:
    """Counts add (with shares), means average, rates weight by labour force."""
    data = long_frame(
        [
            ("a", "sub_district", "2020", "unemployed", 10.0),
            ("b", "sub_district", "2020", "unemployed", 30.0),
            ("a", "sub_district", "2020", "rate", 10.0),
            ("b", "sub_district", "2020", "rate", 20.0),
            ("c", "sub_district", "2020", "rate", 50.0),
            ("a", "sub_district", "2020", "labour_force", 100.0),
            ("b", "sub_district", "2020", "labour_force", 300.0),
            ("z", "sub_district", "2020", "rate", 1.0),
        ]
    )
    mapping = pl.DataFrame(
        {
            "from_level": ["sub_district"] * 3,
            "from_code": ["a", "b", "c"],
            "to_level": ["major_district"] * 3,
            "to_code": ["X", "X", "X"],
            "share": [1.0, 0.5, 1.0],
        }
    )
    summed = map_areas(data.filter(pl.col("indicator") == "unemployed"), mapping, "major_district")
    assert summed.data.rows() == [("X", "major_district", "2020", "unemployed", 25.0)]
    assert summed.unmapped.height == 0

    rates = data.filter(pl.col("indicator") == "rate")
    mean = map_areas(rates, mapping, "major_district", how="mean")
    assert mean.data.item(0, "value") == pytest.approx((10 + 0.5 * 20 + 50) / 2.5)
    assert mean.unmapped.rows() == [("sub_district", "z", 1)]

    weighted = map_areas(
        data.filter(pl.col("indicator") != "unemployed"),
        mapping,
        "major_district",
        how="weighted",
        weight_indicator="labour_force",
    )
    assert weighted.data.rows() == [
        ("X", "major_district", "2020", "rate", pytest.approx((10 * 100 + 20 * 150) / 250))
    ]
    assert weighted.missing_weight == 1  # "c" has a rate but no labour force


def test_map_areas_argument_errors() -> None:
    """Programming mistakes (bad how, missing weight) are ValueErrors."""
    data = long_frame([("a", "sub_district", "2020", "x", 1.0)])
    mapping = pl.DataFrame(
        {"from_level": ["sub_district"], "from_code": ["a"], "to_level": ["country"]}
    ).with_columns(to_code=pl.lit("SSS"))
    with pytest.raises(ValueError, match="how"):
        map_areas(data, mapping, "country", how="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weight_indicator"):
        map_areas(data, mapping, "country", how="weighted")
    assert map_areas(data, mapping, "country").data.item(0, "area_code") == "SSS"


def test_pxweb_csv_with_an_area_column(tmp_path: Path) -> None:
    """A PxWeb table with municipalities and a monthly header reads area by area."""
    path = tmp_path / "kunnat.csv"
    path.write_text(
        '"Työttömät työnhakijat 2024M01-2024M02"\n'
        '"Alue";"2024M01";"2024M02"\n'
        '"KU091 Helsinki";41 234;..\n'
        '"Vantaa";12 001;12 100\n'
        '"Lähde: TEM"\n',
        encoding="cp1252",
    )
    table = read_indicators(path)
    assert table.report.kind == "pxweb_csv"
    assert table.report.dropped_missing == 1
    assert table.data.rows() == [
        ("091", "municipality", "2024-01", "unemployed_jobseekers", 41234.0),
        ("092", "municipality", "2024-01", "unemployed_jobseekers", 12001.0),
        ("092", "municipality", "2024-02", "unemployed_jobseekers", 12100.0),
    ]


def test_px_utf8_without_charset_and_datasymbols(tmp_path: Path) -> None:
    """A UTF-8 PX file reads as UTF-8; DATASYMBOL values count as missing."""
    path = tmp_path / "utf8.px"
    path.write_text(
        'DATASYMBOL1="*";\nCONTVARIABLE="Tiedot";\nSTUB="Sukupuoli","Tiedot";\n'
        'HEADING="Vuosi";\nVALUES("Sukupuoli")="Naiset";\n'
        'VALUES("Tiedot")="Työttömät","Työttömyysaste";\nVALUES("Vuosi")="2020","2021";\n'
        'DATA=\n1 "*"\n2.5 3.5;\n',
        encoding="utf-8",
    )
    table = read_indicators(path)
    assert table.report.dropped_missing == 1
    assert table.report.labels == {
        "unemployed_women": "Työttömät, Naiset",
        "unemployment_rate_women": "Työttömyysaste, Naiset",
    }
    assert set(table.data.get_column("area_code")) == {"SSS"}
    assert any("whole country" in note for note in table.report.notes)


def test_long_csv_in_finnish_conventions(tmp_path: Path) -> None:
    """A ;-separated long CSV with BOM, decimal commas, labels and a missing marker."""
    path = tmp_path / "long.csv"
    path.write_text(
        "\ufeffarea_code;area_level;period;indicator;value;indicator_label\n"
        "00100;postal_code;2023;unemployment_rate;6,4;Työttömyysaste\n"
        "00120;postal_code;2023;unemployment_rate;..;Työttömyysaste\n",
        encoding="utf-8",
    )
    table = read_indicators(path)
    assert table.data.rows() == [("00100", "postal_code", "2023", "unemployment_rate", 6.4)]
    assert table.report.dropped_missing == 1
    assert table.report.labels == {"unemployment_rate": "Työttömyysaste"}


# --- generated cubes: PC-Axis and JSON-stat agree with what was written -----------------

_NAMES = st.text(alphabet="abcdeäöå ", min_size=1, max_size=6).map(str.strip).filter(bool)


@st.composite
def cubes(draw: st.DrawFn) -> dict:
    """A random table: 1-3 extra dimensions, 1-3 areas, 1-3 years, some missing cells."""
    n_extra = draw(st.integers(1, 3))
    extra = {
        f"Dim{i}": draw(st.lists(_NAMES, min_size=1, max_size=3, unique_by=slugify))
        for i in range(n_extra)
    }
    extra = {k: v for k, v in extra.items() if all(slugify(x) for x in v)}
    areas = draw(
        st.lists(st.sampled_from(["091 Helsinki", "092 Vantaa", "049 Espoo", "092 15 Myyrmäki"]),
                 min_size=1, max_size=3, unique=True)
    )  # fmt: skip
    years = draw(st.lists(st.integers(1990, 2030).map(str), min_size=1, max_size=3, unique=True))
    dims = {"Alue": areas, **extra, "Vuosi": years}
    n = math.prod(len(v) for v in dims.values())
    values = draw(
        st.lists(
            st.one_of(st.none(), st.integers(-10_000, 10_000).map(lambda i: i / 10)),
            min_size=n,
            max_size=n,
        )
    )
    return {"dims": dims, "values": values}


def _expected(cube: dict) -> set[tuple[str, str, str, str, float]]:
    dims = cube["dims"]
    names = list(dims)
    out = set()
    for flat, value in enumerate(cube["values"]):
        if value is None:
            continue
        idx, rest = {}, flat
        for name in reversed(names):
            rest, idx[name] = divmod(rest, len(dims[name]))
        area = parse_area(dims["Alue"][idx["Alue"]])
        assert area is not None
        slug = compose_slug([dims[n][idx[n]] for n in names if n not in ("Alue", "Vuosi")])
        out.add((*area, dims["Vuosi"][idx["Vuosi"]], slug, value))
    return out


def _quoted(items: list[str]) -> str:
    """One quoted item per line, as PX writers wrap long lists."""
    return ",\n".join(f'"{x}"' for x in items)


def _px_text(cube: dict) -> str:
    dims = cube["dims"]
    names = list(dims)
    lines = [
        'CHARSET="ANSI";',
        f"STUB={_quoted(names[:-1])};",
        f'HEADING="{names[-1]}";',
        *(f'VALUES("{n}")={_quoted(v)};' for n, v in dims.items()),
        'TITLE="Generated "\n"test table";',
        "DATA=",
    ]
    cells = ['".."' if v is None else repr(v) for v in cube["values"]]
    return "\n".join(lines) + "\n" + " ".join(cells) + ";\n"


def _jsonstat_dense_and_sparse(cube: dict) -> tuple[str, str]:
    dims = cube["dims"]
    base = {
        "version": "2.0",
        "class": "dataset",
        "id": list(dims),
        "size": [len(v) for v in dims.values()],
        "role": {"time": ["Vuosi"], "geo": ["Alue"]},
        "dimension": {
            n: {"category": {"index": {f"c{i}": i for i in range(len(v))},
                             "label": {f"c{i}": x for i, x in enumerate(v)}}}
            for n, v in dims.items()
        },
    }  # fmt: skip
    dense = {**base, "value": cube["values"]}
    sparse = {**base, "value": {str(i): v for i, v in enumerate(cube["values"]) if v is not None}}
    return json.dumps(dense), json.dumps(sparse)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cube=cubes())
def test_generated_cubes_read_back_in_every_format(tmp_path: Path, cube: dict) -> None:
    """Any number of dimensions, in PC-Axis (cp1252) and JSON-stat (dense and sparse)."""
    expected = _expected(cube)
    px = tmp_path / "cube.px"
    px.write_text(_px_text(cube), encoding="cp1252")
    dense, sparse = _jsonstat_dense_and_sparse(cube)
    (tmp_path / "dense.json").write_text(dense, encoding="utf-8")
    (tmp_path / "sparse.json").write_text(sparse, encoding="utf-8")
    missing = sum(v is None for v in cube["values"])
    for path in (px, tmp_path / "dense.json", tmp_path / "sparse.json"):
        if not expected:
            with pytest.raises(SourceError, match="no values"):
                read_indicators(path)
            continue
        table = read_indicators(path)
        assert set(table.data.rows()) == expected
        assert table.report.dropped_missing == missing


# --- fuzzing: damaged files fail as SourceError, never as anything else -----------------

_SAMPLES = {
    "small.px": (
        'CHARSET="ANSI";\nSTUB="Alue";\nHEADING="Vuosi";\n'
        'VALUES("Alue")="091 Helsinki","092 Vantaa";\nVALUES("Vuosi")="2020","2021";\n'
        'DATA=\n1 2\n".." 4;\n'
    ).encode("cp1252"),
    "pxweb.csv": (
        '\ufeff"Työttömyysaste 2024-2025";;\n;"2024";"2025"\n"15 - 24";18,8;21,8\n'
    ).encode(),
    "long.csv": b"area_code,area_level,period,indicator,value\n00100,postal_code,2020,x,1.5\n",
    "cube.json": (FIXTURES / "jsonstat_vantaa_sparse.json").read_bytes(),
}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(_SAMPLES)),
    kind=st.sampled_from(["auto", *KINDS]),
    cut=st.integers(0, 400),
    junk=st.binary(max_size=8),
    at=st.integers(0, 400),
)
def test_damaged_files_only_raise_source_error(
    tmp_path_factory: pytest.TempPathFactory, name: str, kind: str, cut: int, junk: bytes, at: int
) -> None:
    """Truncated or corrupted inputs, read as any kind, give SourceError or a valid table."""
    raw = _SAMPLES[name]
    raw = raw[: max(len(raw) - cut, 0)]
    raw = raw[:at] + junk + raw[at:]
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(raw)
    try:
        table = read_indicators(path, kind=kind)
    except SourceError as err:
        message = str(err)
    else:
        assert table.data.height == table.report.rows > 0
        return
    assert name in message
