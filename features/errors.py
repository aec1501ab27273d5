"""One domain error for bad input, so the CLI can show a clear paragraph instead of a traceback.

Every reader and contract raises :class:`SourceError` for a user's mistake: it names the
source (file or logical source), the column where one is known, and a few example rows.

Example rows and messages are printed to terminals and written to logs and Prefect's
database, so :meth:`SourceError.describe` hides anything shaped like a direct identifier
(a Finnish identity code, an e-mail address, a phone number) whatever column it came from:
a partner who typed an identity code into the team column must not see it echoed into
``logs/ennakko.log``. Row numbers and column names are what a partner needs to find it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# What is shown instead of a value that is, or looks like, a direct identifier.
HIDDEN = "‹hidden›"
# Finnish personal identity code (henkilötunnus): ddmmyy, century sign, number, check mark.
IDENTITY_CODE = re.compile(r"(?<![0-9A-Za-z])\d{6}[-+A-FU-Y]\d{3}[0-9A-Y](?![0-9A-Za-z])", re.I)
EMAIL = re.compile(r"[^\s@'\"`=;,()<>]+@[^\s@'\"`=;,()<>]+")
# Phone numbers as people write them: +358 40 123 4567, 040-1234567, (09) 310 1234.
PHONE = re.compile(r"(?<![\w.,-])(?:\+|\(?0)[0-9][0-9 ()-]{4,}[0-9](?![\w.,])")
# Nine digits or more alone (a number without its + or 0), but not a line or row number.
LONG_DIGITS = re.compile(r"(?<![\w.,-])(?<!line )(?<!row )\d{9,}(?![\w.,])")


def looks_like_identifier(text: str) -> bool:
    """Whether ``text`` holds something shaped like an identity code, e-mail or phone number."""
    return _scrub(text) != text


def scrub(text: str) -> str:
    """``text`` with every identity code, e-mail address and phone number replaced by HIDDEN."""
    return _scrub(text)


def _scrub(text: str) -> str:
    text = IDENTITY_CODE.sub(HIDDEN, text)
    text = EMAIL.sub(HIDDEN, text)
    text = PHONE.sub(lambda m: HIDDEN if _digits(m.group()) >= 7 else m.group(), text)
    return LONG_DIGITS.sub(HIDDEN, text)


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


@dataclass
class SourceError(Exception):
    """Input that Ennakko refuses, described for the person who has to fix it.

    Parameters
    ----------
    source
        The file path or logical source name (``consents``, ``events/school``).
    message
        What is wrong, in one sentence.
    column
        The offending column, when there is one.
    examples
        A few offending rows (dicts or strings), shown as they were read, except that
        anything shaped like an identity code, e-mail or phone number is hidden.
    hint
        What the user can do about it.
    label
        What ``column`` is called: "Column" in a data file, "Key" in a configuration.
    """

    source: str
    message: str
    column: str | None = None
    examples: Sequence[Any] = field(default_factory=tuple)
    hint: str | None = None
    label: str = "Column"

    def __post_init__(self) -> None:
        # Scrubbed once, here: Prefect logs ``repr(exc)`` (the dataclass fields) to the
        # terminal, logs/ennakko.log and its database, not only ``describe()``.
        self.message = scrub(self.message)
        self.column = None if self.column is None else scrub(self.column)
        self.examples = tuple(scrub(e if isinstance(e, str) else repr(e)) for e in self.examples)
        super().__init__(self.describe())

    def describe(self) -> str:
        """Return the one-paragraph description shown to the user (identifiers hidden)."""
        parts = [f"{self.source}: {self.message}"]
        if self.column:
            parts.append(f"{self.label}: {self.column}.")
        if self.examples:
            shown = "; ".join(_short(e) for e in list(self.examples)[:5])
            parts.append(f"Example rows: {shown}.")
        if self.hint:
            parts.append(self.hint)
        return " ".join(parts)

    def __str__(self) -> str:
        return self.describe()


def _short(example: Any, limit: int = 160) -> str:
    text = scrub(repr(example) if not isinstance(example, str) else example)
    return text if len(text) <= limit else text[: limit - 1] + "…"
