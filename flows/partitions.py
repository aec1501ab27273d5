"""Area partitions: split the nightly work so it can run on several Dask workers.

Persons are grouped by postal area into contiguous, balanced partitions. Every feature of
a person depends only on that person's own rows and on published area figures, so the
partitions can be built and scored anywhere and concatenated: the result is identical to
one pass over everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from features.build import FeatureMatrix, build_features
from features.safe_repr import sizes_repr
from features.spec import FeatureSpec, IndicatorUse, PartnerSpec
from models.bundle import RiskModel, score


def assign(cohort: pl.DataFrame, n: int) -> list[pl.DataFrame]:
    """Split the cohort into at most ``n`` partitions of whole postal areas, by row count."""
    areas = cohort.group_by("postal_code").len().sort("postal_code")
    if n <= 1 or areas.height <= 1:
        return [cohort]
    target = cohort.height / n
    cumulative = areas["len"].cum_sum()
    part = ((cumulative - areas["len"]) / target).floor().cast(pl.Int32).clip(0, n - 1)
    mapping = areas.select("postal_code").with_columns(partition=part)
    tagged = cohort.join(mapping, on="postal_code", how="left")
    return [
        p.drop("partition")
        for _, p in sorted(tagged.partition_by("partition", as_dict=True).items())
    ]


@dataclass
class Partition:
    """One partition's persons, their coded partner rows, and the register of pseudonyms
    the codes index. Sent to a worker as one value, printed only as sizes."""

    __repr__ = sizes_repr

    cohort: pl.DataFrame
    events: pl.DataFrame
    register: pl.Series | None = None


def features_and_scores(
    part: Partition,
    indicators: pl.DataFrame,
    spec: FeatureSpec,
    partners: dict[str, PartnerSpec],
    uses: tuple[IndicatorUse, ...],
    model: RiskModel,
) -> tuple[FeatureMatrix, pl.DataFrame]:
    """Features and risk of one partition (only its persons' events are passed in)."""
    matrix = build_features(
        part.cohort, part.events, indicators, spec, partners, uses, part.register
    )
    return matrix, score(model, matrix)


def combine(parts: list[tuple[FeatureMatrix, pl.DataFrame]]) -> tuple[FeatureMatrix, pl.DataFrame]:
    """Concatenate partition results in the one-pass order (person_id, as_of)."""
    first = parts[0][0]
    keys = ["person_id", "as_of"]
    frame = pl.concat([m.frame for m, _ in parts]).sort(keys)
    aside = pl.concat([m.aside for m, _ in parts]).sort(keys)
    scored = pl.concat([s for _, s in parts]).sort(keys)
    return FeatureMatrix(frame, first.names, aside, first.catalogue), scored
