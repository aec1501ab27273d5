"""Data contracts of every source: the columns partners send, their types and their checks.

A contract is a list of columns with their types plus value checks (pandera) and rules
across columns. This module only declares them; :mod:`features.validate` checks a frame
against one and gives every refused row a reason a partner can act on, and
:mod:`features.describe` shows example rows without pseudonyms or identifiers.

Labels that become file names and audit text (the consents' ``team``: lists are written
as ``<D>-<team>.xlsx``) are normalised (trimmed, Unicode NFC, lower case) and must match
:data:`features.names.TEAM`, so no path separator, control character, over-long name or
identifier can reach a file name. A ``person_id`` shaped like an identity code is refused.
The reviews counsellors send back have their own checks (:mod:`outreach.reviews`), not a
contract here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import pandera.polars as pa
import polars as pl

from features.names import POSTAL_CODE, TEAM, TEAM_RULE

PSEUDONYM = r"^[A-Za-z0-9_-]{4,64}$"
# A Finnish identity code fits PSEUDONYM's characters: refused where a pseudonym belongs.
IDENTITY_CODE_VALUE = r"(?i)^\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]$"
LANGUAGES = ("fi", "sv", "en")
GENDERS = ("F", "M", "X")
CORE_PURPOSES = ("scoring", "contact")
# The portal's pseudonyms (portal.models, synth.city): "EN" and ten upper-case hex digits.
PORTAL_PSEUDONYM = r"^EN[0-9A-F]{10}$"
# "Contact me" (the portal's contact_requests): how to reach the person, and the fixed
# answers of the two optional questions (no free text).
CONTACT_METHODS = ("phone", "sms", "email")
SITUATIONS = ("studying", "working", "looking_for_work", "at_home", "other", "rather_not_say")
HELP_WANTED = ("work", "studies", "money", "housing", "wellbeing", "not_sure", "rather_not_say")
EARLIEST = date(1990, 1, 1)


@dataclass(frozen=True)
class Column:
    """One contract column: its type, whether it must exist and whether it may be empty.

    ``zero_pad`` restores leading zeros when a spreadsheet stored the value as a number
    (postal code 00100 → 100). ``personal`` columns (names, contact details, free text,
    counsellors) never show their values in messages. A ``label`` becomes part of file
    names: it is trimmed, NFC-normalised and lower-cased before its checks run.
    """

    name: str
    dtype: type[pl.DataType] | pl.DataType
    required: bool = True
    nullable: bool = False
    checks: tuple[pa.Check, ...] = ()
    unique: bool = False
    zero_pad: int | None = None
    personal: bool = False
    label: bool = False


@dataclass(frozen=True)
class RowRule:
    """A check across columns: ``ok`` is a boolean expression; nulls count as passing.

    ``column`` is the column the reason is filed under (the one to correct).
    """

    column: str
    message: str
    ok: pl.Expr


@dataclass(frozen=True)
class Contract:
    """A source's columns and rules. ``vault`` marks the contact vault: no values in messages."""

    name: str
    columns: tuple[Column, ...]
    rules: tuple[RowRule, ...] = ()
    dedupe: bool = False
    vault: bool = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def personal(self) -> frozenset[str]:
        """Columns whose values never appear in a message (person_id has its own mask)."""
        return frozenset(c.name for c in self.columns if c.personal)


@dataclass(frozen=True)
class Context:
    """What the checks compare against: the extract's date and the configured vocabularies."""

    reference_date: date
    partners: Sequence[str] = ()
    event_types: Sequence[str] = ()


def _date_range(ctx: Context) -> pa.Check:
    return pa.Check.in_range(
        EARLIEST,
        ctx.reference_date,
        error=f"date before {EARLIEST.isoformat()} or after the extract date "
        f"{ctx.reference_date.isoformat()}",
    )


def _pseudonym() -> pa.Check:
    return pa.Check.str_matches(PSEUDONYM, error="not a pseudonym (4-64 letters, digits, _ or -)")


def _one_of(values: Sequence[str]) -> pa.Check:
    return pa.Check.isin(list(values), error=f"not one of {', '.join(values)}")


def _text() -> pa.Check:
    return pa.Check.str_matches(r"^\s*\S", error="empty text")


def _not_identity_code() -> RowRule:
    """A person_id shaped like an identity code is a direct identifier, not a pseudonym."""
    return RowRule(
        "person_id",
        "looks like a personal identity code, not a pseudonym",
        ~pl.col("person_id").str.contains(IDENTITY_CODE_VALUE),
    )


def _team() -> pa.Check:
    return pa.Check.str_matches(TEAM, error=f"team name not allowed: {TEAM_RULE}")


def consents_contract(ctx: Context) -> Contract:
    allowed = (*CORE_PURPOSES, *(f"source:{p}" for p in ctx.partners))
    year = ctx.reference_date.year
    return Contract(
        "consents",
        (
            Column("person_id", pl.String, checks=(_pseudonym(),)),
            Column("consent_id", pl.String, unique=True, checks=(_text(),)),
            Column("given_at", pl.Date, checks=(_date_range(ctx),)),
            Column("expires_at", pl.Date, required=False, nullable=True),
            Column(
                "withdrawn_at", pl.Date, required=False, nullable=True, checks=(_date_range(ctx),)
            ),
            Column("purposes", pl.String),
            Column("channel", pl.String, checks=(_text(),)),
            Column("notice_version", pl.String, checks=(_text(),)),
            Column(
                "birth_year",
                pl.Int32,
                checks=(
                    pa.Check.in_range(
                        year - 40,
                        year - 12,
                        error=f"implausible birth year (allowed {year - 40}..{year - 12})",
                    ),
                ),
            ),
            Column(
                "postal_code",
                pl.String,
                checks=(pa.Check.str_matches(POSTAL_CODE, error="not a five-digit postal code"),),
                zero_pad=5,
            ),
            Column("language", pl.String, checks=(_one_of(LANGUAGES),)),
            Column("team", pl.String, checks=(_team(),), label=True),
            Column("gender", pl.String, required=False, nullable=True, checks=(_one_of(GENDERS),)),
        ),
        rules=(
            _not_identity_code(),
            RowRule("expires_at", "before given_at", pl.col("expires_at") > pl.col("given_at")),
            RowRule(
                "withdrawn_at", "before given_at", pl.col("withdrawn_at") >= pl.col("given_at")
            ),
            RowRule(
                "purposes",
                f"unknown purpose (allowed: {', '.join(allowed)})",
                pl.col("purposes")
                .str.split(",")
                .list.eval(pl.element().str.strip_chars().is_in(allowed))
                .list.all(),
            ),
        ),
    )


def contacts_contract(ctx: Context) -> Contract:
    return Contract(
        "contacts",
        (
            Column("person_id", pl.String, unique=True, checks=(_pseudonym(),)),
            Column("name", pl.String, checks=(_text(),), personal=True),
            Column(
                "phone",
                pl.String,
                required=False,
                nullable=True,
                checks=(pa.Check.str_matches(r"^\+?[0-9 ()-]{6,24}$", error="not a phone number"),),
                personal=True,
            ),
            Column(
                "email",
                pl.String,
                required=False,
                nullable=True,
                checks=(pa.Check.str_matches(r"^[^@\s]+@[^@\s]+$", error="not an email address"),),
                personal=True,
            ),
            Column("preferred_language", pl.String, checks=(_one_of(LANGUAGES),)),
        ),
        rules=(_not_identity_code(),),
        vault=True,
    )


def events_contract(ctx: Context, source: str) -> Contract:
    return Contract(
        source,
        (
            Column("person_id", pl.String, checks=(_pseudonym(),)),
            Column("event_date", pl.Date, checks=(_date_range(ctx),)),
            Column("event_type", pl.String, checks=(_one_of(ctx.event_types),)),
            Column(
                "value",
                pl.Float64,
                required=False,
                nullable=True,
                checks=(pa.Check.in_range(-1e6, 1e6, error="value outside ±1e6"),),
            ),
        ),
        # No identity-code rule here: tens of millions of rows, and a person_id the consent
        # register (which has the rule) does not know is dropped from events anyway.
        dedupe=True,
    )


def outcomes_contract(ctx: Context) -> Contract:
    return Contract(
        "outcomes",
        (
            Column("person_id", pl.String, checks=(_pseudonym(),)),
            Column("registered_at", pl.Date, checks=(_date_range(ctx),)),
        ),
        rules=(_not_identity_code(),),
        dedupe=True,
    )


def services_contract(ctx: Context) -> Contract:
    return Contract(
        "services",
        (
            Column("person_id", pl.String, checks=(_pseudonym(),)),
            Column("service", pl.String, checks=(_text(),)),
            Column("start", pl.Date, checks=(_date_range(ctx),)),
            Column("end", pl.Date, required=False, nullable=True),
        ),
        rules=(
            _not_identity_code(),
            RowRule("end", "before start", pl.col("end") >= pl.col("start")),
        ),
        dedupe=True,
    )


def _tokens(column: str, allowed: Sequence[str]) -> RowRule:
    """A comma-joined list of tokens, each from ``allowed``."""
    return RowRule(
        column,
        f"unknown choice (allowed: {', '.join(allowed)})",
        pl.col(column)
        .str.split(",")
        .list.eval(pl.element().str.strip_chars().is_in(list(allowed)))
        .list.all(),
    )


def contact_requests_contract(ctx: Context) -> Contract:
    """A young person's "contact me" from the portal: one row per request.

    Optional: an absent file means no requests. ``help_wanted`` may hold several choices,
    comma-joined; ``closed_at`` ends the request (a decision, "do not contact", erasure).
    """
    return Contract(
        "contact_requests",
        (
            Column(
                "person_id",
                pl.String,
                checks=(
                    pa.Check.str_matches(
                        PORTAL_PSEUDONYM, error="not a portal pseudonym (EN and 10 hex digits)"
                    ),
                ),
            ),
            Column("requested_at", pl.Date, checks=(_date_range(ctx),)),
            Column("method", pl.String, checks=(_one_of(CONTACT_METHODS),)),
            Column("language", pl.String, checks=(_one_of(LANGUAGES),)),
            Column(
                "situation", pl.String, required=False, nullable=True, checks=(_one_of(SITUATIONS),)
            ),
            Column("help_wanted", pl.String, required=False, nullable=True),
            Column("closed_at", pl.Date, required=False, nullable=True, checks=(_date_range(ctx),)),
        ),
        rules=(
            _not_identity_code(),
            _tokens("help_wanted", HELP_WANTED),
            RowRule(
                "closed_at", "before requested_at", pl.col("closed_at") >= pl.col("requested_at")
            ),
        ),
    )


CONTRACTS: dict[str, Callable[[Context], Contract]] = {
    "consents": consents_contract,
    "contacts": contacts_contract,
    "contact_requests": contact_requests_contract,
    "outcomes": outcomes_contract,
    "services": services_contract,
}
