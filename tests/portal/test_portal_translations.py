"""Every text a young person reads has its Finnish, Swedish and English words, and the
compiled catalogs (.mo, tracked in git) say exactly what the .po files say.

The catalog is checked against the code itself: ``makemessages`` runs over a copy of the
portal's Python and templates, so a text added to a page without a translation, or a
translation left behind by a removed text, fails here rather than showing English to a
Finnish reader. The .po files are read by a small parser (no polib here) and each .mo is
read back with the standard library's gettext.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_program

LOCALE = ROOT / "portal" / "locale"
LANGS = ("fi", "sv", "en")

Key = tuple[str, str, str]  # (msgctxt, msgid, msgid_plural)


def read_po(path: Path) -> dict[Key, dict]:
    """The entries of a .po file (entries are blocks between blank lines; the header and
    obsolete ``#~`` entries left out): per (context, msgid, plural msgid), its msgstr
    list and whether it is marked fuzzy."""
    entries: dict[Key, dict] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        field, fuzzy = "", False
        for line in block.splitlines():
            if line.startswith("#,"):
                fuzzy = fuzzy or "fuzzy" in line
            elif line.startswith('"'):
                fields[field] += ast.literal_eval(line)
            elif line and not line.startswith("#"):
                field, _, value = line.partition(" ")
                fields[field] = ast.literal_eval(value)
        if fields.get("msgid"):
            key = (fields.get("msgctxt", ""), fields["msgid"], fields.get("msgid_plural", ""))
            strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            entries[key] = {"msgstr": strs, "fuzzy": fuzzy}
    return entries


def words(text: str) -> bool:
    """Whether ``text`` has words to translate besides its placeholders (two or more)."""
    return len(re.findall(r"[A-Za-z]{2,}", re.sub(r"%\(\w+\)[sd]", "", text))) >= 2


@pytest.fixture(scope="module")
def catalogs() -> dict[str, dict[Key, dict]]:
    return {lang: read_po(LOCALE / lang / "LC_MESSAGES" / "django.po") for lang in LANGS}


def test_every_text_has_finnish_swedish_and_english_words(catalogs) -> None:
    """No entry is empty or fuzzy in any language, and all three hold the same texts."""
    assert len(catalogs["fi"]) > 150  # the parser read the catalog, not an empty file
    for lang, entries in catalogs.items():
        empty = [key[1] for key, e in entries.items() if not all(e["msgstr"])]
        fuzzy = [key[1] for key, e in entries.items() if e["fuzzy"]]
        assert not empty, f"{lang}: no translation for {empty}"
        assert not fuzzy, f"{lang}: fuzzy (unchecked) translations for {fuzzy}"
    assert set(catalogs["fi"]) == set(catalogs["sv"]) == set(catalogs["en"])
    for lang in ("fi", "sv"):  # a sentence left in English (names and placeholders may stay)
        same = [k[1] for k, e in catalogs[lang].items() if e["msgstr"] == [k[1]] and words(k[1])]
        assert not same, f"{lang}: English left as the translation of {same}"


def test_compiled_catalogs_match_the_po_files(catalogs) -> None:
    """Each tracked .mo holds exactly the .po's translations (compilemessages was run)."""
    for lang, entries in catalogs.items():
        with (LOCALE / lang / "LC_MESSAGES" / "django.mo").open("rb") as mo:
            compiled = dict(gettext.GNUTranslations(mo)._catalog)
        compiled.pop("", None)
        expected: dict = {}
        for (ctxt, msgid, plural), entry in entries.items():
            msgid = f"{ctxt}\x04{msgid}" if ctxt else msgid
            if plural:
                expected.update({(msgid, i): s for i, s in enumerate(entry["msgstr"])})
            else:
                expected[msgid] = entry["msgstr"][0]
        stale = sorted(str(k) for k in expected.keys() ^ compiled.keys())
        assert not stale, f"{lang}: .mo and .po disagree on {stale[:5]}: run compilemessages"
        changed = [k for k in expected if expected[k] != compiled[k]]
        assert not changed, f"{lang}: .mo is older than the .po for {changed[:5]}"


def test_catalog_holds_exactly_the_texts_in_the_code(catalogs, settings, tmp_path, monkeypatch):
    """makemessages over a copy of the portal's code finds no text the catalog lacks and
    the catalog keeps no text the code no longer has."""
    from django.core.management import call_command

    require_program("xgettext", install="apt-get install gettext")
    copy = tmp_path / "portal"
    for source in [*(ROOT / "portal").rglob("*.py"), *(ROOT / "portal").rglob("*.html")]:
        relative = source.relative_to(ROOT / "portal")
        if relative.parts[0] in ("testop", "migrations", "locale"):
            continue
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, copy / relative)
    (copy / "locale" / "fi" / "LC_MESSAGES").mkdir(parents=True)
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["fi"], no_location=True, no_wrap=True, verbosity=0)
    found = set(read_po(copy / "locale" / "fi" / "LC_MESSAGES" / "django.po"))
    assert len(found) > 150
    missing = sorted(key[1] for key in found - set(catalogs["fi"]))
    assert not missing, f"texts in the code but not in the catalog (run makemessages): {missing}"
    gone = sorted(key[1] for key in set(catalogs["fi"]) - found)
    assert not gone, f"texts in the catalog no longer in the code: {gone}"
