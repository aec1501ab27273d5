"""Every word a counsellor reads, in Finnish, Swedish and English: one table.

The list workbook, its guide sheet and the reasons take their words from here, so a
sentence says the same in every language and a missing translation is caught by a test
(tests/test_labels.py) instead of by a counsellor. Texts are ``str.format`` templates;
every language of one entry uses the same placeholders. Have a native speaker review
them before production.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import date

from outreach import decisions

LANGS = ("fi", "sv", "en")
T = Mapping[str, str]


def tr(entry: T, lang: str, **values: object) -> str:
    """``entry`` in ``lang`` (English when the language is unknown), filled in."""
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a template (for the completeness test)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


STATEMENT: dict[str, str] = {
    "fi": "Lista tukee ohjaajan harkintaa; se ei tee päätöksiä.",
    "sv": "Listan stöder handledarens bedömning; den fattar inga beslut.",
    "en": "This list supports the counsellor's judgement; it decides nothing.",
}

# Column headings of the workbook, by the column's key (the key row the import reads).
HEADERS: dict[str, T] = {
    "rank": {"fi": "Nro", "sv": "Nr", "en": "No."},
    "name": {"fi": "Nimi", "sv": "Namn", "en": "Name"},
    "contact": {"fi": "Puhelin ja sähköposti", "sv": "Telefon och e-post", "en": "Phone and e-mail"},
    "language": {"fi": "Kieli", "sv": "Språk", "en": "Language"},
    "risk": {"fi": "Riski", "sv": "Risk", "en": "Risk"},
    "reasons": {"fi": "Miksi listalla", "sv": "Varför på listan", "en": "Why on the list"},
    "context": {"fi": "Taustaa (ei syy)", "sv": "Bakgrund (inget skäl)",
                "en": "Background (not a reason)"},
    "flags": {"fi": "Huomioitavaa", "sv": "Att observera", "en": "Look harder"},
    "decision": {"fi": "Päätös", "sv": "Beslut", "en": "Decision"},
    "comment": {"fi": "Kommentti", "sv": "Kommentar", "en": "Comment"},
    "decided_at": {"fi": "Päivä (pp.kk.vvvv)", "sv": "Datum (dd.mm.åååå)",
                   "en": "Date (dd.mm.yyyy)"},
    "counsellor": {"fi": "Ohjaaja", "sv": "Handledare", "en": "Counsellor"},
    "person_id": {"fi": "Tunniste (älä muuta)", "sv": "Kod (ändra inte)",
                  "en": "Pseudonym (do not change)"},
    "list_id": {"fi": "Lista (älä muuta)", "sv": "Lista (ändra inte)",
                "en": "List (do not change)"},
    "probability": {"fi": "Todennäköisyys", "sv": "Sannolikhet", "en": "Probability"},
    "risk_band": {"fi": "Riskiluokka (koodi)", "sv": "Riskklass (kod)", "en": "Risk band (code)"},
}  # fmt: skip

BANDS: dict[str, T] = {
    "high": {"fi": "korkea", "sv": "hög", "en": "high"},
    "medium": {"fi": "kohtalainen", "sv": "måttlig", "en": "medium"},
    "low": {"fi": "matala", "sv": "låg", "en": "low"},
}

FLAGS: dict[str, T] = {
    "new": {"fi": "Uusi listalla", "sv": "Ny på listan", "en": "New on the list"},
    "score_change": {"fi": "Riski muuttunut paljon edellisestä",
                     "sv": "Risken har ändrats mycket sedan sist",
                     "en": "Risk changed a lot since the last run"},
    "near_cutoff": {"fi": "Lähellä listan rajaa", "sv": "Nära listans gräns",
                    "en": "Close to the list's cut-off"},
    "stale_data": {"fi": "Tiedot puutteelliset tai vanhoja",
                   "sv": "Uppgifterna är ofullständiga eller gamla",
                   "en": "Data incomplete or out of date"},
    "consent_expiring": {"fi": "Suostumus päättymässä: kysy uusimisesta",
                         "sv": "Samtycket går snart ut: fråga om förnyelse",
                         "en": "Consent expiring soon: ask about renewal"},
    "drift": {"fi": "Aineisto poikkeaa mallin opetusaineistosta tänä yönä",
              "sv": "Materialet avviker i natt från modellens träningsmaterial",
              "en": "Tonight's data differs from the model's training data"},
    "declined_before": {"fi": "Kieltäytynyt aiemmin", "sv": "Har tackat nej tidigare",
                        "en": "Declined before"},
}  # fmt: skip

# The same flags as a few words, for the list's narrow column (the guide explains them).
FLAGS_SHORT: dict[str, T] = {
    "new": {"fi": "uusi", "sv": "ny", "en": "new"},
    "score_change": {"fi": "riski muuttui", "sv": "risken ändrades", "en": "risk changed"},
    "near_cutoff": {"fi": "lähellä rajaa", "sv": "nära gränsen", "en": "near the cut-off"},
    "stale_data": {"fi": "vanhoja tietoja", "sv": "gamla uppgifter", "en": "old data"},
    "consent_expiring": {"fi": "suostumus päättyy", "sv": "samtycket går ut",
                         "en": "consent ends"},
    "drift": {"fi": "aineisto muuttunut", "sv": "materialet avviker", "en": "data drifted"},
    "declined_before": {"fi": "kieltäytynyt aiemmin", "sv": "tackat nej förut",
                        "en": "declined before"},
}  # fmt: skip

# Decision codes and their words live with the rest of the decision vocabulary; they are
# part of this table all the same (the completeness test reads them here).
DECISIONS = decisions.DECISIONS

LANGUAGE_NAMES: dict[str, T] = {
    "fi": {"fi": "suomi", "sv": "finska", "en": "Finnish"},
    "sv": {"fi": "ruotsi", "sv": "svenska", "en": "Swedish"},
    "en": {"fi": "englanti", "sv": "engelska", "en": "English"},
}

TEXT: dict[str, T] = {
    "percent": {"fi": "{n} %", "sv": "{n} %", "en": "{n}%"},
    "risk": {"fi": "{band}\n{percent}", "sv": "{band}\n{percent}", "en": "{band}\n{percent}"},
    "age": {"fi": "Ikä {band}", "sv": "Ålder {band}", "en": "Age {band}"},
    "area": {"fi": "Postinumero {code}", "sv": "Postnummer {code}", "en": "Postcode {code}"},
    "consent_until": {"fi": "{flag} {date}", "sv": "{flag} {date}", "en": "{flag} {date}"},
    "title": {"fi": "{title} · tiimi {team} · {date} · malli {model}",
              "sv": "{title} · team {team} · {date} · modell {model}",
              "en": "{title} · team {team} · {date} · model {model}"},
    "page": {"fi": "sivu &P/&N", "sv": "sida &P/&N", "en": "page &P/&N"},
    "low_note": {
        "fi": "Listalla on matalan riskin nuoria, koska tiimin paikkoja on enemmän kuin "
              "korkean ja kohtalaisen riskin nuoria. Harkitse, onko yhteydenotto heille nyt "
              "tarpeen.",
        "sv": "Listan har unga med låg risk, eftersom teamet har fler platser än det finns "
              "unga med hög eller måttlig risk. Bedöm om kontakt med dem behövs nu.",
        "en": "Low-risk young people are on the list because the team has more places than "
              "there are young people at high or medium risk. Judge whether contacting them "
              "is needed now."},
    "choose": {"fi": "Valitse: {choices}", "sv": "Välj: {choices}", "en": "Choose: {choices}"},
    "guide_flags": {"fi": "Merkit", "sv": "Markeringar", "en": "Flags"},
    "guide_decisions": {"fi": "Päätös (yksi jokaiselle riville)",
                        "sv": "Beslut (ett per rad)", "en": "Decision (one per row)"},
    "guide_bands": {"fi": "Riskiluokka", "sv": "Riskklass", "en": "Risk band"},
    # What each decision does to the next lists ({days}: outreach.cooldown_days or
    # decline_days); written beside the decision words on the guide sheet.
    "effect_contacted": {"fi": "Ei listalla {days} päivään.",
                         "sv": "Inte på listan på {days} dagar.",
                         "en": "Off the lists for {days} days."},
    "effect_not_reached": {"fi": "Ei listalla {days} päivään, sitten uusi yritys.",
                           "sv": "Inte på listan på {days} dagar, sedan ett nytt försök.",
                           "en": "Off the lists for {days} days, then another try."},
    "effect_declined": {"fi": "Ei listalla {days} päivään; sen jälkeen merkki "
                              "'Kieltäytynyt aiemmin'.",
                        "sv": "Inte på listan på {days} dagar; därefter markerad "
                              "'Har tackat nej tidigare'.",
                        "en": "Off the lists for {days} days; after that flagged "
                              "'Declined before'."},
    "effect_not_appropriate": {"fi": "Ei listalla {days} päivään; sen jälkeen merkki "
                                     "'Kieltäytynyt aiemmin'. Kertoo, että lista oli väärässä.",
                               "sv": "Inte på listan på {days} dagar; därefter markerad "
                                     "'Har tackat nej tidigare'. Visar att listan hade fel.",
                               "en": "Off the lists for {days} days; after that flagged "
                                     "'Declined before'. Tells us the list was wrong."},
    "effect_helped_elsewhere": {"fi": "Ei listalla {days} päivään.",
                                "sv": "Inte på listan på {days} dagar.",
                                "en": "Off the lists for {days} days."},
    "guide_reasons": {
        "fi": "Syyt kertovat nuoren omista tiedoista sen, mikä nostaa arvioitua riskiä. "
              "Ikä ja postinumero ovat taustaa, eivät syitä.",
        "sv": "Skälen säger vad i den ungas egna uppgifter som höjer den bedömda risken. "
              "Ålder och postnummer är bakgrund, inte skäl.",
        "en": "Reasons say what in the young person's own records raises the estimated "
              "risk. Age and postcode are background, not reasons."},
}  # fmt: skip

# The asked section: persons who asked in the portal to be contacted. Keys: the section
# headings, the row's text ({date} of the request, {method}, {in_language}), the person's
# own answers ({items}), and each method, language and answer token
# (features.contracts.CONTACT_METHODS, LANGUAGES, SITUATIONS, HELP_WANTED).
ASKED: dict[str, T] = {
    "heading": {"fi": "Pyysivät itse yhteydenottoa (eivät riskijärjestyksessä, eivät vie "
                      "listan paikkoja): ota yhteyttä ensin",
                "sv": "Bad själva om kontakt (inte rangordnade efter risk, tar inga av "
                      "listans platser): kontakta dem först",
                "en": "Asked to be contacted (not ranked by risk, outside the list's "
                      "places): contact them first"},
    "ranked_heading": {"fi": "Riskijärjestyksessä", "sv": "Rangordnade efter risk",
                       "en": "Ranked by risk"},
    "text": {"fi": "Pyysi yhteydenottoa {date}, toivoo yhteyttä {method}, {in_language}",
             "sv": "Bad om kontakt {date}, vill bli kontaktad {method}, {in_language}",
             "en": "Asked to be contacted on {date}, prefers {method}, {in_language}"},
    "situation": {"fi": "Nyt: {items}", "sv": "Nu: {items}", "en": "Now: {items}"},
    "help": {"fi": "Toivoo apua: {items}", "sv": "Vill ha hjälp med: {items}",
             "en": "Wants help with: {items}"},
    "risk": {"fi": "ei arvioitu", "sv": "inte bedömd", "en": "not scored"},
    "method.phone": {"fi": "puhelimitse", "sv": "per telefon", "en": "phone"},
    "method.sms": {"fi": "tekstiviestillä", "sv": "per sms", "en": "text"},
    "method.email": {"fi": "sähköpostilla", "sv": "per e-post", "en": "e-mail"},
    "in.fi": {"fi": "suomeksi", "sv": "på finska", "en": "in Finnish"},
    "in.sv": {"fi": "ruotsiksi", "sv": "på svenska", "en": "in Swedish"},
    "in.en": {"fi": "englanniksi", "sv": "på engelska", "en": "in English"},
    "situation.studying": {"fi": "opiskelee", "sv": "studerar", "en": "studying"},
    "situation.working": {"fi": "töissä", "sv": "arbetar", "en": "working"},
    "situation.looking_for_work": {"fi": "etsii työtä", "sv": "söker arbete",
                                   "en": "looking for work"},
    "situation.at_home": {"fi": "kotona", "sv": "hemma", "en": "at home"},
    "situation.other": {"fi": "muuta", "sv": "annat", "en": "something else"},
    "situation.rather_not_say": {"fi": "ei halunnut kertoa", "sv": "ville inte säga",
                                 "en": "rather not say"},
    "help.work": {"fi": "työ", "sv": "arbete", "en": "work"},
    "help.studies": {"fi": "opinnot", "sv": "studier", "en": "studies"},
    "help.money": {"fi": "raha-asiat", "sv": "pengar", "en": "money"},
    "help.housing": {"fi": "asuminen", "sv": "boende", "en": "housing"},
    "help.wellbeing": {"fi": "jaksaminen", "sv": "välmående", "en": "wellbeing"},
    "help.not_sure": {"fi": "ei vielä tiedä", "sv": "vet inte ännu", "en": "not sure yet"},
    "help.rather_not_say": {"fi": "ei halunnut kertoa", "sv": "ville inte säga",
                            "en": "rather not say"},
}  # fmt: skip


def _asked_word(kind: str, token: str | None, lang: str) -> str | None:
    if not token:
        return None
    entry = ASKED.get(f"{kind}.{token}")
    return tr(entry, lang) if entry else token


def asked_text(requested_at: date, method: str | None, language: str | None, lang: str) -> str:
    """ "Asked to be contacted on D, prefers phone, in Finnish" in the team's ``lang``."""
    return tr(
        ASKED["text"],
        lang,
        date=f"{requested_at.day}.{requested_at.month}.{requested_at.year}",
        method=_asked_word("method", method, lang) or "-",
        in_language=_asked_word("in", language, lang) or "-",
    )


def asked_answers(situation: str | None, help_wanted: str | None, lang: str) -> str | None:
    """The person's answers to the two optional questions, in ``lang`` (None: no answer)."""
    parts = []
    if situation:
        parts.append(tr(ASKED["situation"], lang, items=_asked_word("situation", situation, lang)))
    tokens = [t.strip() for t in (help_wanted or "").split(",") if t.strip()]
    if tokens:
        items = ", ".join(_asked_word("help", t, lang) or t for t in tokens)
        parts.append(tr(ASKED["help"], lang, items=items))
    return "; ".join(parts) or None


# Reasons: a figure about the person, worded in the direction that raises risk.
# {what}: the event words (count or sum), {item}: one event, {window}: the period.
REASONS: dict[str, T] = {
    "amount_high": {"fi": "{what} {window}: {n}", "sv": "{what} {window}: {n}",
                    "en": "{what} {window}: {n}"},
    "amount_high_typical": {"fi": "{what} {window}: {n} (tavallisesti {typical})",
                            "sv": "{what} {window}: {n} (vanligen {typical})",
                            "en": "{what} {window}: {n} (typically {typical})"},
    "amount_low_bare": {"fi": "{what} {window}: vain {n}", "sv": "{what} {window}: bara {n}",
                        "en": "{what} {window}: only {n}"},
    "amount_low": {"fi": "{what} {window}: vain {n} (tavallisesti {typical})",
                   "sv": "{what} {window}: bara {n} (vanligen {typical})",
                   "en": "{what} {window}: only {n} (typically {typical})"},
    "since_long": {"fi": "{item}: ei merkintöjä {ago}", "sv": "{item}: inga uppgifter på {ago}",
                   "en": "{item}: none for {ago}"},
    "since_never": {"fi": "{item}: ei yhtään merkintää", "sv": "{item}: inga uppgifter alls",
                    "en": "{item}: none on record"},
    "since_recent": {"fi": "{item}: viimeksi {ago} sitten", "sv": "{item}: senast för {ago} sedan",
                     "en": "{item}: the latest {ago} ago"},
    "trend_high": {"fi": "{what} viimeisen {days} päivän aikana: {n} enemmän kuin sitä ennen",
                   "sv": "{what} under de senaste {days} dagarna: {n} fler än före dem",
                   "en": "{what} in the last {days} days: {n} more than in the {days} before"},
    "trend_low": {"fi": "{what} viimeisen {days} päivän aikana: {n} vähemmän kuin sitä ennen",
                  "sv": "{what} under de senaste {days} dagarna: {n} färre än före dem",
                  "en": "{what} in the last {days} days: {n} fewer than in the {days} before"},
    "recent_high": {"fi": "{what}: viime aikoina tavallista enemmän",
                    "sv": "{what}: mer än vanligt på senare tid",
                    "en": "{what}: more than usual recently"},
    "recent_low": {"fi": "{what}: viime aikoina tavallista vähemmän",
                   "sv": "{what}: mindre än vanligt på senare tid",
                   "en": "{what}: fewer than usual recently"},
    "window_days": {"fi": "viimeisen {days} päivän aikana", "sv": "de senaste {days} dagarna",
                    "en": "in the last {days} days"},
    "window_all": {"fi": "koko seurannan aikana", "sv": "under hela uppföljningen",
                   "en": "in all records"},
    "days": {"fi": "{n} päivään", "sv": "{n} dagar", "en": "{n} days"},
    "months": {"fi": "{n} kuukauteen", "sv": "{n} månader", "en": "{n} months"},
    "days_ago": {"fi": "{n} päivää", "sv": "{n} dagar", "en": "{n} days"},
    "months_ago": {"fi": "{n} kuukautta", "sv": "{n} månader", "en": "{n} months"},
    "generic": {"fi": "Merkinnät ({source}: {event})", "sv": "Uppgifter ({source}: {event})",
                "en": "Records ({source}: {event})"},
}  # fmt: skip


# Words per partner event: rows counted, the summed value, and one event.
EVENTS: dict[str, dict[str, T]] = {
    "school.enrolled": {
        "count": {"fi": "Opintojen aloitukset", "sv": "Studiestarter", "en": "Study starts"},
        "item": {"fi": "Opintojen aloitus", "sv": "Studiestart", "en": "Study start"}},
    "school.absence": {
        "count": {"fi": "Poissaolot", "sv": "Frånvarotillfällen", "en": "Absences"},
        "sum": {"fi": "Poissaolotunnit", "sv": "Frånvarotimmar", "en": "Hours of absence"},
        "item": {"fi": "Poissaolo", "sv": "Frånvaro", "en": "Absence"}},
    "school.credits": {
        "count": {"fi": "Osaamispistemerkinnät", "sv": "Poängregistreringar",
                  "en": "Credit records"},
        "sum": {"fi": "Suoritetut osaamispisteet", "sv": "Avlagda kompetenspoäng",
                "en": "Competence points earned"},
        "item": {"fi": "Suoritettu osaamispiste", "sv": "Avlagd kompetenspoäng",
                 "en": "Competence points earned"}},
    "school.interrupted": {
        "count": {"fi": "Opintojen keskeytykset", "sv": "Avbrutna studier",
                  "en": "Interrupted studies"},
        "item": {"fi": "Opintojen keskeytys", "sv": "Avbrott i studierna",
                 "en": "Interrupted studies"}},
    "school.graduated": {
        "count": {"fi": "Valmistumiset", "sv": "Examina", "en": "Graduations"},
        "item": {"fi": "Valmistuminen", "sv": "Examen", "en": "Graduation"}},
    "outreach.contact": {
        "count": {"fi": "Etsivän nuorisotyön yhteydenotot",
                  "sv": "Kontakter med uppsökande ungdomsarbete",
                  "en": "Contacts with outreach youth work"},
        "item": {"fi": "Yhteys etsivään nuorisotyöhön",
                 "sv": "Kontakt med uppsökande ungdomsarbete",
                 "en": "Contact with outreach youth work"}},
    "outreach.meeting": {
        "count": {"fi": "Etsivän nuorisotyön tapaamiset",
                  "sv": "Möten med uppsökande ungdomsarbete",
                  "en": "Meetings with outreach youth work"},
        "item": {"fi": "Etsivän nuorisotyön tapaaminen",
                 "sv": "Möte med uppsökande ungdomsarbete",
                 "en": "Meeting with outreach youth work"}},
    "ohjaamo.visit": {
        "count": {"fi": "Ohjaamo-käynnit", "sv": "Besök på Navigatorn", "en": "Visits to Ohjaamo"},
        "item": {"fi": "Ohjaamo-käynti", "sv": "Besök på Navigatorn", "en": "Visit to Ohjaamo"}},
    "ohjaamo.guidance": {
        "count": {"fi": "Ohjauskerrat Ohjaamossa", "sv": "Handledningar på Navigatorn",
                  "en": "Guidance sessions at Ohjaamo"},
        "sum": {"fi": "Ohjausminuutit Ohjaamossa", "sv": "Handledningsminuter på Navigatorn",
                "en": "Minutes of guidance at Ohjaamo"},
        "item": {"fi": "Ohjaus Ohjaamossa", "sv": "Handledning på Navigatorn",
                 "en": "Guidance at Ohjaamo"}},
    "employment.registration": {
        "count": {"fi": "Aiemmat työttömyysjaksot", "sv": "Tidigare arbetslöshetsperioder",
                  "en": "Earlier unemployment periods"},
        "sum": {"fi": "Työttömänä vietetyt päivät", "sv": "Dagar som arbetslös",
                "en": "Days registered unemployed"},
        "item": {"fi": "Työttömyysjakso", "sv": "Arbetslöshetsperiod",
                 "en": "Unemployment period"}},
    "employment.activation_start": {
        "count": {"fi": "Alkaneet aktivointitoimenpiteet", "sv": "Påbörjade aktiveringsåtgärder",
                  "en": "Activation measures started"},
        "item": {"fi": "Aktivointitoimenpiteen alku", "sv": "Påbörjad aktiveringsåtgärd",
                 "en": "Start of an activation measure"}},
    "employment.activation_end": {
        "count": {"fi": "Päättyneet aktivointitoimenpiteet", "sv": "Avslutade aktiveringsåtgärder",
                  "en": "Activation measures ended"},
        "item": {"fi": "Aktivointitoimenpiteen päättyminen", "sv": "Avslutad aktiveringsåtgärd",
                 "en": "End of an activation measure"}},
}  # fmt: skip


def event_words(event_key: str, form: str, lang: str) -> str:
    """The words for one partner event (``form``: count, sum or item), with a plain
    fallback naming the source and event type for events this table does not know."""
    words = EVENTS.get(event_key, {})
    entry = words.get(form) or words.get("count")
    if entry is None:
        source, _, event = event_key.partition(".")
        return tr(REASONS["generic"], lang, source=source, event=event)
    return tr(entry, lang)
