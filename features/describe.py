"""How a source's row appears in a message: safe to print, log and send to a partner.

Reasons name columns (``"event_date: cannot be read as a date"``) so they can be counted;
the offending values appear only in example rows, and those never show a pseudonym, a
personal column (name, phone, e-mail, free text) or any value shaped like an identity code,
e-mail or phone number. Kept apart from the contracts and the engine because readers
describe rows too (an undecodable byte's row) before any contract is checked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from features.errors import HIDDEN, looks_like_identifier

IDENTIFIER_HINTS = (
    "hetu",
    "henkilotunnus",
    "henkilötunnus",
    "ssn",
    "national_id",
    "name",
    "nimi",
    "phone",
    "puhelin",
    "email",
    "sahkoposti",
    "sähköposti",
    "address",
    "osoite",
)
# What example rows show instead of a pseudonym (HIDDEN: instead of a personal value).
MASK = "‹pseudonym›"
EXAMPLES = 3


def is_identifier(column: str) -> bool:
    """Whether a column name looks like a direct identifier (national ID, name, phone, ...)."""
    lowered = column.strip().lower()
    return any(hint in lowered for hint in IDENTIFIER_HINTS)


def row_label(index: int) -> str:
    """Default location of a row: its 1-based number among the data rows (header not counted)."""
    return f"row {index + 1}"


def describe_row(
    row: Mapping[str, object],
    where: str,
    reason: str | None = None,
    *,
    vault: bool = False,
    personal: Collection[str] = (),
) -> str:
    """One example row for a message, safe to print and log.

    The offending columns (named in ``reason``) come first, then the reason, then the rest
    of the row. ``person_id`` becomes :data:`MASK`; identifier-like columns, the
    ``personal`` ones (free text, counsellors) and any value shaped like an identity code,
    e-mail or phone number become :data:`HIDDEN`, in every source: the row number and the
    column are what a partner needs. For the contact vault (``vault=True``) only the
    offending columns are shown at all, and never a name, phone or e-mail.

    >>> print(describe_row({"person_id": "EN12", "value": "x"}, "row 3", "value: not a number"))
    row 3: value='x' (value: not a number); person_id=‹pseudonym›
    """
    offending = reason_columns(reason)
    hidden = frozenset(personal)
    first = [_show(c, v, hidden) for c, v in row.items() if c in offending]
    rest = [] if vault else [_show(c, v, hidden) for c, v in row.items() if c not in offending]
    text = where + (": " + ", ".join(first) if first else "")
    if reason:
        text += f" ({reason})"
    if rest:
        text += ("; " if first or reason else ": ") + ", ".join(rest)
    return text


def _show(column: str, value: object, personal: frozenset[str] = frozenset()) -> str:
    if value is None:
        text = "(empty)"
    elif column == "person_id":
        text = MASK
    elif column in personal or is_identifier(column) or looks_like_identifier(str(value)):
        text = HIDDEN
    elif isinstance(value, str) and len(value) > 40:
        text = repr(value[:39] + "…")
    else:
        text = repr(value)
    return f"{column}={text}"


def reason_columns(reason: str | None) -> set[str]:
    """The columns named in a row's reasons (``"col: what; other: what"``)."""
    if not reason:
        return set()
    return {part.split(":", 1)[0].strip() for part in reason.split("; ") if ":" in part}
