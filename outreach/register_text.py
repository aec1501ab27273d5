"""The register entry's words in Finnish, Swedish and English.

Templates only: every number is a placeholder filled from the runs by
:mod:`outreach.register_entry`, so a text can never state a figure the runs did not give.
The wording is written for the public (plain, no jargon), each language on its own terms.
"""

from __future__ import annotations

LANGS = ("fi", "sv", "en")

OPEN = {
    "fi": "AVOIN KYSYMYS kaupungin juristeille",
    "sv": "ÖPPEN FRÅGA till stadens jurister",
    "en": "OPEN QUESTION for the city's lawyers",
}

NOT_MEASURED = {
    "fi": "ei vielä mitattu",
    "sv": "ännu inte mätt",
    "en": "not measured yet",
}

SUPPRESSED = {
    "fi": "alle {min_cell}, ei julkaista",
    "sv": "under {min_cell}, publiceras inte",
    "en": "under {min_cell}, not published",
}

HEADINGS = {
    "fi": {
        "title": "Algoritmirekisteri: {name}",
        "figures": "Luvut ja niiden lähteet",
        "figure": "Luku",
        "value": "Arvo",
        "source": "Lähde",
        "fria": "Luonnos perusoikeuksia koskevasta vaikutustenarvioinnista (tekoälysäädös, 27 artiklan 1 kohta)",
        "open": "Avoimet kysymykset",
        "generated": "Luotu {today} mallin versiosta {version}. Luonnos: kaupunki tarkistaa ennen julkaisua.",
    },
    "sv": {
        "title": "Algoritmregister: {name}",
        "figures": "Siffror och deras källor",
        "figure": "Siffra",
        "value": "Värde",
        "source": "Källa",
        "fria": "Utkast till konsekvensbedömning avseende grundläggande rättigheter (AI-förordningen, artikel 27.1)",
        "open": "Öppna frågor",
        "generated": "Skapad {today} från modellversion {version}. Utkast: staden granskar före publicering.",
    },
    "en": {
        "title": "Algorithm register: {name}",
        "figures": "Figures and their sources",
        "figure": "Figure",
        "value": "Value",
        "source": "Source",
        "fria": "Draft fundamental-rights impact assessment (EU AI Act, Art. 27(1))",
        "open": "Open questions",
        "generated": "Generated {today} from model version {version}. Draft: the city reviews it before publication.",
    },
}

# The register's fields as the public reads them (the JSON keeps the standard's names).
FIELD_NAMES = {
    "fi": {
        "description_short": "Lyhyesti",
        "status": "Tila",
        "organization": "Vastuuorganisaatio",
        "department": "Yksikkö",
        "contact_email": "Yhteystieto",
        "area": "Alue",
        "decision_making_process": "Päätöksentekoprosessi",
        "goal": "Tavoite",
        "impact": "Vaikutus ihmisiin",
        "proportionality": "Oikeasuhtaisuus",
        "lawful_basis": "Oikeusperusta",
        "risk_category": "Riskiluokka",
        "risk_category_reasoning": "Riskiluokan perustelu",
        "risks": "Riskit ja niiden hallinta",
        "alternatives_considered": "Harkitut vaihtoehdot",
        "training_data": "Opetusaineisto",
        "source_data": "Tietolähteet ja vaikutustenarvioinnit",
        "connected_data_sources": "Yhdistetyt tietolähteet",
        "data_bias": "Aineiston vinoumat",
        "DPIA_description": "Tietosuojan vaikutustenarviointi",
        "description": "Miten se toimii",
        "methods_and_models": "Menetelmät",
        "performance": "Suorituskyky",
        "monitoring": "Seuranta",
        "human_intervention": "Ihmisen osuus",
        "objection_procedure": "Miten voi vastustaa",
        "rollback": "Peruminen",
        "revision_date": "Tarkistetaan viimeistään",
    },
    "sv": {
        "description_short": "Kort",
        "status": "Status",
        "organization": "Ansvarig organisation",
        "department": "Enhet",
        "contact_email": "Kontakt",
        "area": "Område",
        "decision_making_process": "Beslutsprocess",
        "goal": "Syfte",
        "impact": "Påverkan på människor",
        "proportionality": "Proportionalitet",
        "lawful_basis": "Rättslig grund",
        "risk_category": "Riskkategori",
        "risk_category_reasoning": "Motivering av riskkategorin",
        "risks": "Risker och hur de hanteras",
        "alternatives_considered": "Alternativ som övervägts",
        "training_data": "Träningsdata",
        "source_data": "Datakällor och konsekvensbedömningar",
        "connected_data_sources": "Kopplade datakällor",
        "data_bias": "Snedvridning i data",
        "DPIA_description": "Konsekvensbedömning avseende dataskydd",
        "description": "Hur det fungerar",
        "methods_and_models": "Metoder",
        "performance": "Prestanda",
        "monitoring": "Uppföljning",
        "human_intervention": "Människans roll",
        "objection_procedure": "Hur man kan invända",
        "rollback": "Återställning",
        "revision_date": "Ses över senast",
    },
    "en": {
        "description_short": "In short",
        "status": "Status",
        "organization": "Organisation",
        "department": "Department",
        "contact_email": "Contact",
        "area": "Area",
        "decision_making_process": "Decision process",
        "goal": "Goal",
        "impact": "Impact",
        "proportionality": "Proportionality",
        "lawful_basis": "Lawful basis",
        "risk_category": "Risk category",
        "risk_category_reasoning": "Why this risk category",
        "risks": "Risks and their mitigation",
        "alternatives_considered": "Alternatives considered",
        "training_data": "Training data",
        "source_data": "Data sources and their DPIAs",
        "connected_data_sources": "Connected sources",
        "data_bias": "Bias in the data",
        "DPIA_description": "Data-protection impact assessment",
        "description": "How it works",
        "methods_and_models": "Methods",
        "performance": "Performance",
        "monitoring": "Monitoring",
        "human_intervention": "Human intervention",
        "objection_procedure": "How to object",
        "rollback": "Rollback",
        "revision_date": "Revised by",
    },
}

FIGURE_NAMES = {
    "fi": {
        "precision_at_capacity": "Tarkkuus kapasiteetin rajalla",
        "recall_at_capacity": "Kattavuus kapasiteetin rajalla",
        "roc_auc": "Järjestyskyky (ROC AUC)",
        "calibration_error": "Kalibrointivirhe",
        "challenger_roc_auc": "Vertailumallin järjestyskyky (ROC AUC)",
        "price_of_transparency": "Läpinäkyvyyden hinta (ROC AUC)",
        "fairness_flags": "Yhdenvertaisuusliput",
        "baseline_fairness_flags": "Vertailumallin yhdenvertaisuusliput",
        "fairness_worst_gap": "Suurin ryhmien välinen ero (suhde)",
        "override_share": "Ohjaajien ohitusten osuus",
        "disagreement_rate": "Ohjaajien erimielisyyden osuus",
        "holdout_share": "Arvontaan jätettävien osuus",
        "held_out": "Arvonnassa listalta jätetyt (viimeisin yö)",
        "listed": "Listalla (viimeisin yö)",
        "scored": "Pisteytetyt suostumuksen antaneet (viimeisin yö)",
        "training_rows": "Opetusrivit",
        "holdout_itt": "Listapaikkaoikeuden vaikutus myöhempään rekisteröitymiseen (ITT, prosenttiyksikköä)",
        "holdout_itt_low": "Vaikutuksen 95 %:n luottamusvälin alaraja (prosenttiyksikköä)",
        "holdout_itt_high": "Vaikutuksen 95 %:n luottamusvälin yläraja (prosenttiyksikköä)",
        "holdout_mde": "Pienin havaittava vaikutus (80 %:n voima, prosenttiyksikköä)",
    },
    "sv": {
        "precision_at_capacity": "Precision vid kapacitetsgränsen",
        "recall_at_capacity": "Täckning vid kapacitetsgränsen",
        "roc_auc": "Rangordningsförmåga (ROC AUC)",
        "calibration_error": "Kalibreringsfel",
        "challenger_roc_auc": "Jämförelsemodellens rangordningsförmåga (ROC AUC)",
        "price_of_transparency": "Transparensens pris (ROC AUC)",
        "fairness_flags": "Flaggor för likabehandling",
        "baseline_fairness_flags": "Jämförelsemodellens flaggor för likabehandling",
        "fairness_worst_gap": "Största skillnad mellan grupper (kvot)",
        "override_share": "Andel åsidosättanden av handledare",
        "disagreement_rate": "Andel där handledaren var av annan åsikt",
        "holdout_share": "Andel som lottas bort",
        "held_out": "Bortlottade från listan (senaste natten)",
        "listed": "På listan (senaste natten)",
        "scored": "Poängsatta med samtycke (senaste natten)",
        "training_rows": "Träningsrader",
        "holdout_itt": "Effekten av rätten till en plats på senare registrering (ITT, procentenheter)",
        "holdout_itt_low": "Effektens 95 % konfidensintervall, nedre gräns (procentenheter)",
        "holdout_itt_high": "Effektens 95 % konfidensintervall, övre gräns (procentenheter)",
        "holdout_mde": "Minsta detekterbara effekt (80 % styrka, procentenheter)",
    },
    "en": {
        "precision_at_capacity": "Precision at capacity",
        "recall_at_capacity": "Recall at capacity",
        "roc_auc": "Ranking quality (ROC AUC)",
        "calibration_error": "Calibration error",
        "challenger_roc_auc": "Comparison model's ranking quality (ROC AUC)",
        "price_of_transparency": "Price of transparency (ROC AUC)",
        "fairness_flags": "Fairness flags",
        "baseline_fairness_flags": "Comparison model's fairness flags",
        "fairness_worst_gap": "Widest gap between groups (ratio)",
        "override_share": "Counsellors' override share",
        "disagreement_rate": "Counsellors' disagreement rate",
        "holdout_share": "Share drawn into the hold-out",
        "held_out": "Held out of the list (last night)",
        "listed": "Listed (last night)",
        "scored": "Consenting persons scored (last night)",
        "training_rows": "Training rows",
        "holdout_itt": "Effect of eligibility for a place on later registration (ITT, percentage points)",
        "holdout_itt_low": "Effect's 95 % interval, lower end (percentage points)",
        "holdout_itt_high": "Effect's 95 % interval, upper end (percentage points)",
        "holdout_mde": "Minimum detectable effect (80 % power, percentage points)",
    },
}

SOURCE_WORDS = {
    "fi": {
        "run": "MLflow-ajo {run_id}, {key}",
        "audit": "lokimerkintä {seq} ({hash}…), {key}",
        "holdout": "arvonnat {store} ({draws} riviä), {key}; analyysisuunnitelma: lokimerkintä {seq} ({hash}…)",
        "holdout_no_plan": "arvonnat {store} ({draws} riviä), {key}; analyysisuunnitelma puuttuu lokista",
    },
    "sv": {
        "run": "MLflow-körning {run_id}, {key}",
        "audit": "loggpost {seq} ({hash}…), {key}",
        "holdout": "lottningar {store} ({draws} rader), {key}; analysplan: loggpost {seq} ({hash}…)",
        "holdout_no_plan": "lottningar {store} ({draws} rader), {key}; analysplanen saknas i loggen",
    },
    "en": {
        "run": "MLflow run {run_id}, {key}",
        "audit": "audit entry {seq} ({hash}…), {key}",
        "holdout": "hold-out draws {store} ({draws} rows), {key}; analysis plan: audit entry {seq} ({hash}…)",
        "holdout_no_plan": "hold-out draws {store} ({draws} rows), {key}; analysis plan not in the audit log",
    },
}

# EU AI Act Art. 27(1) (a)-(f): the draft fundamental-rights impact assessment.
FRIA: dict[str, dict[str, str]] = {
    "fi": {
        "a": "Käyttöprosessi: yöllinen yhteydenottolista nuorten työllisyyspalveluiden tiimeille; ohjaaja päättää jokaisen yhteydenoton.",
        "b": "Käyttöaika ja -tiheys: joka yö; malli arvioidaan uudelleen jokaisen uuden version yhteydessä. {open}: suunniteltu käyttöjakso.",
        "c": "Kenet se koskee: suostumuksen antaneet nuoret ({F[scored]} pisteytettiin viimeisimpänä yönä, {F[listed]} listalla). Ryhmät, joiden kohdalla malli voi erehtyä useammin, seurataan sukupuolen ja kielen mukaan.",
        "d": "Haittariskit: väärä priorisointi joidenkin ryhmien kohdalla (yhdenvertaisuusliput {F[fairness_flags]}, suurin ero {F[fairness_worst_gap]}); leimautuminen, jos listan tieto leviää; liiallinen luottamus listaan. {open}: arvioidaanko syrjintäriski riittävästi näillä ryhmillä?",
        "e": "Ihmisen valvonta: ohjaaja päättää ja kirjaa jokaisen rivin; ohitukset {F[override_share]}, erimielisyys {F[disagreement_rate]}.",
        "f": "Toimet riskin toteutuessa: uutta mallia ei oteta käyttöön, jos ehdot eivät täyty; edellinen versio palautetaan; listat voidaan keskeyttää. Nuori voi perua suostumuksensa ja tehdä valituksen tietosuojavaltuutetulle. {open}: kaupungin sisäinen vastuunjako ja kantelumenettely.",
    },
    "sv": {
        "a": "Användningsprocess: nattlig kontaktlista för teamen inom sysselsättningstjänsterna för unga; handledaren avgör varje kontakt.",
        "b": "Tid och frekvens: varje natt; modellen bedöms på nytt vid varje ny version. {open}: planerad användningsperiod.",
        "c": "Vilka berörs: unga som gett samtycke ({F[scored]} poängsattes senaste natten, {F[listed]} på listan). Grupper för vilka modellen kan ha fel oftare följs upp efter kön och språk.",
        "d": "Risker för skada: felaktig prioritering för vissa grupper (flaggor för likabehandling {F[fairness_flags]}, största skillnad {F[fairness_worst_gap]}); stigmatisering om uppgiften om listan sprids; för stor tillit till listan. {open}: bedöms diskrimineringsrisken tillräckligt med dessa grupper?",
        "e": "Mänsklig tillsyn: handledaren avgör och antecknar varje rad; åsidosättanden {F[override_share]}, oenighet {F[disagreement_rate]}.",
        "f": "Åtgärder om risken förverkligas: en ny modell tas inte i bruk om villkoren inte uppfylls; den föregående versionen återställs; listorna kan avbrytas. Den unga kan återkalla samtycket och klaga hos dataombudsmannen. {open}: stadens interna ansvarsfördelning och klagomålsförfarande.",
    },
    "en": {
        "a": "Process of use: a nightly contact list for the teams of youth employment services; the counsellor decides every contact.",
        "b": "Period and frequency: every night; the model is assessed again with every new version. {open}: the planned period of use.",
        "c": "Who is affected: consenting young people ({F[scored]} scored last night, {F[listed]} listed). Groups the model may get wrong more often are watched by gender and language.",
        "d": "Risks of harm: wrong prioritisation for some groups (fairness flags {F[fairness_flags]}, widest gap {F[fairness_worst_gap]}); stigma if being listed becomes known; over-reliance on the list. {open}: are these groups enough to assess the risk of discrimination?",
        "e": "Human oversight: the counsellor decides and records every row; overrides {F[override_share]}, disagreement {F[disagreement_rate]}.",
        "f": "If a risk materialises: a new model is not used unless it passes the gate; the previous version is restored; the lists can be paused. A young person can withdraw consent and complain to the Data Protection Ombudsman. {open}: the city's internal governance and complaint procedure.",
    },
}

FRIA_POINTS = {
    "fi": {
        "a": "a) Prosessi",
        "b": "b) Aika ja tiheys",
        "c": "c) Henkilöt ja ryhmät",
        "d": "d) Haittariskit",
        "e": "e) Ihmisen valvonta",
        "f": "f) Toimet ja kantelut",
    },
    "sv": {
        "a": "a) Process",
        "b": "b) Tid och frekvens",
        "c": "c) Personer och grupper",
        "d": "d) Risker för skada",
        "e": "e) Mänsklig tillsyn",
        "f": "f) Åtgärder och klagomål",
    },
    "en": {
        "a": "(a) Process",
        "b": "(b) Period and frequency",
        "c": "(c) Persons and groups",
        "d": "(d) Risks of harm",
        "e": "(e) Human oversight",
        "f": "(f) Measures and complaints",
    },
}

# The standard's enumerated values (kept in English in the JSON), as each language says them.
ENUM_WORDS = {
    "fi": {
        "development": "kehitys",
        "pilot": "kokeilu",
        "operational": "käytössä",
        "high risk": "suuri riski",
    },
    "sv": {
        "development": "utveckling",
        "pilot": "försök",
        "operational": "i drift",
        "high risk": "hög risk",
    },
    "en": {},
}
