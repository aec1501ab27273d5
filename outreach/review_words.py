"""The words a returned list may use, in Finnish, Swedish and English.

A counsellor fills in the workbook in the team's language and may retype a decision
instead of picking it from the drop-down; the import must understand all three languages
whatever language the list was written in. Headers likewise: the workbook's plain headers
(in any of the three languages) and the machine names of the CSV both map to one column.
Matching ignores case, surrounding spaces, doubled spaces and ``_`` versus a space.
"""

from __future__ import annotations

import re

from outreach import writers

# Decision code -> words accepted for it (the code itself is always accepted too).
DECISION_WORDS: dict[str, tuple[str, ...]] = {
    "contacted": (
        "contacted", "reached", "tavoitettu", "tavoitettiin", "yhteys saatu", "kontaktad",
        "nådd", "nåddes",
    ),
    "not_reached": (
        "not reached", "no answer", "ei tavoitettu", "ei tavoitettu vielä", "ei vastannut",
        "inte nådd", "ej nådd", "nåddes inte",
    ),
    "declined": (
        "declined", "kieltäytyi", "kieltäytynyt", "avböjde", "avböjt", "tackade nej",
    ),
    "not_appropriate": (
        "not appropriate", "ei aiheellinen", "ei sovellu", "ei tarpeen", "inte lämplig",
        "ej lämplig", "inte befogad",
    ),
    "helped_elsewhere": (
        "already helped elsewhere", "helped elsewhere", "saa jo apua muualla",
        "autettu muualla", "saa apua muualla", "får redan hjälp på annat håll",
        "får hjälp på annat håll", "hjälpt på annat håll",
    ),
}  # fmt: skip

# Column -> headers accepted for it. The workbook's own headers come first from
# outreach.writers (whatever it calls them), these are what people retype.
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


def normal(text: object) -> str:
    """``text`` as compared: lower case, ``_`` as a space, spaces collapsed, no end dot."""
    return re.sub(r"\s+", " ", str(text).replace("_", " ")).strip().strip(".:").lower()


def _writer_words(name: str) -> dict[str, tuple[str, ...]]:
    """Translations the workbook writer uses under ``name`` (code -> words), if any: from
    outreach.writers itself or the translation table it writes from."""
    table = getattr(writers, name, None)
    if not isinstance(table, dict):
        table = getattr(getattr(writers, "labels", None), name, None)
    if not isinstance(table, dict):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for code, words in table.items():
        if isinstance(words, str):
            words = (words,)
        elif isinstance(words, dict):
            words = tuple(words.values())
        out[str(code)] = tuple(str(w) for w in words)
    return out


def decision_vocabulary() -> dict[str, str]:
    """Every accepted decision word (normalised) -> decision code."""
    vocabulary: dict[str, str] = {}
    for label, code in writers.DECISION_LABELS.items():
        vocabulary[normal(label)] = code
    for code, words in {**DECISION_WORDS}.items():
        for word in (code, *words):
            vocabulary[normal(word)] = code
    for name in ("DECISION_CHOICES", "DECISION_TEXT", "DECISIONS"):
        for code, words in _writer_words(name).items():
            if code in DECISION_WORDS:
                for word in words:
                    vocabulary.setdefault(normal(word), code)
    return vocabulary


def header_vocabulary() -> dict[str, str]:
    """Every accepted header (normalised) -> column name."""
    vocabulary: dict[str, str] = {}
    for name in ("HEADERS", "HEADER_LABELS", "COLUMN_LABELS"):
        for column, words in _writer_words(name).items():
            for word in words:
                vocabulary.setdefault(normal(word), column)
    for column in writers.COLUMNS:
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
