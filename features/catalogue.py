"""The feature catalogue: every feature's stable name, meaning, imputation and reason texts.

The catalogue is generated from the configuration (partners, event types, windows,
indicators), so the feature builder, the model report and the lists all read the same
names and words. Reason texts come in Finnish, Swedish and English, in two directions:
``high`` when the person's value is above the typical (training median) value and
``low`` when below, so a list says "fewer competence points than usual" rather than
naming a model column. Plain words, no model jargon, no blame. Have a native speaker
review them before production.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from features.spec import FeatureSpec, IndicatorUse, PartnerSpec

LANGS = ("fi", "sv", "en")


@dataclass(frozen=True)
class Noun:
    """How one kind of event is said: Finnish partitive plural, Swedish and English phrases."""

    fi: str  # "poissaoloja" (partitive: "there are more ___")
    sv_more: str  # "Mer frånvaro" / "Fler kontakter"
    sv_less: str
    en_more: str  # "More absences"
    en_less: str
    fi_item: str  # "poissaolo" (nominative singular, for "latest: ___")
    sv_item: str
    en_item: str


# Words for the event types Ennakko knows; others get generic words from the partner label.
NOUNS: dict[str, Noun] = {
    "school.enrolled": Noun("Opintojen aloituksia", "Fler studiestarter", "Färre studiestarter",
                            "More study starts", "Fewer study starts", "opintojen aloitus",
                            "studiestart", "study start"),
    "school.absence": Noun("Poissaoloja", "Mer frånvaro", "Mindre frånvaro", "More absences",
                           "Fewer absences", "poissaolo", "frånvaro", "absence"),
    "school.credits": Noun("Osaamispisteitä", "Fler kompetenspoäng", "Färre kompetenspoäng",
                           "More competence points", "Fewer competence points",
                           "osaamispisteet", "kompetenspoäng", "competence points"),
    "school.interrupted": Noun("Opintojen keskeytyksiä", "Fler avbrutna studier",
                               "Färre avbrutna studier", "More interrupted studies",
                               "Fewer interrupted studies", "opintojen keskeytys",
                               "avbrutna studier", "interrupted studies"),
    "school.graduated": Noun("Valmistumisia", "Fler examina", "Färre examina", "More graduations",
                             "Fewer graduations", "valmistuminen", "examen", "graduation"),
    "outreach.contact": Noun("Etsivän nuorisotyön yhteydenottoja",
                             "Fler kontakter med uppsökande ungdomsarbete",
                             "Färre kontakter med uppsökande ungdomsarbete",
                             "More contacts with outreach youth work",
                             "Fewer contacts with outreach youth work",
                             "etsivän nuorisotyön yhteydenotto",
                             "kontakt med uppsökande ungdomsarbete",
                             "contact with outreach youth work"),
    "outreach.meeting": Noun("Etsivän nuorisotyön tapaamisia",
                             "Fler möten med uppsökande ungdomsarbete",
                             "Färre möten med uppsökande ungdomsarbete",
                             "More meetings with outreach youth work",
                             "Fewer meetings with outreach youth work",
                             "etsivän nuorisotyön tapaaminen",
                             "möte med uppsökande ungdomsarbete",
                             "meeting with outreach youth work"),
    "ohjaamo.visit": Noun("Ohjaamo-käyntejä", "Fler besök på Navigatorn",
                          "Färre besök på Navigatorn", "More visits to Ohjaamo",
                          "Fewer visits to Ohjaamo", "Ohjaamo-käynti", "besök på Navigatorn",
                          "visit to Ohjaamo"),
    "ohjaamo.guidance": Noun("Ohjausta Ohjaamossa", "Mer handledning på Navigatorn",
                             "Mindre handledning på Navigatorn", "More guidance at Ohjaamo",
                             "Less guidance at Ohjaamo", "ohjaus Ohjaamossa",
                             "handledning på Navigatorn", "guidance at Ohjaamo"),
    "employment.registration": Noun("Aiempia työttömyysjaksoja",
                                    "Fler tidigare arbetslöshetsperioder",
                                    "Färre tidigare arbetslöshetsperioder",
                                    "More earlier unemployment periods",
                                    "Fewer earlier unemployment periods",
                                    "aiempi työttömyysjakso", "tidigare arbetslöshetsperiod",
                                    "earlier unemployment period"),
    "employment.activation_start": Noun("Alkaneita aktivointitoimenpiteitä",
                                        "Fler påbörjade aktiveringsåtgärder",
                                        "Färre påbörjade aktiveringsåtgärder",
                                        "More activation measures started",
                                        "Fewer activation measures started",
                                        "aktivointitoimenpide", "aktiveringsåtgärd",
                                        "activation measure"),
    "employment.activation_end": Noun("Päättyneitä aktivointitoimenpiteitä",
                                      "Fler avslutade aktiveringsåtgärder",
                                      "Färre avslutade aktiveringsåtgärder",
                                      "More activation measures ended",
                                      "Fewer activation measures ended",
                                      "päättynyt aktivointitoimenpide", "avslutad aktiveringsåtgärd",
                                      "ended activation measure"),
}  # fmt: skip
# Value sums: what the summed `value` is, per event type.
VALUE_NOUNS: dict[str, Noun] = {
    "school.absence": Noun("Poissaolotunteja", "Fler frånvarotimmar", "Färre frånvarotimmar",
                           "More hours of absence", "Fewer hours of absence", "poissaolotunnit",
                           "frånvarotimmar", "hours of absence"),
    "school.credits": Noun("Suoritettuja osaamispisteitä", "Fler avlagda kompetenspoäng",
                           "Färre avlagda kompetenspoäng", "More competence points earned",
                           "Fewer competence points earned", "suoritetut osaamispisteet",
                           "avlagda kompetenspoäng", "competence points earned"),
    "ohjaamo.guidance": Noun("Ohjausminuutteja", "Fler handledningsminuter",
                             "Färre handledningsminuter", "More minutes of guidance",
                             "Fewer minutes of guidance", "ohjausminuutit", "handledningsminuter",
                             "minutes of guidance"),
    "employment.registration": Noun("Työttömyyspäiviä", "Fler dagar som arbetslös",
                                    "Färre dagar som arbetslös", "More days registered unemployed",
                                    "Fewer days registered unemployed", "työttömyyspäivät",
                                    "dagar som arbetslös", "days registered unemployed"),
}  # fmt: skip
INDICATOR_WORDS: dict[str, tuple[str, str, str]] = {
    "unemployment_rate": ("työttömyysaste asuinalueella", "arbetslösheten i bostadsområdet",
                          "unemployment in the home area"),
    "youth_share": ("nuorten osuus asuinalueella", "andelen unga i bostadsområdet",
                    "the share of young people in the home area"),
    "basic_education_share": ("vain perusasteen koulutuksen saaneiden osuus asuinalueella",
                              "andelen med endast grundläggande utbildning i bostadsområdet",
                              "the share with basic education only in the home area"),
    "median_income": ("mediaanitulo asuinalueella", "medianinkomsten i bostadsområdet",
                      "median income in the home area"),
    "student_share": ("opiskelijoiden osuus asuinalueella", "andelen studerande i bostadsområdet",
                      "the share of students in the home area"),
    "unemployment_rate_15_24": ("nuorisotyöttömyys koko maassa", "ungdomsarbetslösheten i hela landet",
                                "youth unemployment in the whole country"),
}  # fmt: skip


@dataclass(frozen=True)
class Feature:
    """One model input (or audit-only attribute) and everything said about it."""

    name: str
    description: str
    source: str  # partner name, "person", "consent", or "indicators"
    window: str  # "30d", "all", "as of D", or "" where no window applies
    kind: str  # count, sum, decay, recency, trend, missing, attribute, indicator
    impute: str  # how a missing value is filled: zero, constant:<v>, mean
    missing_flag: str | None
    reason_high: Mapping[str, str]
    reason_low: Mapping[str, str]
    event_key: str | None = None  # "source.event_type" for event features
    window_days: int | None = None


def _window_words(days: int | None) -> tuple[str, str, str]:
    if days is None:
        return (
            "koko seurantajakson aikana",
            "under hela uppföljningstiden",
            "over the whole history",
        )
    return (
        f"viimeisen {days} päivän aikana",
        f"under de senaste {days} dagarna",
        f"in the last {days} days",
    )


def _generic_noun(partner: PartnerSpec, event_type: str) -> Noun:
    fi, sv, en = partner.label.fi, partner.label.sv, partner.label.en
    return Noun(
        f"Merkintöjä ({fi}: {event_type})",
        f"Fler uppgifter ({sv}: {event_type})",
        f"Färre uppgifter ({sv}: {event_type})",
        f"More records ({en}: {event_type})",
        f"Fewer records ({en}: {event_type})",
        f"{fi}: {event_type}",
        f"{sv}: {event_type}",
        f"{en}: {event_type}",
    )


def _amount(noun: Noun, days: int | None) -> tuple[dict[str, str], dict[str, str]]:
    fi_w, sv_w, en_w = _window_words(days)
    high = {
        "fi": f"{noun.fi} on {fi_w} tavallista enemmän.",
        "sv": f"{noun.sv_more} än vanligt {sv_w}.",
        "en": f"{noun.en_more} than usual {en_w}.",
    }
    low = {
        "fi": f"{noun.fi} on {fi_w} tavallista vähemmän.",
        "sv": f"{noun.sv_less} än vanligt {sv_w}.",
        "en": f"{noun.en_less} than usual {en_w}.",
    }
    return high, low


def event_features(spec: FeatureSpec, partners: Mapping[str, PartnerSpec]) -> list[Feature]:
    """Counts, value sums, recency and trend for every partner event type and window."""
    out: list[Feature] = []
    windows: list[int | None] = [*spec.windows_days, *([None] if spec.all_history else [])]
    for source, partner in partners.items():
        for event_type in partner.event_types:
            key = f"{source}.{event_type}"
            noun = NOUNS.get(key) or _generic_noun(partner, event_type)
            stem = f"{source}_{event_type}"
            flag = f"{source}_unknown"
            for days in windows:
                label = f"{days}d" if days else "all"
                high, low = _amount(noun, days)
                out.append(Feature(
                    f"{stem}_n_{label}", f"Number of {noun.en_item} rows ({partner.label.en}) "
                    f"{_window_words(days)[2]} before the as-of date.", source, label, "count",
                    "zero", flag, high, low, key, days))  # fmt: skip
                if event_type in partner.value_meaning:
                    vnoun = VALUE_NOUNS.get(key) or noun
                    high, low = _amount(vnoun, days)
                    out.append(Feature(
                        f"{stem}_sum_{label}", f"Sum of {partner.value_meaning[event_type]} "
                        f"{_window_words(days)[2]} before the as-of date.", source, label, "sum",
                        "zero", flag, high, low, key, days))  # fmt: skip
            out.append(Feature(
                f"{stem}_days_since", f"Days since the latest {noun.en_item} "
                f"({partner.label.en}); {NEVER} when there is none.", source, "all", "recency",
                f"constant:{NEVER}", flag,
                {"fi": f"Pitkään ei merkintöjä: {noun.fi_item}.",
                 "sv": f"Länge inga uppgifter: {noun.sv_item}.",
                 "en": f"No record of {noun.en_item} for a long time."},
                {"fi": f"Tuore merkintä: {noun.fi_item}.",
                 "sv": f"En färsk uppgift: {noun.sv_item}.",
                 "en": f"A recent record of {noun.en_item}."}, key, None))  # fmt: skip
            for tau in spec.decay_days:
                out.append(Feature(
                    f"{stem}_decay_{tau}d", f"Rows of {noun.en_item} ({partner.label.en}) before the "
                    f"as-of date, each weighing exp(-age in days / {tau}): recent rows count most.",
                    source, f"{tau}d", "decay", "zero", flag,
                    {"fi": f"{noun.fi} on viime aikoina tavallista enemmän.",
                     "sv": f"{noun.sv_more} än vanligt på senare tid.",
                     "en": f"{noun.en_more} than usual recently."},
                    {"fi": f"{noun.fi} on viime aikoina tavallista vähemmän.",
                     "sv": f"{noun.sv_less} än vanligt på senare tid.",
                     "en": f"{noun.en_less} than usual recently."}, key, tau))  # fmt: skip
            for days in spec.trend_windows_days:
                out.append(Feature(
                    f"{stem}_trend_{days}d", f"Rows in the last {days} days minus rows in the "
                    f"{days} days before ({noun.en_item}).", source, f"{days}d", "trend", "zero",
                    flag,
                    {"fi": f"{noun.fi} on viimeisen {days} päivän aikana enemmän kuin sitä ennen.",
                     "sv": f"{noun.sv_more} under de senaste {days} dagarna än före dem.",
                     "en": f"{noun.en_more} in the last {days} days than in the {days} days before."},
                    {"fi": f"{noun.fi} on viimeisen {days} päivän aikana vähemmän kuin sitä ennen.",
                     "sv": f"{noun.sv_less} under de senaste {days} dagarna än före dem.",
                     "en": f"{noun.en_less} in the last {days} days than in the {days} days before."},
                    key, days))  # fmt: skip
        out.append(Feature(
            f"{source}_unknown", f"1 when the person's consent does not cover {partner.label.en}: "
            "no data is not the same as zero events.", source, "as of D", "missing", "zero", None,
            {"fi": f"Tietoja ei ole saatavilla: {partner.label.fi}.",
             "sv": f"Uppgifter saknas: {partner.label.sv}.",
             "en": f"No data available from {partner.label.en}."},
            {"fi": "", "sv": "", "en": ""}))  # fmt: skip
    return out


NEVER = 3650


def person_features() -> list[Feature]:
    return [
        Feature("age", "Age in whole years on the as-of date (from the birth year).", "person",
                "as of D", "attribute", "mean", None,
                {"fi": "Ikäryhmässä riski on aineistossa suurempi.",
                 "sv": "Åldersgruppen har en högre risk i materialet.",
                 "en": "This age group has a higher risk in the data."},
                {"fi": "Ikäryhmässä riski on aineistossa suurempi.",
                 "sv": "Åldersgruppen har en högre risk i materialet.",
                 "en": "This age group has a higher risk in the data."}),
        Feature("consent_days", "Days since the current consent was given.", "consent",
                "as of D", "attribute", "zero", None,
                {"fi": "Suostumus on annettu kauan sitten.", "sv": "Samtycket gavs för länge sedan.",
                 "en": "Consent was given a long time ago."},
                {"fi": "Suostumus on annettu äskettäin.", "sv": "Samtycket gavs nyligen.",
                 "en": "Consent was given recently."}),
    ]  # fmt: skip


def indicator_features(uses: Sequence[IndicatorUse]) -> list[Feature]:
    out = []
    for use in uses:
        fi, sv, en = INDICATOR_WORDS.get(use.indicator, (use.indicator,) * 3)
        out.append(Feature(
            use.name or f"area_{use.indicator}",
            f"Indicator {use.indicator} of the person's {use.area_level.replace('_', ' ')} area, "
            f"latest period published before the as-of date ({use.lag_days} days after the "
            "period ends).", "indicators", "as of D", "indicator", "mean", "area_unknown",
            {"fi": f"{fi.capitalize()} on keskimääräistä suurempi.",
             "sv": f"{sv.capitalize()} är högre än genomsnittet.",
             "en": f"{en.capitalize()} is higher than average."},
            {"fi": f"{fi.capitalize()} on keskimääräistä pienempi.",
             "sv": f"{sv.capitalize()} är lägre än genomsnittet.",
             "en": f"{en.capitalize()} is lower than average."}))  # fmt: skip
    if uses:
        out.append(Feature(
            "area_unknown", "1 when an area indicator was missing for the person's area and was "
            "filled with the mean over all areas of the published table.", "indicators", "as of D", "missing", "zero", None,
            {"fi": "Asuinalueen tilastotietoja ei ole.", "sv": "Statistik för bostadsområdet saknas.",
             "en": "No statistics for the home area."}, {"fi": "", "sv": "", "en": ""}))  # fmt: skip
    return out


def build_catalogue(
    spec: FeatureSpec, partners: Mapping[str, PartnerSpec], uses: Sequence[IndicatorUse]
) -> list[Feature]:
    """Every feature the builder makes, in matrix column order."""
    return [*person_features(), *event_features(spec, partners), *indicator_features(uses)]


#: Sources that describe our own process, not the young person or their area.
PROCESS_SOURCES = ("consent", "channel", "notice", "lists", "reviews", "outreach_lists")
#: Name patterns of process attributes: consent age, recruitment channel, privacy-notice
#: version, list history (times listed, decisions, contacts made from a list).
PROCESS_PATTERNS = (
    "consent_*", "channel*", "*_channel", "notice_*", "*notice_version*", "list_*", "listed*",
    "*_listed*", "times_listed*", "review_*", "reviews_*", "decision*", "holdout*",
)  # fmt: skip


def is_process_attribute(name: str, source: str = "") -> bool:
    """True for an attribute of our own process rather than of the person or their area.

    How long a consent has run, the channel that recruited the person, the notice version
    and the person's list history say how *we* met them, not how they are doing: a model
    that learns from them learns our recruitment, and would drift whenever it changes.
    """
    return source in PROCESS_SOURCES or any(fnmatch.fnmatch(name, p) for p in PROCESS_PATTERNS)


def model_features(catalogue: Sequence[Feature], spec: FeatureSpec) -> list[str]:
    """Names that go into the model: include/exclude patterns applied; sensitive ones and
    process attributes (see :func:`is_process_attribute`) never.

    Raises ValueError when ``include`` names a process attribute outright: a setting that
    asks for one is a mistake to tell, not to ignore.
    """
    asked = [p for p in spec.include if not any(c in p for c in "*?[")]
    process = {f.name for f in catalogue if is_process_attribute(f.name, f.source)}
    refused = [n for n in asked if n in process or is_process_attribute(n)]
    if refused:
        raise ValueError(
            f"features.include names {', '.join(refused)}: an attribute of our own process "
            "(consent age, channel, notice version or list history), never a model input."
        )
    names = [f.name for f in catalogue if f.name not in process]
    if spec.include:
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in spec.include)]
    names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in spec.exclude)]
    return [n for n in names if n not in spec.sensitive]


def by_name(catalogue: Sequence[Feature]) -> dict[str, Feature]:
    return {f.name: f for f in catalogue}
