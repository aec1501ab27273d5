"""The funnel's words in Finnish and English: headings, notes, steps, reasons, channels
and purposes. Keys are the English the tables carry; English prints them as they are,
except the few codes that read better with spaces."""

from __future__ import annotations

WORDS = {
    "fi": {
        "title": "Ennakko: tavoittavuus ja suostumukset",
        "flow": "Polku (CONSORT)", "by": "Jaoteltuna", "repr": "Edustavuus alueittain",
        "step": "Vaihe", "reason": "Syy, miksi ei jatkunut", "persons": "Henkilöä",
        "hidden": "– piilotettu (alle {m} henkilön solu tai siitä laskettavissa)",
        "area": "Alue", "population": "18-29-v. väestö (Paavo)", "consent_share": "Osuus suostuneista",
        "population_share": "Osuus väestöstä", "ratio": "Suhde",
        "week": "Suostumusviikko", "asked_contact": "Pyysi yhteydenottoa", "age_band": "Ikäryhmä", "language": "Kieli", "team": "Tiimi",
        "as_of": "Tilanne", "portal": "Suostumuspalvelu viikoittain ja kanavittain", "channel": "Kanava",
        "no_portal": "Suostumuspalvelu ei ole käytössä: polku alkaa suostumusaineistosta.", "partners": "Kumppanit: saatiinko rivitason tiedot?", "source": "Lähde",
        "asked about": "kysytty", "rows returned": "rivejä saatu", "no rows": "ei rivejä",
        "purposes": "Suostumus käyttötarkoituksittain ja lähteittäin", "purpose": "Käyttötarkoitus",
        "purposes_note": "Niistä, jotka ovat antaneet suostumuksen: kuinka monen voimassa oleva suostumus sallii kunkin käyttötarkoituksen (annettu + ei annettu = suostumus annettu).",
        "repr_note": "Pisteytettävissä olevat henkilöt alueittain verrattuna alueen 18-29-vuotiaisiin (Paavo, uusin vuosi). Suhde 1: yhtä paljon kuin väestöosuus antaa odottaa; alle 1: vähemmän.",
        "lang": "fi", "no_figure": "ei lukua",
        "pairs_note": "Kussakin sarakkeessa annettu / ei annettu; yhteensä suostumus annettu.",
        "repr_band": "Edustavuus ikäryhmittäin", "band_population": "Väestö (Paavo, kaikki alueet)",
        "band_note": "Pisteytettävissä olevat henkilöt ikäryhmittäin verrattuna ikäryhmän väestöön kaikilla alueilla (Paavo, uusin vuosi). Osuudet 18-29-vuotiaista; Paavo ei julkaise 15-17-vuotiaita, joten heille ei ole väestölukua.",
        "no_bands": "Indikaattoritaulussa ei ole Paavon ikäryhmien väestölukuja (youth_18_19, youth_20_24, youth_25_29 tai Paavon 18_19_years_he, 20_24_years_he, 25_29_years_he), joten edustavuutta ikäryhmittäin ei laskettu. Ikäryhmittäinen polku näyttää silti, ketkä suostuvat.",
    },
    "en": {
        "title": "Ennakko: reach and consent",
        "flow": "Flow (CONSORT)", "by": "Broken down", "repr": "Representativeness by area",
        "step": "Step", "reason": "Reason why not", "persons": "Persons",
        "hidden": "– hidden (a cell under {m} persons, or one it would reveal)",
        "area": "Area", "population": "Population 18-29 (Paavo)", "consent_share": "Share of consenting",
        "population_share": "Share of population", "ratio": "Ratio",
        "week": "Week of consent", "asked_contact": "Asked to be contacted", "age_band": "Age band", "language": "Language", "team": "Team",
        "as_of": "As of", "portal": "Consent service per week and channel", "channel": "Channel",
        "no_portal": "No consent service runs here: the flow starts at the consents extract.", "partners": "Partners: can row-level data be obtained?", "source": "Source",
        "asked about": "asked about", "rows returned": "rows returned", "no rows": "no rows",
        "purposes": "Consent per purpose and partner source", "purpose": "Purpose",
        "purposes_note": "Of the persons who gave a consent: how many have a valid consent allowing each purpose (given + not given = consent given).",
        "repr_note": "Persons who may be scored per area against the area's 18-29 year-olds (Paavo, latest year). Ratio 1: as many as the population share suggests; below 1: fewer.",
        "lang": "en", "no_figure": "no figure",
        "pairs_note": "Each column: given / not given; together, consent given.",
        "repr_band": "Representativeness by age band", "band_population": "Population (Paavo, all areas)",
        "band_note": "Persons who may be scored per age band against the band's population over all areas (Paavo, latest year). Shares are of the 18-29 year-olds; Paavo publishes no 15-17 band, so it has no population figure.",
        "no_bands": "The indicator table holds no Paavo age-band populations (youth_18_19, youth_20_24, youth_25_29, or Paavo's 18_19_years_he, 20_24_years_he, 25_29_years_he), so representativeness by age band is not computed. The flow by age band still shows who consents.",
    },
}  # fmt: skip
STEP_WORDS = {
    "consent given": "suostumus annettu", "may be scored": "saa pisteyttää",
    "in the cohort": "kohdejoukossa", "scored": "pisteytetty", "listed": "listalla",
    "contacted": "tavoitettu", "registered as unemployed later": "ilmoittautui myöhemmin työttömäksi",
    "withdrawn": "peruttu", "expired": "vanhentunut", "erased": "poistettu",
    "invalid notice": "virheellinen tietosuojaseloste", "no scoring consent": "ei suostumusta pisteytykseen",
    "already a client": "jo asiakkaana", "no rows: not scored": "ei tietoja: ei pisteytetty",
    "no contact consent": "ei suostumusta yhteydenottoon", "below the cut-off": "raja-arvon alapuolella",
    "no decision recorded": "ei kirjattua päätöstä", "not reached or declined": "ei tavoitettu tai kieltäytyi",
    "outcome not known yet": "lopputulos ei vielä tiedossa", "not registered": "ei ilmoittautunut",
    "arrival": "saapui", "notice": "lukenut tietosuojaselosteen", "login": "kirjautui", "consent": "suostui",
    "contact_request": "pyysi yhteydenottoa", "withdrawal": "perui", "erasure": "poisti tiedot",
    "all": "kaikki", "yes": "kyllä", "no": "ei", "unknown": "tuntematon",
    "given": "annettu", "not given": "ei annettu", "outside 15-29": "muu kuin 15-29",
    "social_media_ad": "somemainos", "ohjaamo": "Ohjaamo", "outreach": "etsivä työ",
    "school": "koulu", "web_form": "verkkolomake",
    "scoring": "pisteytys", "contact": "yhteydenotto",
}  # fmt: skip
EN_WORDS = {
    "notice": "read the privacy notice", "contact_request": "asked to be contacted",
    "social_media_ad": "social media ad", "web_form": "web form",
}  # fmt: skip


def word(text: str | None, lang: str) -> str:
    """A step, reason, channel or answer in ``lang`` (the text itself when unknown)."""
    if text is None:
        return ""
    return (STEP_WORDS if lang == "fi" else EN_WORDS).get(text, text)


def purpose_word(purpose: str, lang: str, partner: str | None = None) -> str:
    """``scoring``, ``contact`` or ``source:<partner>`` (its rows may be used) in ``lang``;
    ``partner``: the source's name to print (its label)."""
    if purpose.startswith("source:"):
        name = partner or purpose.removeprefix("source:")
        return f"{'tiedot' if lang == 'fi' else 'rows'}: {name}"
    return word(purpose, lang)
