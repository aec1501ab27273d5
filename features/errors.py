"""One domain error for bad input, so the CLI can show a clear paragraph instead of a traceback.

Every reader and contract raises :class:`SourceError` for a user's mistake: it names the
source (file or logical source), the column where one is known, and a few example rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


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
        A few offending rows (dicts or strings), shown as they were read.
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
        super().__init__(self.describe())

    def describe(self) -> str:
        """Return the one-paragraph description shown to the user."""
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
    text = repr(example) if not isinstance(example, str) else example
    return text if len(text) <= limit else text[: limit - 1] + "…"
