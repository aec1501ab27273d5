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

import polars as pl

from features.catalogue import NEVER, Feature, build_catalogue
from features.spec import FeatureSpec, IndicatorUse, PartnerSpec

KEY_COLUMNS = ("person_id", "as_of")
ASIDE_COLUMNS = ("gender", "language", "area_group", "age_band", "team", "postal_code")
AGE_BANDS = ((0, 17, "16-17"), (18, 20, "18-20"), (21, 24, "21-24"), (25, 200, "25-29"))


@dataclass
class FeatureMatrix:
    """Features of each (person_id, as_of), with audit-only attributes kept aside.

    ``frame`` holds the keys and every catalogue feature; ``aside`` holds the sensitive
    and audit attributes (never model inputs) under the same keys, in the same order.
    """

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
) -> FeatureMatrix:
    """Build the feature matrix of every (person_id, as_of) row of ``cohort``.

    Parameters
    ----------
    cohort
        From :func:`features.consent.in_scope`: person_id, as_of, ``source_<name>``
        consent flags, given_at, birth_year, postal_code, language, team, gender.
    events
        Long partner rows: person_id, source, event_type, event_date, value.
    indicators
        Long area indicators: area_code, area_level, period, indicator, value.
    """
    catalogue = build_catalogue(spec, partners, uses)
    cohort = cohort.sort(list(KEY_COLUMNS))
    persons = cohort.select("person_id").unique(maintain_order=True).with_row_index("pid")
    keyed = cohort.join(persons, on="person_id", how="left")
    wide = _event_aggregates(keyed, events, catalogue, spec, partners)
    frame = keyed.join(wide, on=["pid", "as_of"], how="left") if wide is not None else keyed
    frame = _finish_events(frame, catalogue, partners)
    frame = frame.with_columns(
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


def _event_aggregates(
    keyed: pl.DataFrame,
    events: pl.DataFrame | pl.LazyFrame,
    catalogue: Sequence[Feature],
    spec: FeatureSpec,
    partners: Mapping[str, PartnerSpec],
) -> pl.DataFrame | None:
    keys = sorted({f.event_key for f in catalogue if f.event_key})
    if not keys:
        return None
    key_enum = pl.Enum(keys)
    flags = [f"source_{p}" for p in partners]
    allowed = (
        keyed.lazy()
        .select("pid", "as_of", *flags)
        .unpivot(index=["pid", "as_of"], on=flags, variable_name="source", value_name="ok")
        .filter(pl.col("ok"))
        .select("pid", "as_of", pl.col("source").str.strip_prefix("source_"))
    )
    persons = keyed.lazy().select("person_id", "pid").unique()
    trend = spec.trend_windows_days
    horizon = [*spec.windows_days, *(2 * w for w in trend)]
    lf = (
        events.lazy()
        .join(persons, on="person_id", how="inner")
        .with_columns(
            key=(pl.col("source") + "." + pl.col("event_type")).cast(key_enum, strict=False)
        )
        .filter(pl.col("key").is_not_null())
        .join(allowed, on=["pid", "source"], how="inner")
        .filter(pl.col("event_date") < pl.col("as_of"))
        .with_columns(days=(pl.col("as_of") - pl.col("event_date")).dt.total_days().cast(pl.Int32))
    )
    if not spec.all_history:
        lf = lf.filter(pl.col("days") <= max(horizon))
    aggs = [pl.col("days").min().alias("days_since")]
    for w in spec.windows_days:
        inside = pl.col("days") <= w
        aggs += [
            inside.sum().alias(f"n_{w}d"),
            pl.col("value").filter(inside).sum().alias(f"sum_{w}d"),
        ]
    if spec.all_history:
        aggs += [pl.len().alias("n_all"), pl.col("value").sum().alias("sum_all")]
    for w in trend:
        aggs.append(((pl.col("days") > w) & (pl.col("days") <= 2 * w)).sum().alias(f"prev_{w}d"))
        if w not in spec.windows_days:
            aggs.append((pl.col("days") <= w).sum().alias(f"n_{w}d"))
    long = lf.group_by("pid", "as_of", "key").agg(aggs).collect(engine="streaming")
    metrics = [c for c in long.columns if c not in ("pid", "as_of", "key")]
    long = long.with_columns(pl.col("key").cast(pl.String))
    wide = long.pivot(on="key", index=["pid", "as_of"], values=metrics, separator="|")
    return wide.rename({c: c.replace("|", "@") for c in wide.columns})


def _metric_column(feature: Feature) -> tuple[str, ...]:
    """Which aggregate column(s) of the wide frame a catalogue feature comes from."""
    label = feature.window
    if feature.kind == "count":
        return (f"n_{label}@{feature.event_key}",)
    if feature.kind == "sum":
        return (f"sum_{label}@{feature.event_key}",)
    if feature.kind == "recency":
        return (f"days_since@{feature.event_key}",)
    if feature.kind == "trend":
        return (f"n_{label}@{feature.event_key}", f"prev_{label}@{feature.event_key}")
    raise ValueError(feature.kind)


def _finish_events(
    frame: pl.DataFrame, catalogue: Sequence[Feature], partners: Mapping[str, PartnerSpec]
) -> pl.DataFrame:
    present = set(frame.columns)

    def col(name: str) -> pl.Expr:
        return pl.col(name) if name in present else pl.lit(None, dtype=pl.Float64)

    exprs = []
    for f in catalogue:
        if not f.event_key:
            continue
        cols = _metric_column(f)
        if f.kind == "trend":
            value = col(cols[0]).cast(pl.Int32).fill_null(0) - col(cols[1]).cast(
                pl.Int32
            ).fill_null(0)
        elif f.kind == "recency":
            value = col(cols[0]).fill_null(NEVER)
        else:
            value = col(cols[0]).fill_null(0)
        dtype = pl.Float64 if f.kind == "sum" else pl.Int32
        exprs.append(value.cast(dtype).alias(f.name))
    exprs += [(~pl.col(f"source_{p}")).cast(pl.Int8).alias(f"{p}_unknown") for p in partners]
    return frame.with_columns(exprs)


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
        frame = frame.with_columns(pl.col(name).is_null().alias(missing[-1])).with_columns(
            pl.col(name).fill_null(pl.col(name).mean().over("as_of")).cast(pl.Float64)
        )
    return frame.with_columns(area_unknown=pl.any_horizontal(missing).cast(pl.Int8)).drop(missing)


def _age_band(age: pl.Expr) -> pl.Expr:
    expr = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for low, high, label in AGE_BANDS:
        expr = expr.when(age.is_between(low, high)).then(pl.lit(label))
    return expr.otherwise(pl.lit(None, dtype=pl.String))
