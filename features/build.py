"""As-of feature building: for a date D, only what was known before D.

For every (person, as-of date) in the cohort the builder aggregates the partner rows the
person's consent covered on D and that are dated **before** D, over the configured windows
(counts, value sums, days since the latest row, trend), adds person attributes as of D,
and joins area indicators from the latest period **published** before D. Many as-of dates
are built in one lazy pass; the result equals building them one at a time.

Missing values are filled as the catalogue says (zero, a constant, or the mean of all
areas) and flagged where absence is informative: ``<source>_unknown`` when the consent
does not cover a partner (no school data is not zero absences), ``area_unknown`` when an
area's statistics are missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from features.catalogue import NEVER, Feature, build_catalogue
from features.safe_repr import sizes_repr
from features.spec import FeatureSpec, IndicatorUse, PartnerSpec

KEY_COLUMNS = ("person_id", "as_of")
CHUNK = 4_000_000  # events per step of the dense aggregation
ASIDE_COLUMNS = ("gender", "language", "area_group", "age_band", "team", "postal_code")
AGE_BANDS = ((0, 17, "16-17"), (18, 20, "18-20"), (21, 24, "21-24"), (25, 200, "25-29"))


@dataclass
class FeatureMatrix:
    """Features of each (person_id, as_of), with audit-only attributes kept aside.

    ``frame`` holds the keys and every catalogue feature; ``aside`` holds the sensitive
    and audit attributes (never model inputs) under the same keys, in the same order.
    """

    __repr__ = sizes_repr

    frame: pl.DataFrame
    names: list[str]
    aside: pl.DataFrame
    catalogue: list[Feature]

    def __len__(self) -> int:
        return self.frame.height


def build_features(
    cohort: pl.DataFrame,
    events: pl.DataFrame | pl.LazyFrame,
    indicators: pl.DataFrame,
    spec: FeatureSpec,
    partners: Mapping[str, PartnerSpec],
    uses: Sequence[IndicatorUse],
    register: pl.Series | None = None,
) -> FeatureMatrix:
    """Build the feature matrix of every (person_id, as_of) row of ``cohort``.

    Parameters
    ----------
    cohort
        From :func:`features.consent.in_scope`: person_id, as_of, ``source_<name>``
        consent flags, given_at, birth_year, postal_code, language, team, gender.
    events
        Long partner rows: source, event_type, event_date, value, and the person either as
        ``person_id`` or as ``person``, a code: the position of the pseudonym in
        ``register`` (as :func:`features.sources.load_inputs` gives them).
    indicators
        Long area indicators: area_code, area_level, period, indicator, value.
    """
    catalogue = build_catalogue(spec, partners, uses)
    frame = cohort.sort(list(KEY_COLUMNS))
    frame = frame.with_columns(_event_columns(frame, events, catalogue, spec, partners, register))
    frame = frame.with_columns(
        [(~pl.col(f"source_{p}")).cast(pl.Int8).alias(f"{p}_unknown") for p in partners]
    ).with_columns(
        age=(pl.col("as_of").dt.year() - pl.col("birth_year")).cast(pl.Int32),
        consent_days=(pl.col("as_of") - pl.col("given_at")).dt.total_days().cast(pl.Int32),
    )
    frame = _join_indicators(frame, indicators, uses)
    names = [f.name for f in catalogue]
    aside = frame.select(
        *KEY_COLUMNS,
        "gender",
        "language",
        pl.col("team").alias("area_group"),
        _age_band(pl.col("age")).alias("age_band"),
        "team",
        "postal_code",
    )
    return FeatureMatrix(frame.select(*KEY_COLUMNS, *names), names, aside, catalogue)


@dataclass
class _Events:
    """Partner rows as flat arrays in chunks: person code, event key, day number, value.

    Kept as chunks of at most ``CHUNK`` rows and never concatenated: at finland scale one
    concatenation would hold every column twice for a moment (over a gigabyte).
    """

    # Each part: person (index into the cohort's sorted persons, int32), key (index into
    # the sorted event keys, int16), day (days since 1970-01-01, int32), value (float32).
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]

    def first_day(self) -> int | None:
        days = [int(part[2].min()) for part in self.parts if part[2].size]
        return min(days) if days else None


def _key_codes(frame: pl.DataFrame, keys: list[str]) -> pl.Expr:
    """Index of ``source.event_type`` in ``keys`` (null when not a feature key).

    With enum-typed source and event type (as loaded) the index comes from their codes
    through a table of a few dozen cells; no string is built per row.
    """
    schema = frame.schema
    if isinstance(schema["source"], pl.Enum) and isinstance(schema["event_type"], pl.Enum):
        sources = schema["source"].categories.to_list()
        types = schema["event_type"].categories.to_list()
        table = [
            keys.index(f"{s}.{t}") if f"{s}.{t}" in keys else None for s in sources for t in types
        ]
        lookup = pl.Series("lookup", table, dtype=pl.Int32)
        cell = pl.col("source").to_physical().cast(pl.Int64) * len(types) + pl.col(
            "event_type"
        ).to_physical().cast(pl.Int64)
        return cell.map_batches(lookup.gather, return_dtype=pl.Int32)
    key = pl.col("source").cast(pl.String) + "." + pl.col("event_type").cast(pl.String)
    return key.cast(pl.Enum(keys), strict=False).to_physical().cast(pl.Int32)


def _compact_events(
    events: pl.DataFrame | pl.LazyFrame,
    persons: pl.Series,
    keys: list[str],
    register: pl.Series | None,
) -> _Events:
    """Code persons and event keys as integers; drop rows of persons outside the cohort.

    Coded events map to cohort positions through one lookup table over the register.
    Pseudonyms in clear are cast to an Enum of the cohort: one vectorised hash lookup per
    row, still much cheaper than joining tens of millions of string keys.
    """
    frame = events.lazy().collect() if isinstance(events, pl.LazyFrame) else events
    columns = [
        _key_codes(frame, keys).alias("k"),
        pl.col("event_date").cast(pl.Int32).alias("d"),
        pl.col("value").cast(pl.Float32).fill_null(0.0).alias("v"),
    ]
    if "person" in frame.columns:
        if register is None:
            raise ValueError("coded events need the register of pseudonyms they index")
        position = (
            register.to_frame("person_id")
            .with_row_index("code")
            .join(persons.to_frame("person_id").with_row_index("p"), on="person_id", how="left")
            .sort("code")
            .select(pl.col("p").cast(pl.Int32).fill_null(-1))
            .to_series()
        )
        lookup = position.to_numpy()
        parts = []
        for start in range(0, frame.height, CHUNK):  # slices bound the temporary arrays
            piece = frame.slice(start, CHUNK).select(pl.col("person").alias("c"), *columns)
            person = lookup[piece["c"].to_numpy()]
            keep = (person >= 0) & piece["k"].is_not_null().to_numpy()
            parts.append((
                person[keep], piece["k"].fill_null(0).to_numpy()[keep].astype(np.int16),
                piece["d"].to_numpy()[keep], piece["v"].to_numpy()[keep],
            ))  # fmt: skip
        return _Events(parts)
    compact = frame.select(
        pl.col("person_id")
        .cast(pl.String)
        .cast(pl.Enum(persons), strict=False)
        .to_physical()
        .alias("p"),
        *columns,
    ).drop_nulls(["p", "k"])
    return _Events(
        [
            (
                piece["p"].to_numpy(),
                piece["k"].to_numpy().astype(np.int16),
                piece["d"].to_numpy(),
                piece["v"].to_numpy(),
            )
            for piece in compact.iter_slices(CHUNK)
        ]
    )


NEVER_DAYS = np.iinfo(np.int64).max  # no event yet: the minimum of days since one


@dataclass
class _Cubes:
    """Per (window bucket, row, key): event counts and value sums; per (row, key): days
    since the latest event (``NEVER_DAYS`` when none) and decayed counts per half-life."""

    counts: np.ndarray
    sums: np.ndarray | None
    last: np.ndarray
    decayed: dict[int, np.ndarray]

    @classmethod
    def empty(
        cls, n_buckets: int, n_rows: int, n_keys: int, summed: bool, taus: Sequence[int]
    ) -> _Cubes:
        shape = (n_buckets, n_rows, n_keys)
        return cls(
            counts=np.zeros(shape, dtype=np.int32),
            sums=np.zeros(shape, dtype=np.float64) if summed else None,
            last=np.full((n_rows, n_keys), NEVER_DAYS, dtype=np.int64),
            decayed={tau: np.zeros((n_rows, n_keys), dtype=np.float64) for tau in taus},
        )

    def place(self, rows: np.ndarray, part: _Cubes) -> None:
        """Copy one as-of date's cubes into the rows it covers."""
        self.counts[:, rows, :] = part.counts
        if self.sums is not None:
            self.sums[:, rows, :] = part.sums
        for tau, values in part.decayed.items():
            self.decayed[tau][rows] = values
        self.last[rows] = part.last


def _event_columns(
    frame: pl.DataFrame,
    events: pl.DataFrame | pl.LazyFrame,
    catalogue: Sequence[Feature],
    spec: FeatureSpec,
    partners: Mapping[str, PartnerSpec],
    register: pl.Series | None = None,
) -> list[pl.Series]:
    """Counts, sums, recency and trend of every (row, event key), as dense arrays.

    For each as-of date, every event before it falls in a (bucket, row, key) cell, the
    buckets cut at the window edges (30, 90, 180, 365 days…); ``numpy.add.at`` adds the
    counts and the value sums into the cells in place, and cumulative sums over the
    buckets give each window.
    Rows whose consent does not cover the event's partner never receive it.
    """
    features = [f for f in catalogue if f.event_key]
    if not features:
        return []
    keys = sorted({f.event_key for f in features})
    sources = list(partners)
    key_source = np.array([sources.index(k.split(".", 1)[0]) for k in keys], dtype=np.int64)
    summed = np.array([any(f.kind == "sum" and f.event_key == k for f in features) for k in keys])
    persons = frame["person_id"].unique().sort()
    ev = _compact_events(events, persons, keys, register)
    edges = np.array(
        sorted(
            {
                *spec.windows_days,
                *spec.trend_windows_days,
                *(2 * w for w in spec.trend_windows_days),
            }
        ),
        dtype=np.int64,
    )
    n_rows, n_keys, n_buckets = frame.height, len(keys), edges.size + 1
    taus = sorted({f.window_days for f in features if f.kind == "decay"})
    cubes = _Cubes.empty(n_buckets, n_rows, n_keys, bool(summed.any()), taus)
    person_code = frame["person_id"].cast(pl.Enum(persons)).to_physical().to_numpy()
    allowed = frame.select([pl.col(f"source_{p}") for p in sources]).to_numpy().astype(bool)
    as_of_days = frame["as_of"].cast(pl.Int32).to_numpy().astype(np.int64)
    first = ev.first_day()
    horizon = int(as_of_days.max() - first) + 1 if first is not None else 1
    bucket_of = np.searchsorted(edges, np.arange(max(horizon, 1)), side="left").astype(np.int64)
    for day in np.unique(as_of_days):
        rows = np.flatnonzero(as_of_days == day)
        row_of_person = np.full(persons.len(), -1, dtype=np.int32)
        row_of_person[person_code[rows]] = np.arange(rows.size, dtype=np.int32)
        # One as-of date (the nightly run): accumulate straight into the result cubes.
        # Several: into per-date cubes, copied into place below.
        whole = rows.size == n_rows
        part = (
            cubes
            if whole
            else _Cubes.empty(n_buckets, rows.size, n_keys, cubes.sums is not None, taus)
        )
        _add_events(ev, day, rows, row_of_person, allowed, key_source, bucket_of, summed, part)
        if not whole:
            cubes.place(rows, part)
    np.cumsum(cubes.counts, axis=0, out=cubes.counts)
    if cubes.sums is not None:
        np.cumsum(cubes.sums, axis=0, out=cubes.sums)
    return _feature_series(features, keys, edges, cubes)


def _add_events(
    ev: _Events,
    day: int,
    rows: np.ndarray,
    row_of_person: np.ndarray,
    allowed: np.ndarray,
    key_source: np.ndarray,
    bucket_of: np.ndarray,
    summed: np.ndarray,
    cubes: _Cubes,
) -> None:
    """Add every event before ``day`` of the rows of that as-of date into ``cubes``."""
    n_keys = cubes.last.shape[1]
    flat_counts, flat_recent = cubes.counts.reshape(-1), cubes.last.reshape(-1)
    flat_sums = None if cubes.sums is None else cubes.sums.reshape(-1)
    for ev_person, ev_key, ev_day, ev_value in ev.parts:
        local = row_of_person[ev_person]
        idx = np.flatnonzero((local >= 0) & (ev_day < day))
        local, key = local[idx].astype(np.int64), ev_key[idx].astype(np.int64)
        ok = allowed[rows[local], key_source[key]]
        idx, local, key = idx[ok], local[ok], key[ok]
        days = day - ev_day[idx].astype(np.int64)
        cell_key = local * n_keys + key
        cell = bucket_of[days] * (rows.size * n_keys) + cell_key
        # ufunc.at adds in place, in row order: no cube-sized temporary per chunk
        # (bincount would allocate one), and the same sums however rows are chunked.
        np.add.at(flat_counts, cell, np.ones(cell.size, dtype=np.int32))
        if flat_sums is not None:
            with_value = summed[key]
            np.add.at(flat_sums, cell[with_value], ev_value[idx][with_value].astype(np.float64))
        for tau, values in cubes.decayed.items():
            np.add.at(values.reshape(-1), cell_key, np.exp(-days / tau))
        np.minimum.at(flat_recent, cell_key, days)


def _feature_series(
    features: Sequence[Feature], keys: list[str], edges: np.ndarray, cubes: _Cubes
) -> list[pl.Series]:
    """Each event feature's column, read from the cumulated cubes."""
    at = {int(w): int(np.flatnonzero(edges == w)[0]) for w in edges}
    counts, sums, last = cubes.counts, cubes.sums, cubes.last

    def window(cube: np.ndarray, k: int, days: int | None) -> np.ndarray:
        return cube[-1, :, k] if days is None else cube[at[days], :, k]

    out = []
    for f in features:
        k = keys.index(f.event_key)
        if f.kind == "count":
            values, dtype = window(counts, k, f.window_days), pl.Int32
        elif f.kind == "sum":
            # Values are read as float32 (half the memory of 68 M rows); rounding to six
            # decimals gives back the sums of the decimals partners wrote (0.1 + 0.2 = 0.3).
            values, dtype = np.round(window(sums, k, f.window_days), 6), pl.Float64
        elif f.kind == "recency":
            values, dtype = np.where(last[:, k] == NEVER_DAYS, NEVER, last[:, k]), pl.Int32
        elif f.kind == "decay":
            values, dtype = np.round(cubes.decayed[f.window_days][:, k], 6), pl.Float64
        elif f.kind == "trend":
            w = f.window_days
            values = 2 * window(counts, k, w) - window(counts, k, 2 * w)
            dtype = pl.Int32
        else:
            raise ValueError(f.kind)
        out.append(pl.Series(f.name, values).cast(dtype))
    return out


def period_end(period: pl.Expr) -> pl.Expr:
    """Last day of a period written ``YYYY``, ``YYYY-MM`` or ``YYYYQn``."""
    year = period.str.slice(0, 4).cast(pl.Int32)
    month = (
        pl.when(period.str.len_chars() == 4)
        .then(12)
        .when(period.str.contains("Q"))
        .then(period.str.slice(5, 1).cast(pl.Int32) * 3)
        .otherwise(period.str.slice(5, 2).cast(pl.Int32))
    )
    return pl.date(year, month, 1).dt.month_end()


def indicator_values(
    indicators: pl.DataFrame, use: IndicatorUse, dates: Sequence[date]
) -> pl.DataFrame:
    """(area_code, as_of, value): the latest period published before each as-of date."""
    rows = indicators.filter(
        (pl.col("indicator") == use.indicator) & (pl.col("area_level") == use.area_level)
    ).with_columns(
        available=period_end(pl.col("period")) + pl.duration(days=use.lag_days + 1),
    )
    dates_frame = pl.DataFrame({"as_of": list(dates)}, schema={"as_of": pl.Date})
    return (
        rows.join(dates_frame, how="cross")
        .filter(pl.col("available") <= pl.col("as_of"))
        .sort("period")
        .group_by("area_code", "as_of")
        .agg(pl.col("value").last())
    )


def _join_indicators(
    frame: pl.DataFrame, indicators: pl.DataFrame, uses: Sequence[IndicatorUse]
) -> pl.DataFrame:
    if not uses:
        return frame
    dates = frame["as_of"].unique().to_list()
    missing = []
    for i, use in enumerate(uses):
        name = use.name or f"area_{use.indicator}"
        values = indicator_values(indicators, use, dates).rename({"value": name})
        # An area without the figure gets the mean over all areas on that date: a property
        # of the published table, so the same whatever persons are built together.
        area_mean = values.group_by("as_of").agg(pl.col(name).mean().alias("_area_mean"))
        if use.area_level == "postal_code":
            values = values.rename({"area_code": "postal_code"})
            frame = frame.join(values, on=["postal_code", "as_of"], how="left")
        elif use.area_level == "country":
            frame = frame.join(values.drop("area_code"), on="as_of", how="left")
        else:
            raise ValueError(
                f"indicator {use.indicator}: area level {use.area_level!r} needs an area mapping; "
                "postal_code and country join directly"
            )
        missing.append(f"_missing_{i}")
        frame = (
            frame.join(area_mean, on="as_of", how="left")
            .with_columns(pl.col(name).is_null().alias(missing[-1]))
            .with_columns(pl.col(name).fill_null(pl.col("_area_mean")).cast(pl.Float64))
            .drop("_area_mean")
        )
    return frame.with_columns(area_unknown=pl.any_horizontal(missing).cast(pl.Int8)).drop(missing)


def _age_band(age: pl.Expr) -> pl.Expr:
    expr = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for low, high, label in AGE_BANDS:
        expr = expr.when(age.is_between(low, high)).then(pl.lit(label))
    return expr.otherwise(pl.lit(None, dtype=pl.String))
