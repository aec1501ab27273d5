"""The funnel in words: Markdown and one self-contained HTML page (inline SVG funnel, a
shaded table by area), in Finnish and English. Suppressed figures print as a dash."""

from __future__ import annotations

from html import escape

import polars as pl

from outreach.funnel import (
    DIMENSIONS,
    PARTNER_CELLS,
    STEP_NAMES,
    STEPS,
    Funnel,
    by_group,
    flow_table,
)

LANGS = ("fi", "en")
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
    "arrival": "saapui", "login": "kirjautui", "consent": "suostui",
    "contact_request": "pyysi yhteydenottoa", "withdrawal": "perui", "erasure": "poisti tiedot",
    "all": "kaikki", "yes": "kyllä", "no": "ei",
}  # fmt: skip


def word(text: str | None, lang: str) -> str:
    if text is None:
        return ""
    return STEP_WORDS.get(text, text) if lang == "fi" else text


def num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else str(int(value))


def markdown(
    f: Funnel,
    rep: pl.DataFrame,
    partners: pl.DataFrame,
    portal: pl.DataFrame | None,
    lang: str,
    as_of: str,
) -> str:
    """The funnel as Markdown: the flow, each breakdown, representativeness."""
    w = WORDS[lang]
    lines = [f"# {w['title']}", "", f"{w['as_of']}: {as_of}", "", f"## {w['portal']}", ""]
    lines += [*_portal_md(portal, lang), "", f"## {w['flow']}", ""]
    lines += [f"| {w['step']} | {w['reason']} | {w['persons']} |", "|---|---|---:|"]
    for step, reason, n in flow_table(f).iter_rows():
        lines.append(
            f"| {word(step, lang) if reason is None else ''} | {word(reason, lang)} | {num(n)} |"
        )
    for d in DIMENSIONS:
        table = by_group(f, d)
        lines += ["", f"## {w['by']}: {w[d]}", ""]
        lines += ["| " + " | ".join([w[d], *(word(s, lang) for s in STEP_NAMES)]) + " |"]
        lines += ["|---" + "|---:" * len(STEP_NAMES) + "|"]
        for row in table.iter_rows():
            lines.append("| " + " | ".join([word(row[0], lang), *(num(v) for v in row[1:])]) + " |")
    lines += ["", f"## {w['partners']}", ""]
    lines += ["| " + " | ".join([w["source"], *(w[c] for c in PARTNER_CELLS)]) + " |"]
    lines += ["|---" + "|---:" * len(PARTNER_CELLS) + "|"]
    for row in partners.iter_rows():
        lines.append("| " + " | ".join([row[0], *(num(v) for v in row[1:])]) + " |")
    lines += ["", f"## {w['repr']}", "", _rep_header(w), "|---|---:|---:|---:|---:|---:|"]
    for row in rep.iter_rows(named=True):
        lines.append("| " + " | ".join(_rep_cells(row)) + " |")
    lines += ["", w["hidden"].format(m=f.min_cell), ""]
    return "\n".join(lines)


def _portal_md(portal: pl.DataFrame | None, lang: str) -> list[str]:
    w = WORDS[lang]
    if portal is None:
        return [w["no_portal"]]
    steps = portal.columns[2:]
    lines = ["| " + " | ".join([w["week"], w["channel"], *(word(c, lang) for c in steps)]) + " |"]
    lines += ["|---|---" + "|---:" * len(steps) + "|"]
    for row in portal.iter_rows():
        lines.append(
            "| " + " | ".join([row[0], word(row[1], lang), *(num(v) for v in row[2:])]) + " |"
        )
    return lines


def _rep_header(w: dict[str, str]) -> str:
    cols = [w["area"], w["persons"], w["population"], w["consent_share"], w["population_share"]]
    return "| " + " | ".join([*cols, w["ratio"]]) + " |"


def _rep_cells(row: dict) -> list[str]:
    return [
        row["area"], num(row["persons"]), num(row["population"]),
        num(row["consent_share"], 3), num(row["population_share"], 3), num(row["ratio"], 2),
    ]  # fmt: skip


def funnel_svg(f: Funnel, lang: str) -> str:
    """Horizontal bars, one per step, widths relative to the first step."""
    top = f.shown[STEP_NAMES[0]] or 1
    bars = []
    for i, step in enumerate(STEP_NAMES):
        n = f.shown[step]
        width = 0 if n is None else max(1.0, 560 * n / top)
        y = 10 + 34 * i
        bars.append(
            f'<rect x="{300 - width / 2:.1f}" y="{y}" width="{width:.1f}" height="26" fill="#0072c6"/>'
            f'<text x="610" y="{y + 18}" font-size="13">{escape(word(step, lang))}: {num(n)}</text>'
        )
    height = 20 + 34 * len(STEP_NAMES)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="900" height="{height}" '
        f'viewBox="0 0 900 {height}">{"".join(bars)}</svg>'
    )


def _td(text: str) -> str:
    """A cell; figures (and the dash of a hidden one) right-aligned."""
    figure = text == "–" or text.replace(".", "", 1).isdigit()
    return f'<td class="n">{escape(text)}</td>' if figure else f"<td>{escape(text)}</td>"


def _table_html(headers: list[str], rows: list[list[str]], shade: list[float | None]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for cells, s in zip(rows, shade, strict=True):
        style = "" if s is None else f' style="background:rgba(0,114,198,{min(1.0, s):.2f})"'
        body.append(f"<tr{style}>" + "".join(_td(c) for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def section(
    f: Funnel, rep: pl.DataFrame, partners: pl.DataFrame, portal: pl.DataFrame | None, lang: str
) -> str:
    """One language's part of the page."""
    w = WORDS[lang]
    flow = flow_table(f)
    rows = [
        [word(s, lang) if r is None else "", word(r, lang), num(n)] for s, r, n in flow.iter_rows()
    ]
    parts = [f'<section lang="{lang}"><h1>{escape(w["title"])}</h1>', funnel_svg(f, lang)]
    parts.append(f"<h2>{escape(w['portal'])}</h2>")
    if portal is None:
        parts.append(f"<p>{escape(w['no_portal'])}</p>")
    else:
        rows = [[r[0], word(r[1], lang), *(num(v) for v in r[2:])] for r in portal.iter_rows()]
        headers = [w["week"], w["channel"], *(word(c, lang) for c in portal.columns[2:])]
        parts.append(_table_html(headers, rows, [None] * len(rows)))
    parts += [f"<h2>{escape(w['flow'])}</h2>"]
    parts.append(_table_html([w["step"], w["reason"], w["persons"]], rows, [None] * len(rows)))
    for d in DIMENSIONS:
        table = by_group(f, d)
        rows = [[word(r[0], lang), *(num(v) for v in r[1:])] for r in table.iter_rows()]
        parts.append(f"<h2>{escape(w['by'])}: {escape(w[d])}</h2>")
        headers = [w[d], *(word(s, lang) for s in STEP_NAMES)]
        parts.append(_table_html(headers, rows, [None] * len(rows)))
    parts.append(f"<h2>{escape(w['partners'])}</h2>")
    rows = [[r[0], *(num(v) for v in r[1:])] for r in partners.iter_rows()]
    headers = [w["source"], *(w[c] for c in PARTNER_CELLS)]
    parts.append(_table_html(headers, rows, [None] * len(rows)))
    rep_rows = [_rep_cells(r) for r in rep.iter_rows(named=True)]
    shade = [None if r["ratio"] is None else r["ratio"] / 2 for r in rep.iter_rows(named=True)]
    parts.append(f"<h2>{escape(w['repr'])}</h2>")
    parts.append(_table_html(_rep_header(w).strip("| ").split(" | "), rep_rows, shade))
    parts.append(f"<p>{escape(w['hidden'].format(m=f.min_cell))}</p></section>")
    return "".join(parts)


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:2px 6px}"
    "td.n{text-align:right}"
)


def page(
    f: Funnel, rep: pl.DataFrame, partners: pl.DataFrame, portal: pl.DataFrame | None, as_of: str
) -> str:
    """The self-contained HTML page, Finnish then English; no external resource."""
    body = "".join(section(f, rep, partners, portal, lang) for lang in LANGS)
    return (
        '<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8">'
        f"<title>{escape(WORDS['en']['title'])} {escape(as_of)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


__all__ = ["LANGS", "STEPS", "markdown", "page"]
