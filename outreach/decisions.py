"""The decisions a counsellor records: codes, words, what each does, and how they are stored.

The one place for the decision vocabulary and the reviews store's schema. The list
workbook offers :data:`DECISIONS` (each code in Finnish, Swedish and English) in its
drop-down; the import (:mod:`outreach.reviews`) understands those words, the ones people
retype (:data:`DECISION_WORDS`) and the codes themselves, in any of the three languages
whatever language the list was written in; list assembly (:mod:`outreach.assemble`) keeps
a person off the lists after a decision by its group; the reports count by code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl

# Decision codes (what the store keeps) and the words a counsellor chooses from.
DECISIONS: dict[str, Mapping[str, str]] = {
    "contacted": {"fi": "tavoitettu", "sv": "nådd", "en": "contacted"},
    "not_reached": {"fi": "ei tavoitettu", "sv": "inte nådd", "en": "not reached"},
    "declined": {"fi": "kieltäytyi", "sv": "tackade nej", "en": "declined"},
    "not_appropriate": {"fi": "ei sovellu", "sv": "inte lämplig", "en": "not appropriate"},
    "helped_elsewhere": {"fi": "saa jo apua muualla", "sv": "får redan hjälp på annat håll",
                         "en": "already helped elsewhere"},
}  # fmt: skip
CODES: tuple[str, ...] = tuple(DECISIONS)

# What a decision does to the next lists (outreach.assemble): off them for the cool-down,
# or for the decline window and flagged "declined before" after it.
CONTACT_DECISIONS = ("contacted", "not_reached")
DECLINE_DECISIONS = ("declined", "not_appropriate")
# Already a client of another service: off the lists for the decline window too, but not
# flagged after it (they declined nothing).
ELSEWHERE_DECISIONS = ("helped_elsewhere",)

# Every word a counsellor may choose, in any of the three languages, to its code.
DECISION_LABELS: dict[str, str] = {
    word: code for code, words in DECISIONS.items() for word in words.values()
}

# Decision code -> further words accepted for it when retyped (the code itself and the
# drop-down's words are always accepted too).
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

# The reviews store (<workspace>/reviews/decisions.parquet), one row per decision.
STORE_SCHEMA = {
    "list_id": pl.String,
    "person_id": pl.String,
    "decision": pl.String,
    "reason": pl.String,
    "decided_at": pl.Date,
    "counsellor": pl.String,
    "team": pl.String,
    "rank": pl.Int64,
    "risk_band": pl.String,
    "override": pl.Boolean,
    "imported_at": pl.Date,
    "corrects": pl.String,  # the decision this row corrects (null: a first decision)
    "superseded_at": pl.Date,  # when a correction replaced this row (null: the latest)
}


def normal(text: object) -> str:
    """``text`` as compared: lower case, ``_`` as a space, spaces collapsed, no end dot."""
    return re.sub(r"\s+", " ", str(text).replace("_", " ")).strip().strip(".:").lower()


def decision_vocabulary() -> dict[str, str]:
    """Every accepted decision word (normalised) -> decision code."""
    vocabulary = {normal(label): code for label, code in DECISION_LABELS.items()}
    for code, words in DECISION_WORDS.items():
        for word in (code, *words):
            vocabulary[normal(word)] = code
    return vocabulary
