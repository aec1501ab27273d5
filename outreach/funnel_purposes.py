"""Consent per purpose and per partner source: among the persons whose consent was given,
how many have a valid consent allowing each purpose (scoring, contact, each partner's
rows) and how many do not.

Each purpose adds two cells to the funnel (``given`` + ``not given`` = the persons at
"consent given"), overall and in every group, and these equations go into the funnel's
one complementary suppression (:func:`outreach.funnel.build`), so nothing hidden in the
flow can be recovered through the purpose tables, nor the other way round. Scoring's
"given" is the flow's "may be scored" cell itself (the same persons), and its "not given"
is the sum of that step's reasons why not; both are equations, not new facts.

Pure: frames and names in, counts and equations out. This module does not import
:mod:`outreach.funnel` (that one imports this), so it is told the flow's cell names.
"""

from __future__ import annotations

import polars as pl

GIVEN, NOT_GIVEN = "given", "not given"
ANSWERS = (GIVEN, NOT_GIVEN)
SCORING = "scoring"
# (purpose as the consent names it, the facts column saying it is allowed)
CORE = ((SCORING, "can_score"), ("contact", "can_contact"))
SOURCE_PREFIX = "source_"

Purposes = tuple[tuple[str, str], ...]
Equation = tuple[str, tuple[str, ...]]


def purposes_of(facts: pl.DataFrame) -> Purposes:
    """Scoring, contact, then ``source:<partner>`` for every ``source_<partner>`` column."""
    sources = sorted(c for c in facts.columns if c.startswith(SOURCE_PREFIX))
    return (*CORE, *((f"source:{c.removeprefix(SOURCE_PREFIX)}", c) for c in sources))


def purpose_cell(purpose: str, answer: str) -> str:
    """A purpose cell's key (before any group prefix)."""
    return f"purpose {purpose}: {answer}"


def answer_key(purpose: str, answer: str, scored: str) -> str:
    """Where a purpose's answer is kept: scoring's "given" is the flow's ``scored`` cell."""
    return scored if (purpose, answer) == (SCORING, GIVEN) else purpose_cell(purpose, answer)


def new_cells(purposes: Purposes) -> list[str]:
    """The cells this module adds (each also summed over the groups of every dimension)."""
    return [purpose_cell(p, a) for p, _ in purposes for a in ANSWERS if (p, a) != (SCORING, GIVEN)]


def purpose_values(
    frame: pl.DataFrame, purposes: Purposes, flow: dict[str, int], total: str, scored: str
) -> dict[str, int]:
    """The persons of ``frame`` per purpose and answer; ``flow`` holds its flow's counts
    (``total``: consent given, ``scored``: may be scored). A purpose is given when the
    deciding consent is valid and allows it."""
    n = flow[total]
    out = {purpose_cell(SCORING, NOT_GIVEN): n - flow[scored]}
    valid = frame["status"] == "valid"
    for purpose, column in purposes:
        if purpose == SCORING:
            continue
        given = int((valid & frame[column].fill_null(False)).sum())
        out[purpose_cell(purpose, GIVEN)] = given
        out[purpose_cell(purpose, NOT_GIVEN)] = n - given
    return out


def purpose_equations(
    purposes: Purposes, total: str, scored: str, first_reasons: tuple[str, ...], prefix: str = ""
) -> list[Equation]:
    """Consent given = given + not given, per purpose; scoring's not given = the first
    step's reasons why not (all keys under ``prefix``)."""
    out = [
        (prefix + total, tuple(prefix + answer_key(p, a, scored) for a in ANSWERS))
        for p, _ in purposes
    ]
    out.append(
        (prefix + purpose_cell(SCORING, NOT_GIVEN), tuple(prefix + r for r in first_reasons))
    )
    return out


def purpose_table(
    shown: dict[str, int | None], purposes: Purposes, scored: str, prefix: str = ""
) -> pl.DataFrame:
    """One row per purpose: persons given and not given (null: suppressed)."""
    rows = [(p, *(shown[prefix + answer_key(p, a, scored)] for a in ANSWERS)) for p, _ in purposes]
    schema = {"purpose": pl.String, GIVEN: pl.Int64, NOT_GIVEN: pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def purpose_by_group(
    shown: dict[str, int | None],
    purposes: Purposes,
    scored: str,
    total: str,
    dimension: str,
    prefixes: dict[str, str],
) -> pl.DataFrame:
    """One row per group (``prefixes``: group -> its key prefix): consent given, then each
    purpose's given and not given (``<purpose>: given``)."""
    rows = []
    for group, prefix in prefixes.items():
        row: dict[str, str | int | None] = {dimension: group, total: shown[prefix + total]}
        for p, _ in purposes:
            row |= {f"{p}: {a}": shown[prefix + answer_key(p, a, scored)] for a in ANSWERS}
        rows.append(row)
    columns = [f"{p}: {a}" for p, _ in purposes for a in ANSWERS]
    schema = {dimension: pl.String, total: pl.Int64, **{c: pl.Int64 for c in columns}}
    return pl.DataFrame(rows, schema=schema)
