"""Load every configured source through its reader and contract, applying the bad-row policy.

``fail`` stops at the first refused row; ``quarantine`` keeps going while the refused share
stays under the source's limit, and hands the refused rows back so the flow can write them
to ``<workspace>/quarantine/<date>/``. Nothing here writes anything.

``contact_requests`` (the portal's "contact me") is optional: no file, no requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from features.contracts import CONTRACTS, Context, events_contract
from features.errors import SourceError
from features.readers import locate, read_table, source_exists
from features.requests import Request
from features.safe_repr import sizes_repr
from features.spec import PartnerSpec, ReadSpec
from features.validate import Validated, validate

CORE = ("consents", "contacts", "outcomes", "services")
# Sources a run reads when present (an absent file means nothing to read).
OPTIONAL = ("contact_requests",)
OPTIONAL_SPECS = {"contact_requests": ReadSpec(on_error="fail")}


@dataclass
class Inputs:
    """Every validated source of one run.

    ``events`` is long, one frame for all partners: person (a code, the position of the
    person's pseudonym in ``register``), source, event_type, event_date, value.
    """

    __repr__ = sizes_repr

    consents: pl.DataFrame
    contacts: pl.DataFrame
    outcomes: pl.DataFrame
    services: pl.DataFrame
    events: pl.DataFrame
    contact_requests: pl.DataFrame = field(default_factory=lambda: empty_frame("contact_requests"))
    reports: dict[str, Validated] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    newest_event: dict[str, object] = field(default_factory=dict)
    register: pl.Series = field(default_factory=lambda: pl.Series("person_id", [], dtype=pl.String))

    def codes(self, person_ids: pl.Series) -> pl.Series:
        """The event codes of some pseudonyms (null for persons the register does not know)."""
        return person_ids.cast(pl.String).cast(pl.Enum(self.register), strict=False).to_physical()


def load_source(
    data_dir: Path,
    name: str,
    spec: ReadSpec,
    ctx: Context,
    *,
    partner: bool = False,
    request: Request | None = None,
) -> tuple[Validated, Path]:
    """Read and validate one source; raise :class:`SourceError` when the policy says stop.

    A partner source's ``request`` refuses the rows of persons the partner was not asked
    about (:mod:`features.validate`)."""
    path = locate(data_dir, f"events/{name}" if partner else name, spec)
    contract = events_contract(ctx, f"events/{name}") if partner else CONTRACTS[name](ctx)
    table = read_table(path, spec, contract)
    result = validate(
        table.frame,
        contract,
        source=str(path),
        decimal=spec.decimal,
        date_format=spec.date_format,
        header=table.header,
        where=table.locator().where,
        request=request,
    )
    result.warnings[:0] = table.notes
    enforce_policy(result, spec)
    return result, path


def enforce_policy(result: Validated, spec: ReadSpec) -> None:
    """Raise for refused rows under ``fail``, or above ``max_bad_share`` under ``quarantine``.

    The message counts refused rows by reason and shows a few of them, with pseudonyms and
    identifiers masked (contact vault: only the offending value, never a name, phone or
    email).
    """
    if not result.contract_refused:  # rows outside a partner's request are not the partner's error
        return
    result = result.contract_view()
    reasons = result.reasons()
    summary = ", ".join(f"{n:,} × {r}" for r, n in list(reasons.items())[:4])
    if len(reasons) > 4:
        summary += f", and {len(reasons) - 4} other reason(s)"
    column = next(iter(reasons)).split(":", 1)[0]
    refused = f"{result.contract_refused:,} of {result.rows_read:,} rows"
    if spec.on_error == "fail":
        raise SourceError(
            result.source,
            f"{refused} break the contract ({summary}); the policy for this source is `fail`, "
            "so the run stops.",
            column=column,
            examples=result.examples(),
            hint="Rows are counted from 1 after the header. Fix the extract, or set "
            "`on_error: quarantine` if partial data is acceptable.",
        )
    if result.bad_share > spec.max_bad_share:
        raise SourceError(
            result.source,
            f"{refused} ({result.bad_share:.1%}) break the contract ({summary}), above the "
            f"quarantine limit of {spec.max_bad_share:.1%}, so the run stops.",
            column=column,
            examples=result.examples(),
            hint="Rows are counted from 1 after the header. Ask the partner for a corrected "
            "extract, or raise `max_bad_share`.",
        )


def load_inputs(
    data_dir: Path,
    sources: dict[str, ReadSpec],
    partners: dict[str, PartnerSpec],
    ctx_date,
    requests: Callable[[pl.DataFrame], dict[str, Request]] | None = None,
) -> Inputs:
    """Load the four core sources and every partner source.

    ``requests`` gives, from the consents read, each partner's request: rows outside it
    are refused with that reason (quarantined by the flow), never used."""
    reports: dict[str, Validated] = {}
    paths: dict[str, Path] = {}
    frames: dict[str, pl.DataFrame] = {}
    base = Context(reference_date=ctx_date, partners=tuple(partners))
    for name in CORE:
        result, path = load_source(data_dir, name, sources[name], base)
        reports[name], paths[name], frames[name] = result, path, result.good
    for name in OPTIONAL:
        spec = sources.get(name) or OPTIONAL_SPECS[name]
        frames[name] = empty_frame(name)
        if source_exists(data_dir, name, spec):
            result, path = load_source(data_dir, name, spec, base)
            reports[name], paths[name], frames[name] = result, path, result.good
    # Partner rows are many: keep them compact. A person is a code, the position of the
    # pseudonym in ``register`` (rows about persons the consent register does not know can
    # never be used, and are dropped and counted here); sources and event types are small
    # enums, values 32-bit floats. Plain integer codes also keep pseudonyms out of the
    # frame's type, so no error message about it can ever print them.
    asked = requests(frames["consents"]) if requests else {}
    register = frames["consents"]["person_id"].unique().sort()
    person_enum = pl.Enum(register)
    sources_enum = pl.Enum(list(partners))
    types_enum = pl.Enum(sorted({t for spec in partners.values() for t in spec.event_types}))
    events, newest = [], {}
    for name, spec in partners.items():
        ctx = Context(
            reference_date=ctx_date, partners=tuple(partners), event_types=spec.event_types
        )
        result, path = load_source(data_dir, name, spec, ctx, partner=True, request=asked.get(name))
        key = f"events/{name}"
        reports[key], paths[key] = result, path
        frame = result.good.select(
            pl.col("person_id").cast(person_enum, strict=False).to_physical().alias("person"),
            pl.lit(name, dtype=sources_enum).alias("source"),
            pl.col("event_type").cast(types_enum),
            "event_date",
            pl.col("value").fill_null(0.0).cast(pl.Float32),
        )
        result.good = result.good.clear()  # the report keeps its counts, not a second copy
        unknown = frame["person"].null_count()
        if unknown:
            result.warnings.append(
                f"{unknown} rows about persons the consent register does not know were dropped"
            )
            frame = frame.drop_nulls("person")
        newest[name] = frame["event_date"].max()
        events.append(frame)
    return Inputs(
        consents=frames["consents"],
        contacts=frames["contacts"],
        outcomes=frames["outcomes"],
        services=frames["services"],
        events=pl.concat(events) if events else _empty_events(),
        contact_requests=frames["contact_requests"],
        reports=reports,
        paths=paths,
        newest_event=newest,
        register=register,
    )


def empty_frame(name: str) -> pl.DataFrame:
    """An optional source that was not sent: its contract's columns, no rows."""
    contract = CONTRACTS[name](Context(reference_date=date.max))
    return pl.DataFrame(schema={c.name: c.dtype for c in contract.columns})


def _empty_events() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "person": pl.UInt32,
            "source": pl.String,
            "event_type": pl.String,
            "event_date": pl.Date,
            "value": pl.Float64,
        }
    )
