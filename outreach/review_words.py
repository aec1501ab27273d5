"""The headers a returned list may use, in Finnish, Swedish and English.

A counsellor may return the workbook with its plain headers (in any of the three
languages), the CSV with its machine names, or retype a header: all map to one column.
Matching ignores case, surrounding spaces, doubled spaces and ``_`` versus a space. The
decision words are in :mod:`outreach.decisions`, the one place for that vocabulary.
"""

from __future__ import annotations

from outreach import labels
from outreach.decisions import normal
from outreach.writers import COLUMNS

# Column -> headers accepted for it. The workbook's own headings come first (from
# outreach.labels), these are what people retype.
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "list_id": ("list id", "listan tunnus", "lista", "listans id", "listan id"),
    "person_id": ("person id", "tunniste", "henkilön tunniste", "pseudonyymi", "person-id"),
    "decision": ("decision", "päätös", "ratkaisu", "beslut"),
    "comment": ("comment", "kommentti", "perustelu", "lisätieto", "kommentar", "motivering"),
    "decided_at": (
        "decided at", "date", "decision date", "päivämäärä", "päätöspäivä", "pvm", "datum",
        "beslutsdatum",
    ),
    "counsellor": ("counsellor", "counselor", "ohjaaja", "handledare"),
}  # fmt: skip


def header_vocabulary() -> dict[str, str]:
    """Every accepted header (normalised) -> column name."""
    vocabulary: dict[str, str] = {}
    for column, words in labels.HEADERS.items():  # the workbook's own headings
        for word in words.values():
            vocabulary.setdefault(normal(word), column)
    for column in COLUMNS:
        vocabulary[normal(column)] = column
    for column, words in HEADER_WORDS.items():
        for word in (column, *words):
            vocabulary.setdefault(normal(word), column)
    return vocabulary


def canonical_headers(cells: list[object]) -> list[str]:
    """Column names for a header row as found in a returned file (unknown ones kept)."""
    known = header_vocabulary()
    return [
        known.get(normal(c), str(c)) if c not in (None, "") else f"column_{i}"
        for i, c in enumerate(cells)
    ]
