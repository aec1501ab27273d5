"""The register entry's prose, per field and language, with placeholders for every figure.

``{F[name]}`` is a figure from the runs (formatted for the language, with its number in the
figures table beside it), ``{open}`` the marker of a question left to the city's lawyers;
the other placeholders come from the configuration. Kept apart from the figures so that the
texts can be proofread by a person who never reads code.
"""

from __future__ import annotations

PROSE: dict[str, dict[str, str]] = {
    "fi": {
        "name": "Ennakko – nuorten työllisyyspalveluiden yhteydenottolista ({area})",
        "description_short": "Ennuste auttaa valitsemaan, kenelle suostumuksen antaneista nuorista ohjaaja soittaa ensin.",
        "department": "Nuorten työllisyyspalvelut",
        "decision_making_process": "Ennakko ei tee päätöksiä kenestäkään. Se laatii joka yö kullekin tiimille listan nuorista, joihin kannattaa ottaa yhteyttä ensin ({capacity} henkilöä tiimiä kohden, ellei tiimille ole sovittu muuta). Ohjaaja päättää jokaisen yhteydenoton itse ja voi ottaa yhteyttä myös listan ulkopuolisiin.",
        "goal": "Tavoitteena on tavoittaa ajoissa ne nuoret, jotka ovat vaarassa jäädä ilman opiskelu- tai työpaikkaa, ja käyttää ohjaajien rajallinen aika siellä, missä siitä on eniten apua.",
        "impact": "Nuori voi saada ohjaajalta yhteydenoton, ja listalla olevalle tarjotaan palvelua aiemmin kuin muuten. Listalle pääsemättömältä ei viedä mitään: hän saa palvelut kuten ennenkin. Mukana ovat vain nuoret, jotka ovat antaneet suostumuksensa.",
        "risks": "Riskit on arvioitu tietosuojan vaikutustenarvioinnissa ja alla olevassa perusoikeusarvioinnin luonnoksessa. Tärkeimmät: malli voi erehtyä joidenkin ryhmien kohdalla useammin (seurataan yhdenvertaisuuslipuin: {F[fairness_flags]}), ohjaajat voivat alkaa luottaa listaan liikaa (seurataan ohitusten ja erimielisyyden osuuksin) ja tiedot voivat vanhentua (ajoa ei julkaista, jos lähde on liian vanha).",
        "risk_category_reasoning": "Luokittelemme järjestelmän varovaisuussyistä suuririskiseksi: se priorisoi julkisen palvelun kohdentamista luonnollisiin henkilöihin (tekoälysäädöksen liite III). {open}: soveltuuko 6 artiklan 3 kohdan poikkeus, koska lista vain valmistelee ohjaajan omaa harkintaa?",
        "proportionality": "Tietoja käsitellään vain suostumuksen perusteella ja vain siinä laajuudessa kuin nuori on sallinut. Ennusteen tarkkuus kapasiteetin rajalla on {F[precision_at_capacity]}; ilman ennustetta yhteydenotot kohdistuisivat tasaisemmin myös niihin, joilla menee hyvin. {open}: riittääkö tämä hyöty perustelemaan käsittelyn?",
        "lawful_basis": "Nuoren suostumus (tietosuoja-asetuksen 6 artiklan 1 kohdan a alakohta), jonka voi perua milloin tahansa. {open}: kaupungin päätös, jolla käyttö hyväksytään, ja sen viite.",
        "training_data": "Opetusaineisto koostuu suostumuksen antaneiden nuorten aiemmista tapahtumista ({F[training_rows]} riviä) ja tiedosta, rekisteröityikö nuori myöhemmin työttömäksi.",
        "source_data": "{sources}",
        "connected_data_sources": "Kumppanien tiedot saadaan vain suostumuksen antaneista nuorista. Alueelliset luvut (Paavo) ovat tilastotietoa, eivät henkilötietoja.",
        "data_bias": "Aineisto kattaa vain suostumuksen antaneet. Sukupuolta ja kieltä ei käytetä ennusteessa; niillä mitataan, erehtyykö malli joidenkin ryhmien kohdalla useammin.",
        "DPIA_description": "Jokaisella kumppanilähteellä on oma tietosuojan vaikutustenarviointinsa (viitteet yllä). Ryhmäkohtaiset luvut julkaistaan vain, kun ryhmässä on vähintään {min_cell} henkilöä.",
        "description": "Ennakko laskee joka yö jokaiselle suostumuksen antaneelle nuorelle todennäköisyyden sille, että hän rekisteröityy työttömäksi seuraavien kuukausien aikana. Laskenta perustuu pisteytyskorttiin: jokaisesta tiedosta (esimerkiksi poissaolotunnit tai keskeytetyt opinnot) saa pisteitä, pisteet lasketaan yhteen, ja summa muunnetaan todennäköisyydeksi. Kortti on kokonaan julkaistavissa, joten jokainen voi tarkistaa, mistä pisteet tulevat. Jokaisen tiimin listalle otetaan suurimman todennäköisyyden nuoret tiimin kapasiteetin verran. Listalla näkyvät myös pisteiden tärkeimmät syyt, jotta ohjaaja voi arvioida, pitävätkö ne paikkansa. Nuorta ei oteta listalle, jos hän on kieltänyt yhteydenotot, hänen kanssaan on äskettäin oltu yhteydessä ({cooldown} päivän tauko) tai hän on äskettäin kieltäytynyt ({decline} päivän tauko). Uusi malli otetaan käyttöön vain, jos se läpäisee ennalta sovitut ehdot: kalibroinnin ja tarkkuuden on pysyttävä sovituissa rajoissa, eivätkä ryhmien väliset erot saa kasvaa sovittua enempää.",
        "methods_and_models": "Pisteytyskortti (logistinen regressio luokitelluilla muuttujilla, kokonaislukupisteet), kalibrointi, ajallinen ristiinvalidointi. Vertailuna gradienttitehostettu päätöspuumalli.",
        "performance": "Ajallisessa validoinnissa tarkkuus kapasiteetin rajalla oli {F[precision_at_capacity]} ja kattavuus {F[recall_at_capacity]}; järjestyskyky (ROC AUC) {F[roc_auc]}, kalibrointivirhe {F[calibration_error]}.",
        "alternatives_considered": "Vertailuna koulutetaan joka kerta läpinäkymätön päätöspuumalli (ROC AUC {F[challenger_roc_auc]}). Läpinäkyvyyden hinta eli vertailumallin etu on {F[price_of_transparency]}; valitsimme pisteytyskortin, koska sen voi selittää jokaiselle nuorelle. Vaihtoehtona on myös yhteydenotto ilman ennustetta.",
        "AIA_description": "Alla on luonnos perusoikeuksia koskevasta vaikutustenarvioinnista (tekoälysäädöksen 27 artikla); kaupungin juristit täydentävät avoimet kohdat.",
        "monitoring": "Joka yö: tietojen ajantasaisuus ja jakaumien muutos; ajo pysähtyy, jos jokin poikkeaa. Jokaisen uuden mallin kohdalla: kalibrointi, tarkkuus ja yhdenvertaisuusliput ({F[fairness_flags]}, vertailumallilla {F[baseline_fairness_flags]}). Kuukausittain: ohjaajien ohitukset ({F[override_share]}) ja erimielisyys ({F[disagreement_rate]}). Vaikuttavuus: {holdout}",
        "human_intervention": "Jokainen yhteydenotto on ohjaajan päätös. Ohjaaja kirjaa listalle, otettiinko yhteyttä ja oliko nuoren paikka listalla perusteltu, ja voi lisätä listalle henkilön, jonka malli ohitti. Kirjaukset palaavat järjestelmään, ja niitä seurataan.",
        "objection_procedure": "Nuori voi perua suostumuksensa milloin tahansa suostumuspalvelussa, jolloin häntä ei enää pisteytetä eikä hänestä pyydetä tietoja. Hän voi pyytää tietojensa poistamista ja tehdä valituksen tietosuojavaltuutetulle. {open}: kaupungin oikaisuvaatimusmenettely.",
        "rollback": "Edellinen malliversio voidaan palauttaa käyttöön, ja listat voidaan lopettaa milloin tahansa; yhteydenotto ei muuta kenenkään oikeuksia palveluihin.",
        "revision_note": "Vuosittain ja aina, kun malli vaihtuu.",
        "keywords": "nuoret, työllisyys, ennuste, suostumus",
    },
    "sv": {
        "name": "Ennakko – kontaktlista för ungdomarnas sysselsättningstjänster ({area})",
        "description_short": "En prognos hjälper handledaren att välja vilka unga med samtycke som ska kontaktas först.",
        "department": "Sysselsättningstjänster för unga",
        "decision_making_process": "Ennakko fattar inga beslut om någon. Varje natt gör den för varje team en lista över de unga som det lönar sig att kontakta först ({capacity} personer per team, om inget annat har avtalats för teamet). Handledaren avgör själv varje kontakt och kan också kontakta personer som inte står på listan.",
        "goal": "Målet är att i tid nå de unga som riskerar att bli utan studie- eller arbetsplats, och att använda handledarnas begränsade tid där den gör mest nytta.",
        "impact": "Den unga kan bli kontaktad av en handledare, och den som står på listan erbjuds service tidigare än annars. Den som inte kommer med på listan förlorar ingenting: hen får service som tidigare. Endast unga som gett sitt samtycke är med.",
        "risks": "Riskerna har bedömts i konsekvensbedömningen avseende dataskydd och i utkastet till bedömning av grundläggande rättigheter nedan. De viktigaste: modellen kan oftare ha fel för vissa grupper (följs upp med flaggor för likabehandling: {F[fairness_flags]}), handledarna kan börja lita för mycket på listan (följs upp med andelen åsidosättanden och oenighet) och uppgifterna kan bli inaktuella (körningen publiceras inte om en källa är för gammal).",
        "risk_category_reasoning": "Av försiktighetsskäl klassar vi systemet som hög risk: det prioriterar hur en offentlig tjänst riktas till fysiska personer (AI-förordningen, bilaga III). {open}: gäller undantaget i artikel 6.3, eftersom listan endast förbereder handledarens egen bedömning?",
        "proportionality": "Uppgifter behandlas endast med samtycke och endast i den omfattning den unga har tillåtit. Prognosens precision vid kapacitetsgränsen är {F[precision_at_capacity]}; utan prognos skulle kontakterna fördelas jämnare, också till dem som klarar sig bra. {open}: räcker nyttan för att motivera behandlingen?",
        "lawful_basis": "Den ungas samtycke (artikel 6.1 a i dataskyddsförordningen), som kan återkallas när som helst. {open}: stadens beslut som godkänner användningen och dess referens.",
        "training_data": "Träningsdata består av tidigare händelser för unga med samtycke ({F[training_rows]} rader) och uppgiften om huruvida den unga senare registrerades som arbetslös.",
        "source_data": "{sources}",
        "connected_data_sources": "Uppgifter från partner fås endast om unga som gett samtycke. Områdessiffrorna (Paavo) är statistik, inte personuppgifter.",
        "data_bias": "Materialet omfattar endast dem som gett samtycke. Kön och språk används inte i prognosen; med dem mäts om modellen oftare har fel för vissa grupper.",
        "DPIA_description": "Varje partnerkälla har en egen konsekvensbedömning avseende dataskydd (referenser ovan). Siffror per grupp publiceras endast när gruppen har minst {min_cell} personer.",
        "description": "Ennakko beräknar varje natt för varje ung person med samtycke sannolikheten att hen registreras som arbetslös under de följande månaderna. Beräkningen bygger på ett poängkort: varje uppgift (till exempel frånvarotimmar eller avbrutna studier) ger poäng, poängen summeras och summan omvandlas till en sannolikhet. Kortet kan publiceras i sin helhet, så var och en kan kontrollera varifrån poängen kommer. Till varje teams lista tas de unga med högst sannolikhet, så många som teamet har kapacitet för. Listan visar också de viktigaste skälen till poängen, så att handledaren kan bedöma om de stämmer. En ung person tas inte med om hen har nekat till kontakt, nyligen har kontaktats ({cooldown} dagars paus) eller nyligen har tackat nej ({decline} dagars paus). En ny modell tas i bruk endast om den uppfyller villkor som avtalats i förväg: kalibreringen och precisionen ska hålla sig inom avtalade gränser, och skillnaderna mellan grupper får inte växa mer än avtalat.",
        "methods_and_models": "Poängkort (logistisk regression med klassindelade variabler, heltalspoäng), kalibrering, tidsmässig korsvalidering. Som jämförelse en gradientförstärkt beslutsträdsmodell.",
        "performance": "I den tidsmässiga valideringen var precisionen vid kapacitetsgränsen {F[precision_at_capacity]} och täckningen {F[recall_at_capacity]}; rangordningsförmågan (ROC AUC) {F[roc_auc]}, kalibreringsfelet {F[calibration_error]}.",
        "alternatives_considered": "Som jämförelse tränas varje gång en icke-transparent beslutsträdsmodell (ROC AUC {F[challenger_roc_auc]}). Transparensens pris, alltså jämförelsemodellens fördel, är {F[price_of_transparency]}; vi valde poängkortet eftersom det kan förklaras för varje ung person. Ett alternativ är också att ta kontakt utan prognos.",
        "AIA_description": "Nedan finns ett utkast till konsekvensbedömning avseende grundläggande rättigheter (AI-förordningen, artikel 27); stadens jurister kompletterar de öppna punkterna.",
        "monitoring": "Varje natt: uppgifternas aktualitet och förändringar i fördelningarna; körningen stoppas om något avviker. För varje ny modell: kalibrering, precision och flaggor för likabehandling ({F[fairness_flags]}, för jämförelsemodellen {F[baseline_fairness_flags]}). Varje månad: handledarnas åsidosättanden ({F[override_share]}) och oenighet ({F[disagreement_rate]}). Effekt: {holdout}",
        "human_intervention": "Varje kontakt är handledarens beslut. Handledaren antecknar på listan om kontakt togs och om personens plats på listan var motiverad, och kan lägga till en person som modellen förbigick. Anteckningarna går tillbaka till systemet och följs upp.",
        "objection_procedure": "Den unga kan när som helst återkalla sitt samtycke i samtyckestjänsten; då poängsätts hen inte längre och inga uppgifter begärs om hen. Hen kan begära att uppgifterna raderas och klaga hos dataombudsmannen. {open}: stadens förfarande för begäran om omprövning.",
        "rollback": "Den föregående modellversionen kan tas i bruk igen, och listorna kan upphöra när som helst; en kontakt ändrar ingens rätt till service.",
        "revision_note": "Årligen och alltid när modellen byts.",
        "keywords": "unga, sysselsättning, prognos, samtycke",
    },
    "en": {
        "name": "Ennakko – contact list for youth employment services ({area})",
        "description_short": "A forecast helps counsellors choose which consenting young people to contact first.",
        "department": "Youth employment services",
        "decision_making_process": "Ennakko decides nothing about anyone. Each night it makes, for each team, a list of the young people worth contacting first ({capacity} persons per team unless the team has another capacity). The counsellor decides every contact and may also contact people who are not on the list.",
        "goal": "To reach in time the young people at risk of ending up without a study place or a job, and to spend the counsellors' limited time where it helps most.",
        "impact": "A young person may be contacted by a counsellor, and someone on the list is offered services sooner than otherwise. Someone not on the list loses nothing: they are served as before. Only young people who have consented take part.",
        "risks": "The risks were assessed in the data-protection impact assessment and in the draft fundamental-rights assessment below. The main ones: the model may be wrong more often for some groups (watched with fairness flags: {F[fairness_flags]}), counsellors may come to trust the list too much (watched with the override and disagreement rates), and data may go stale (a run is not published when a source is too old).",
        "risk_category_reasoning": "To be careful we treat the system as high-risk: it prioritises how a public service reaches natural persons (EU AI Act, Annex III). {open}: does the Art. 6(3) exemption apply, since the list only prepares the counsellor's own judgement?",
        "proportionality": "Data is processed only with consent and only as far as the young person allowed. The forecast's precision at capacity is {F[precision_at_capacity]}; without it, contacts would be spread more evenly, also over those who are doing well. {open}: is that benefit enough to justify the processing?",
        "lawful_basis": "The young person's consent (GDPR Art. 6(1)(a)), which can be withdrawn at any time. {open}: the city's decision approving the use, and its reference.",
        "training_data": "Past events of consenting young people ({F[training_rows]} rows) and whether the young person later registered as unemployed.",
        "source_data": "{sources}",
        "connected_data_sources": "Partners' data is obtained only about young people who consented. The area figures (Paavo) are statistics, not personal data.",
        "data_bias": "The data covers only those who consented. Gender and language are not used in the forecast; they are used to measure whether the model is wrong more often for some groups.",
        "DPIA_description": "Each partner source has its own data-protection impact assessment (references above). Figures per group are published only when the group has at least {min_cell} persons.",
        "description": "Each night Ennakko estimates, for every consenting young person, the probability that they will register as unemployed in the coming months. The estimate comes from a scorecard: each fact (for example hours absent, or interrupted studies) gives points, the points are added up, and the total is turned into a probability. The whole card can be published, so anyone can check where the points come from. Each team's list takes the young people with the highest probability, as many as the team has capacity for. The list also shows the main reasons behind each score, so the counsellor can judge whether they hold. A young person is left off the list if they refused contact, were contacted recently ({cooldown}-day pause) or recently declined ({decline}-day pause). A new model is used only if it passes conditions agreed in advance: calibration and precision must stay within agreed bounds, and the gaps between groups must not grow by more than agreed.",
        "methods_and_models": "Scorecard (logistic regression on binned features, integer points), calibration, temporal cross-validation. For comparison, a gradient-boosted tree model.",
        "performance": "In temporal validation, precision at capacity was {F[precision_at_capacity]} and recall {F[recall_at_capacity]}; ranking quality (ROC AUC) {F[roc_auc]}, calibration error {F[calibration_error]}.",
        "alternatives_considered": "An opaque tree model is trained every time for comparison (ROC AUC {F[challenger_roc_auc]}). The price of transparency, the comparison model's advantage, is {F[price_of_transparency]}; we chose the scorecard because it can be explained to every young person. Contacting people without a forecast is the other alternative.",
        "AIA_description": "Below is a draft fundamental-rights impact assessment (EU AI Act Art. 27); the city's lawyers complete the open points.",
        "monitoring": "Every night: how fresh the data is and whether distributions shift; the run stops when something is off. For every new model: calibration, precision and fairness flags ({F[fairness_flags]}; the comparison model {F[baseline_fairness_flags]}). Monthly: counsellors' overrides ({F[override_share]}) and disagreement ({F[disagreement_rate]}). Effect: {holdout}",
        "human_intervention": "Every contact is the counsellor's decision. The counsellor records on the list whether contact was made and whether the person's place on the list was right, and can add a person the model passed over. These records come back into the system and are watched.",
        "objection_procedure": "A young person can withdraw consent at any time in the consent service; they are then no longer scored and no data is requested about them. They can ask for their data to be erased and complain to the Data Protection Ombudsman. {open}: the city's procedure for a request for review.",
        "rollback": "The previous model version can be restored, and the lists can be stopped at any time; a contact changes nobody's right to services.",
        "revision_note": "Yearly, and whenever the model changes.",
        "keywords": "youth, employment, forecast, consent",
    },
}

HOLDOUT = {
    "fi": {
        "off": "arvontaa ei ole käytössä, joten yhteydenoton vaikutusta ei voi vielä arvioida.",
        "on": "kapasiteetin rajalla olevista arvotaan osuus {F[holdout_share]} listan ulkopuolelle ({F[held_out]} viimeisimpänä yönä), ja heidän myöhempää rekisteröitymistään verrataan muihin.",
    },
    "sv": {
        "off": "ingen lottning används, så kontaktens effekt kan ännu inte bedömas.",
        "on": "av dem vid kapacitetsgränsen lottas andelen {F[holdout_share]} bort från listan ({F[held_out]} senaste natten), och deras senare registrering jämförs med de andras.",
    },
    "en": {
        "off": "no hold-out is drawn, so the effect of contact cannot be assessed yet.",
        "on": "a share of {F[holdout_share]} of those at the capacity margin is drawn off the list at random ({F[held_out]} last night), and their later registration is compared with the others'.",
    },
}

# Whether the hold-out's estimate is pre-registered (outreach.effect.Plan): the plan's
# hash recorded in the audit log and the file unchanged ("pre"), no hash recorded
# ("none"), or the file changed since ("changed").
PLAN = {
    "fi": {
        "pre": "Analyysi noudattaa suunnitelmaa, joka lukittiin ennen kuin yhtään tulosta oli olemassa (docs/holdout-analysis-plan.md); sen tiiviste on lokissa eikä suunnitelma ole muuttunut: analyysi on ennalta rekisteröity.",
        "none": "Analyysisuunnitelman tiivistettä ei ole lokissa, joten analyysi ei ole ennalta rekisteröity.",
        "changed": "Analyysisuunnitelma on muuttunut sen jälkeen, kun sen tiiviste kirjattiin lokiin, joten analyysi ei ole ennalta rekisteröity.",
    },
    "sv": {
        "pre": "Analysen följer en plan som låstes innan något utfall fanns (docs/holdout-analysis-plan.md); dess hashvärde finns i loggen och planen är oförändrad: analysen är förregistrerad.",
        "none": "Analysplanens hashvärde finns inte i loggen, så analysen är inte förregistrerad.",
        "changed": "Analysplanen har ändrats sedan dess hashvärde fördes in i loggen, så analysen är inte förregistrerad.",
    },
    "en": {
        "pre": "The analysis follows a plan fixed before any outcome existed (docs/holdout-analysis-plan.md); its hash is in the audit log and the plan is unchanged: the analysis is pre-registered.",
        "none": "The analysis plan's hash is not in the audit log, so the analysis is not pre-registered.",
        "changed": "The analysis plan has changed since its hash was recorded in the audit log, so the analysis is not pre-registered.",
    },
}

SOURCE_LINE = {
    "fi": "- {label}: {dpia}",
    "sv": "- {label}: {dpia}",
    "en": "- {label}: {dpia}",
}

NO_DPIA = {
    "fi": "vaikutustenarvioinnin viite puuttuu",
    "sv": "referens till konsekvensbedömning saknas",
    "en": "no DPIA reference",
}

BASE_SOURCES = {
    "fi": "Suostumukset ja yhteystiedot (suostumuspalvelu), palvelutiedot ja myöhempi työttömyys (työllisyyspalvelut), aluetilastot (Paavo). Kumppanien lähteet ja niiden vaikutustenarvioinnit:",
    "sv": "Samtycken och kontaktuppgifter (samtyckestjänsten), serviceuppgifter och senare arbetslöshet (sysselsättningstjänsterna), områdesstatistik (Paavo). Partnernas källor och deras konsekvensbedömningar:",
    "en": "Consents and contact details (the consent service), services and later unemployment (employment services), area statistics (Paavo). Partners' sources and their DPIAs:",
}
