"""One translation table: every word a counsellor reads exists in Finnish, Swedish and English."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.catalogue import build_catalogue
from flows.settings import load_settings
from outreach import labels
from outreach.assemble import FLAGS
from outreach.reasons import REASON_KINDS

ROOT = Path(__file__).resolve().parents[1]
TABLES = {
    "HEADERS": labels.HEADERS,
    "BANDS": labels.BANDS,
    "FLAGS": labels.FLAGS,
    "DECISIONS": labels.DECISIONS,
    "LANGUAGE_NAMES": labels.LANGUAGE_NAMES,
    "TEXT": labels.TEXT,
    "REASONS": labels.REASONS,
    **{f"EVENTS[{k}]": v for k, v in labels.EVENTS.items()},
}


def _entries():
    yield "STATEMENT", labels.STATEMENT
    for table, entries in TABLES.items():
        for key, entry in entries.items():
            yield f"{table}.{key}", entry


@pytest.mark.parametrize(("where", "entry"), list(_entries()), ids=lambda x: str(x)[:40])
def test_every_entry_has_all_three_languages_with_the_same_placeholders(where, entry) -> None:
    """No language is missing or empty, and every language fills in the same figures, so a
    sentence cannot drop the person's number in one language."""
    assert set(entry) == set(labels.LANGS), where
    assert all(entry[lang].strip() for lang in labels.LANGS), where
    fields = {lang: labels.placeholders(entry[lang]) for lang in labels.LANGS}
    assert fields["fi"] == fields["sv"] == fields["en"], where


def test_every_flag_band_and_decision_code_has_its_words() -> None:
    """The codes the lists and the review store use are all translated, and no two
    decisions share a word in any language (the import maps words back to codes)."""
    assert set(labels.FLAGS) == set(FLAGS)
    assert set(labels.BANDS) == {"high", "medium", "low"}
    assert set(labels.DECISIONS) == {
        "contacted", "not_reached", "declined", "not_appropriate", "helped_elsewhere",
    }  # fmt: skip
    words = [w.lower() for entry in labels.DECISIONS.values() for w in entry.values()]
    assert len(words) == len(set(words))


def test_every_event_of_the_shipped_configuration_has_its_own_words() -> None:
    """Each partner event the default configuration reads is named in all three languages
    (no generic fallback), with the summed value's words where it has a value."""
    settings = load_settings(ROOT / "configs" / "default.yaml", env={})
    catalogue = build_catalogue(settings.features, dict(settings.partners), ())
    for feature in catalogue:
        if feature.event_key is None or feature.kind not in REASON_KINDS:
            continue
        words = labels.EVENTS.get(feature.event_key)
        assert words is not None, feature.event_key
        assert {"count", "item"} <= set(words), feature.event_key
        if feature.kind == "sum":
            assert "sum" in words, feature.event_key
