"""The stages of the nightly and training runs, as plain functions over a run context.

Each stage reads inputs or the previous stage's result, calls the domain packages, and
does the stage's own I/O in the workspace. The Prefect flows (flows/nightly.py,
flows/training.py) sequence them as tasks; the benchmark times them one by one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from features.build import FeatureMatrix, build_features
from features.catalogue import build_catalogue, model_features
from features.consent import consent_state, counts_by_status, in_scope
from features.coverage import check_as_of_covered, check_fold_history, check_training_dates
from features.errors import SourceError
from features.folds import labelled_dates
from features.labels import attach_labels
from features.pseudonym import keyed_hash, keyed_hashes
from features.requests import Request, partner_requests
from features.safe_repr import sizes_repr
from features.sources import Inputs, load_inputs
from flows.privacy import erased_ids
from flows.run import RunContext
from flows.workspace import sha256_path
from indicators import read_indicators

# Bump when the feature builder changes what it computes, so old caches are not reused.
FEATURE_CODE_VERSION = 4


@dataclass
class Gate:
    """The consent gate's result on one or more dates."""

    __repr__ = sizes_repr

    state: pl.DataFrame  # every consented person's state per date
    cohort: pl.DataFrame  # in scope and not a client, per date
    counts: dict[str, int]
    erased: int


def validate_sources(ctx: RunContext) -> Inputs:
    """Read and validate every source; write refused rows to quarantine."""
    s = ctx.settings

    def requests(consents: pl.DataFrame) -> dict[str, Request]:
        """Each partner's requests up to the run date (`ennakko partners requests` writes
        the run date's): rows of anyone else are quarantined."""
        if consents.height and ctx.as_of < consents["given_at"].min():
            return {}  # nobody consents yet: the as-of check refuses the run, naming the dates
        erased = erased_ids(ctx.ws, consents, ctx.keys.audit)
        return partner_requests(
            consents, ctx.as_of, ctx.today, s.consent, s.partners, erased, earlier=True
        )

    inputs = load_inputs(s.data_dir, dict(s.sources), s.partners, ctx.today, requests)
    for name, report in inputs.reports.items():
        if not report.bad.is_empty():
            target = ctx.ws.path("quarantine", ctx.as_of.isoformat(), *f"{name}.parquet".split("/"))
            ctx.ws.mkdir(target.parent)
            ctx.ws.write_parquet(target, report.bad)
    ctx.notes["inputs"] = {name: sha256_path(path) for name, path in sorted(inputs.paths.items())}
    if ctx.keys.pseudonym:
        inputs = second_pseudonym_layer(inputs, ctx.keys.pseudonym)
    return inputs


def second_pseudonym_layer(inputs: Inputs, key: bytes) -> Inputs:
    """Replace pseudonyms by keyed hashes everywhere but the contact vault.

    Events are coded by position in the register, so hashing the register (in the same
    order) re-keys them. ``consents`` and ``contacts`` keep the original in
    ``list_person_id`` so a published list can carry the pseudonym counsellors return with
    their decisions.
    """
    ids = inputs.consents["person_id"].unique(maintain_order=True)
    mapping = pl.DataFrame({"person_id": ids, "hashed": keyed_hashes(ids, key, "H")})

    def swap(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.join(mapping, on="person_id", how="inner")
            .with_columns(pl.col("hashed").alias("person_id"))
            .drop("hashed")
        )

    consents = inputs.consents.join(mapping, on="person_id").rename(
        {"person_id": "list_person_id", "hashed": "person_id"}
    )
    contacts = inputs.contacts.join(mapping, on="person_id").rename(
        {"person_id": "list_person_id", "hashed": "person_id"}
    )
    requests = inputs.contact_requests.join(mapping, on="person_id").rename(
        {"person_id": "list_person_id", "hashed": "person_id"}
    )
    return Inputs(
        consents=consents,
        contacts=contacts,
        outcomes=swap(inputs.outcomes),
        services=swap(inputs.services),
        events=inputs.events,
        contact_requests=requests,
        reports=inputs.reports,
        paths=inputs.paths,
        newest_event=inputs.newest_event,
        register=keyed_hashes(inputs.register, key, "H"),
    )


def load_indicator_table(ctx: RunContext) -> pl.DataFrame:
    """Every configured indicator file in the long form."""
    frames = [
        read_indicators(ctx.settings.data_dir / f).data for f in ctx.settings.indicators.files
    ]
    if not frames:
        return pl.DataFrame(
            schema={
                "area_code": pl.String,
                "area_level": pl.String,
                "period": pl.String,
                "indicator": pl.String,
                "value": pl.Float64,
            }
        )
    return pl.concat(frames).unique(["area_code", "area_level", "period", "indicator"], keep="last")


def gate(ctx: RunContext, inputs: Inputs, dates: Sequence[date]) -> Gate:
    """Consent state and cohort on each date; erased persons are out whatever they consented.

    The erasure register holds keyed hashes of the pseudonyms the consent register issued;
    with the second pseudonym layer on, those are in ``list_person_id``.
    """
    s = ctx.settings
    erased = erased_ids(ctx.ws, inputs.consents, ctx.keys.audit)
    state = consent_state(inputs.consents, dates, s.consent, s.partners, erased)
    # A withdrawal stops all later processing: re-running a past date (or training on
    # past dates) leaves out whoever has withdrawn by the real date, today.
    now = consent_state(inputs.consents, [ctx.today], s.consent, s.partners, erased)
    gone = now.filter(pl.col("status").is_in(["withdrawn", "erased"]))["person_id"]
    cohort = in_scope(state, inputs.services).filter(~pl.col("person_id").is_in(gone.implode()))
    counts = counts_by_status(state.filter(pl.col("as_of") == max(dates)))
    counts["cohort"] = cohort.filter(pl.col("as_of") == max(dates)).height
    return Gate(state=state, cohort=cohort, counts=counts, erased=len(erased))


def gate_on_run_date(ctx: RunContext, inputs: Inputs) -> Gate:
    return gate(ctx, inputs, [ctx.as_of])


def features(
    ctx: RunContext, inputs: Inputs, cohort: pl.DataFrame, indicators: pl.DataFrame
) -> FeatureMatrix:
    s = ctx.settings
    return build_features(
        cohort, inputs.events, indicators, s.features, s.partners, s.indicators.use, inputs.register
    )


def feature_cache_key(ctx: RunContext, dates: Sequence[date]) -> str:
    """What a feature matrix depends on: dates, configuration, inputs, erasures, code."""
    s = ctx.settings
    erasures = ctx.ws.path("privacy", "erasures.jsonl")
    parts = {
        "dates": [d.isoformat() for d in sorted(set(dates))],
        "config": s.model_dump(
            mode="json", include={"features", "partners", "indicators", "consent"}
        ),
        "inputs": ctx.notes.get("inputs", {}),
        "erasures": sha256_path(erasures) if erasures.exists() else "",
        "second_layer": keyed_hash("feature-cache", ctx.keys.pseudonym)
        if ctx.keys.pseudonym
        else "",
        "code": FEATURE_CODE_VERSION,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def cached_features(
    ctx: RunContext,
    inputs: Inputs | None = None,
    indicators: pl.DataFrame | None = None,
    cohort: pl.DataFrame | None = None,
) -> FeatureMatrix:
    """The feature matrix on the run's as-of date, from the cache when nothing changed.

    Cached per (as-of date, configuration hash, input hashes): any change to a source
    file, the feature settings, the erasure register or the feature code rebuilds it.
    """
    inputs = inputs if inputs is not None else validate_sources(ctx)
    key = feature_cache_key(ctx, [ctx.as_of])
    folder = ctx.ws.path("features")
    frame_path = folder / f"{ctx.as_of.isoformat()}--{key}.parquet"
    aside_path = folder / f"{ctx.as_of.isoformat()}--{key}.aside.parquet"
    catalogue = build_catalogue(
        ctx.settings.features, ctx.settings.partners, ctx.settings.indicators.use
    )
    if frame_path.exists() and aside_path.exists():
        frame = pl.read_parquet(frame_path)
        ctx.notes["feature_cache"] = "hit"
        return FeatureMatrix(
            frame, [f.name for f in catalogue], pl.read_parquet(aside_path), catalogue
        )
    if cohort is None:
        cohort = gate(ctx, inputs, [ctx.as_of]).cohort
    indicators = indicators if indicators is not None else load_indicator_table(ctx)
    matrix = features(ctx, inputs, cohort, indicators)
    ctx.ws.write_parquet(frame_path, matrix.frame)
    ctx.ws.write_parquet(aside_path, matrix.aside)
    ctx.notes["feature_cache"] = "miss"
    return matrix


def feature_names(ctx: RunContext, matrix: FeatureMatrix) -> list[str]:
    return model_features(matrix.catalogue, ctx.settings.features)


@dataclass
class TrainingSet:
    """Labelled rows of every as-of date the training run needs."""

    __repr__ = sizes_repr

    data: pl.DataFrame
    dates: list[date]
    matrix: FeatureMatrix
    features: list[str]


def training_set(
    ctx: RunContext, inputs: Inputs, indicators: pl.DataFrame, dates: Sequence[date]
) -> TrainingSet:
    """Cohorts, labels and features for the given as-of dates.

    Persons who withdrew by the run date or were erased are left out of every date: a
    withdrawal stops all later processing, training included.
    """
    cohort = gate(ctx, inputs, dates).cohort
    labelled = attach_labels(
        cohort.select("person_id", "as_of"),
        inputs.outcomes,
        ctx.settings.labels.horizon_days,
        ctx.as_of,
    )
    cohort = cohort.join(labelled, on=["person_id", "as_of"], how="inner")
    matrix = features(ctx, inputs, cohort, indicators)
    data = matrix.frame.join(matrix.aside, on=["person_id", "as_of"]).join(
        cohort.select("person_id", "as_of", "label", "can_contact"), on=["person_id", "as_of"]
    )
    return TrainingSet(
        data=data, dates=sorted(set(dates)), matrix=matrix, features=feature_names(ctx, matrix)
    )


def training_dates(ctx: RunContext, inputs: Inputs) -> list[date]:
    """Labelled monthly as-of dates with a full feature window of history behind them."""
    s = ctx.settings
    start = inputs.events["event_date"].min()
    if start is None:
        raise SourceError("events", "no partner rows at all: nothing to learn from.")
    history = max(s.features.windows_days)
    dates = labelled_dates(start, ctx.as_of, s.labels.horizon_days, history, s.folds.step_months)
    check_training_dates(
        dates, ctx.as_of, start, history, s.labels.horizon_days, s.folds.step_months
    )
    check_fold_history(dates, ctx.as_of, start, history, s.labels.horizon_days, s.folds)
    return dates


def check_covered(ctx: RunContext, inputs: Inputs) -> None:
    """Refuse an as-of date before the data begins (an empty cohort), in one paragraph."""
    check_as_of_covered(ctx.as_of, inputs.consents, inputs.events)


def stale_sources(ctx: RunContext, inputs: Inputs) -> dict[str, bool]:
    """Partner sources whose newest row is older than allowed on the as-of date."""
    out = {}
    for name, spec in ctx.settings.partners.items():
        newest = inputs.newest_event.get(name)
        out[name] = newest is None or newest < ctx.as_of - timedelta(days=spec.max_age_days)
    return out


def record(ctx: RunContext, event: str, **fields: Any) -> dict[str, Any]:
    """Append an audit entry for this run."""
    entry = {
        "event": event,
        "run_id": ctx.run_id,
        "kind": ctx.kind,
        "as_of": ctx.as_of.isoformat(),
        "at": ctx.notes.get("started_at"),
        "config": str(ctx.settings.config_path),
        **fields,
    }
    return ctx.audit.append(entry)


def relative(ctx: RunContext, path: Path) -> str:
    try:
        return str(path.relative_to(ctx.settings.workspace))
    except ValueError:
        return str(path)
