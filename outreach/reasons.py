"""Reasons a counsellor can act on: a figure about the person that raised their score.

A reason is a feature that gave the person more points than the feature's reference bin
(its lowest-risk bin with training rows), taken from the person's own partner rows under
a consent that covers that partner. Everything else stays out of the reasons: age and
home area are shown apart as background (they describe a group, not something a
counsellor can act on), area statistics and our own process (consent age) are never
reasons, and "no data" from a partner is not a fact about the person.

The sentence is worded in the direction that raised the score, decided by where the
person's bin lies against the reference bin (not against the median, which read
backwards when points do not rise with the value; a bin that raised the score on the
reassuring side of its event, such as few absences, gives no reason), and carries the
person's figure
where there is one: "Hours of absence in the last 90 days: 14 (typically 2)". Words come
from :mod:`outreach.labels`, the same sentence in Finnish, Swedish and English.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from features.catalogue import NEVER, Feature
from outreach.labels import LANGS, REASONS, TEXT, event_words, tr

REASON_KINDS = ("count", "sum", "recency", "trend", "decay")
# Events whose meaning has a side: more absences, interruptions or unemployment is a worry,
# fewer credits, graduations or study starts is. A bin that raised the score against this
# (a model's wiggle, "fewer absences") would read backwards, so it gives no reason. Events
# without a side (contacts, visits) may give a reason either way.
RISK_SIDE = {
    "school.absence": 1, "school.interrupted": 1, "employment.registration": 1,
    "school.credits": -1, "school.graduated": -1, "school.enrolled": -1,
}  # fmt: skip
AGE_BANDS = ((0, 17, "16–17"), (18, 20, "18–20"), (21, 24, "21–24"), (25, 200, "25–29"))


@dataclass(frozen=True)
class Reference:
    """A feature's lowest-risk bin: its points and where it lies on the value axis."""

    points: float
    lower: float | None = None
    upper: float | None = None


def references(points_table: pl.DataFrame | None) -> dict[str, Reference]:
    """Per feature, the bin with the fewest points among bins that had training rows."""
    if points_table is None or points_table.is_empty():
        return {}
    observed = points_table.filter(pl.col("count") > 0) if "count" in points_table else points_table
    out: dict[str, Reference] = {}
    for (name,), bins in observed.group_by("feature", maintain_order=True):
        best = bins.sort("points", maintain_order=True).row(0, named=True)
        out[str(name)] = Reference(float(best["points"]), best.get("lower"), best.get("upper"))
    return out


def may_give_reason(feature: Feature | None, consents: Mapping[str, bool]) -> bool:
    """Only the person's own partner rows, under a consent that covers the partner."""
    return (
        feature is not None
        and feature.event_key is not None
        and feature.kind in REASON_KINDS
        and bool(consents.get(feature.source, False))
    )


def raises_with_value(value: float | None, ref: Reference | None, median: float | None) -> bool:
    """Whether the person's value lies above the reference bin (the direction of risk)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if ref is not None and (ref.lower is not None or ref.upper is not None):
        if ref.upper is not None and value >= ref.upper:
            return True
        if ref.lower is not None and value < ref.lower:
            return False
    return median is None or value > median


def reads_forward(feature: Feature, high: bool) -> bool:
    """Whether "more" (``high``) or "less" of this feature is the worrying side of its
    event; a long time since the latest event counts as less of it."""
    side = RISK_SIDE.get(feature.event_key or "")
    if side is None:
        return True
    more = (not high) if feature.kind == "recency" else high
    return more == (side > 0)


def _figure(value: float) -> str:
    return f"{value:.0f}"


def reason_text(
    feature: Feature | None,
    value: float | None,
    median: float | None,
    lang: str,
    ref: Reference | None = None,
) -> str | None:
    """The sentence for one reason in ``lang``; None when the feature gives no reason."""
    if feature is None or feature.event_key is None or feature.kind not in REASON_KINDS:
        return None
    lang = lang if lang in LANGS else "en"
    high = raises_with_value(value, ref, median)
    v = 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else value
    key = feature.event_key
    if feature.kind == "recency":
        item = event_words(key, "item", lang)
        if v >= NEVER:
            return tr(REASONS["since_never"], lang, item=item)
        unit, n = ("days", v) if v < 60 else ("months", v / 30.44)
        if high:
            ago = tr(REASONS[unit], lang, n=_figure(n))
            return tr(REASONS["since_long"], lang, item=item, ago=ago)
        ago = tr(REASONS[f"{unit}_ago"], lang, n=_figure(n))
        return tr(REASONS["since_recent"], lang, item=item, ago=ago)
    what = event_words(key, "sum" if feature.kind == "sum" else "count", lang)
    if feature.kind == "trend":
        days = feature.window_days or 0
        return tr(REASONS["trend_high" if high else "trend_low"], lang, what=what, days=days,
                  n=_figure(abs(v)))  # fmt: skip
    if feature.kind == "decay":
        return tr(REASONS["recent_high" if high else "recent_low"], lang, what=what)
    window = (
        tr(REASONS["window_days"], lang, days=feature.window_days)
        if feature.window_days
        else tr(REASONS["window_all"], lang)
    )
    # "Typically" only where the median agrees with the direction and says something.
    typical = _figure(median) if median is not None else "0"
    agrees = median is not None and (v > median if high else v < median)
    template = (
        ("amount_high" if high else "amount_low_bare")
        if not agrees or (high and typical == "0")
        else ("amount_high_typical" if high else "amount_low")
    )
    return tr(REASONS[template], lang, what=what, window=window, n=_figure(v), typical=typical)


def age_band(age: float | None) -> str | None:
    """The age band shown as background (the feature builder's bands)."""
    if age is None or (isinstance(age, float) and math.isnan(age)):
        return None
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return None


def _consents(listed: pl.DataFrame, i: int, sources: set[str]) -> dict[str, bool]:
    return {
        s: bool(listed[f"source_{s}"][i]) if f"source_{s}" in listed.columns else False
        for s in sources
    }


def add_reasons(
    listed: pl.DataFrame,
    explained: pl.DataFrame,
    values: pl.DataFrame,
    catalogue: Mapping[str, Feature],
    medians: Mapping[str, float],
    points_table: pl.DataFrame | None = None,
    top: int = 3,
    languages: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Add ``reason_1..top`` (texts in each person's ``language``), ``reason_k_feature``
    and the background columns ``age_band`` and ``home_area``.

    ``explained`` is the model's explain() for the rows of ``listed`` in the same order
    (``points_<feature>`` per feature; without them its ``reason_k`` names are the
    candidates); ``values`` holds the feature values of those rows in the same order;
    ``points_table`` gives each feature's reference bin (without it: 0 points). A
    partner's consent is read from ``listed``'s ``source_<partner>`` columns; a missing
    column means no consent. ``languages`` (one per row) overrides each person's own
    ``language``: the nightly run writes reasons in the language of the team that reads them.
    """
    refs = references(points_table)
    if languages is None:
        languages = (
            listed["language"].to_list() if "language" in listed.columns else ["en"] * listed.height
        )
    point_cols = {
        c.removeprefix("points_"): c for c in explained.columns if c.startswith("points_")
    }
    sources = {f.source for f in catalogue.values() if f.event_key}
    texts: list[list[str | None]] = [[] for _ in range(top)]
    names: list[list[str | None]] = [[] for _ in range(top)]
    for i in range(listed.height):
        consents = _consents(listed, i, sources)
        if point_cols:
            candidates = [(n, float(explained[c][i])) for n, c in point_cols.items()]
        else:  # the explain() names alone: ranked, each above the reference
            candidates = [
                (explained[f"reason_{k}"][i], float(top - k + 1))
                for k in range(1, top + 1)
                if f"reason_{k}" in explained.columns and explained[f"reason_{k}"][i]
            ]
        chosen = []
        for name, points in candidates:
            feature = catalogue.get(name)
            ref = refs.get(name, Reference(0.0))
            if points > ref.points and may_give_reason(feature, consents):
                value = values[name][i] if name in values.columns else None
                high = raises_with_value(value, refs.get(name), medians.get(name))
                if reads_forward(feature, high):
                    chosen.append((points, name))
        chosen.sort(key=lambda pair: -pair[0])  # stable: ties keep the feature order
        for k in range(top):
            name = chosen[k][1] if k < len(chosen) else None
            value = values[name][i] if name and name in values.columns else None
            text = (
                reason_text(catalogue[name], value, medians.get(name), languages[i], refs.get(name))
                if name
                else None
            )
            texts[k].append(text)
            names[k].append(name if text else None)
    columns = {}
    for k in range(top):
        columns[f"reason_{k + 1}"] = texts[k]
        columns[f"reason_{k + 1}_feature"] = names[k]
    ages = values["age"].to_list() if "age" in values.columns else [None] * listed.height
    columns["age_band"] = [age_band(a) for a in ages]
    columns["home_area"] = (
        listed["postal_code"].cast(pl.String).to_list()
        if "postal_code" in listed.columns
        else [None] * listed.height
    )
    return listed.with_columns(
        [pl.Series(name, data, dtype=pl.String) for name, data in columns.items()]
    )


def context_text(age: str | None, area: str | None, lang: str) -> str | None:
    """Background shown apart from the reasons: age band and home postcode."""
    parts = []
    if age:
        parts.append(tr(TEXT["age"], lang, band=age))
    if area:
        parts.append(tr(TEXT["area"], lang, code=area))
    return "\n".join(parts) or None
