"""The funnel in words: Markdown and one self-contained HTML page (inline SVG funnel, a
shaded table by area), in Finnish and English. Suppressed figures print as a dash.

Both forms print the same tables (:func:`tables`), so the Markdown and the page cannot
disagree about a figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import polars as pl

from outreach.funnel import (
    DIMENSIONS,
    PARTNER_CELLS,
    STEP_NAMES,
    Funnel,
    by_group,
    flow_table,
    purposes,
    purposes_by_group,
)
from outreach.funnel_purposes import ANSWERS
from outreach.funnel_words import WORDS, purpose_word, word

LANGS = ("fi", "en")
NO_FIGURE = frozenset(w["no_figure"] for w in WORDS.values())


@dataclass(frozen=True)
class Report:
    """What the funnel publishes: the suppressed flow and purposes, representativeness by
    area and by age band, the partners' flow, the consent service's weeks (None: no
    consent service runs), the date counted on, and each partner's name per language
    (``partners.<name>.label``; the source's own name where none)."""

    funnel: Funnel
    areas: pl.DataFrame
    bands: pl.DataFrame
    partners: pl.DataFrame
    portal: pl.DataFrame | None
    as_of: str
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def source(self, name: str, lang: str) -> str:
        return self.labels.get(name, {}).get(lang, name)

    def purpose(self, purpose: str, lang: str) -> str:
        """A purpose in ``lang``, a partner source by its label."""
        source = purpose.removeprefix("source:")
        return purpose_word(purpose, lang, self.source(source, lang))


@dataclass(frozen=True)
class Table:
    heading: str
    headers: list[str]
    rows: list[list[str]]
    shade: list[float | None] | None = None  # per row, 0..1: the area table's ratio
    note: str = ""  # a paragraph printed under the heading (or instead of the table)


def num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else str(int(value))


def tables(r: Report, lang: str) -> list[Table]:
    """Every table of one language, in the order printed."""
    w, f = WORDS[lang], r.funnel
    out = [_portal(r.portal, lang)]
    flow = [
        [word(s, lang) if why is None else "", word(why, lang), num(n)]
        for s, why, n in flow_table(f).iter_rows()
    ]
    out.append(Table(w["flow"], [w["step"], w["reason"], w["persons"]], flow))
    overall = [[r.purpose(p, lang), num(g), num(n)] for p, g, n in purposes(f).iter_rows()]
    heads = [w["purpose"], *(word(a, lang) for a in ANSWERS)]
    out.append(Table(w["purposes"], heads, overall, note=w["purposes_note"]))
    for d in DIMENSIONS:
        rows = [[word(x[0], lang), *(num(v) for v in x[1:])] for x in by_group(f, d).iter_rows()]
        heads = [w[d], *(word(s, lang) for s in STEP_NAMES)]
        out.append(Table(f"{w['by']}: {w[d]}", heads, rows))
    for d in DIMENSIONS:
        table = purposes_by_group(f, d)
        # given / not given of a purpose in one cell: a table a page wide, not two.
        rows = [
            [word(x[0], lang), num(x[1]), *(f"{num(g)} / {num(n)}" for g, n in _pairs(x[2:]))]
            for x in table.iter_rows()
        ]
        heads = [w[d], word(STEP_NAMES[0], lang), *(r.purpose(p, lang) for p, _ in f.purposes)]
        note = w["pairs_note"]
        out.append(Table(f"{w['purposes']}: {w[d]}", heads, rows, note=note))
    rows = [[r.source(x[0], lang), *(num(v) for v in x[1:])] for x in r.partners.iter_rows()]
    out.append(Table(w["partners"], [w["source"], *(w[c] for c in PARTNER_CELLS)], rows))
    out += [_areas(r.areas, w), _bands(r.bands, lang)]
    return out


def _pairs(values: tuple) -> list[tuple]:
    return list(zip(values[::2], values[1::2], strict=True))


def _portal(portal: pl.DataFrame | None, lang: str) -> Table:
    w = WORDS[lang]
    if portal is None:
        return Table(w["portal"], [], [], note=w["no_portal"])
    heads = [w["week"], w["channel"], *(word(c, lang) for c in portal.columns[2:])]
    rows = [[x[0], word(x[1], lang), *(num(v) for v in x[2:])] for x in portal.iter_rows()]
    return Table(w["portal"], heads, rows)


def _rep_headers(w: dict[str, str], first: str, population: str) -> list[str]:
    return [w[first], w["persons"], w[population], w["consent_share"], w["population_share"],
            w["ratio"]]  # fmt: skip


def _rep_cells(first: str, row: dict, w: dict[str, str]) -> list[str]:
    """A representativeness row; without a population figure its shares are blank, not
    dashes (nothing is hidden there: there is nothing to compare with)."""
    if row["population"] is None:
        return [first, num(row["persons"]), w["no_figure"], "", "", ""]
    # No ratio to a population share of 0 (an area nobody lives in): blank, not hidden.
    ratio = "" if row["population_share"] == 0 else num(row["ratio"], 2)
    return [
        first, num(row["persons"]), num(row["population"]),
        num(row["consent_share"], 3), num(row["population_share"], 3), ratio,
    ]  # fmt: skip


def _areas(rep: pl.DataFrame, w: dict[str, str]) -> Table:
    named = list(rep.iter_rows(named=True))
    rows = [_rep_cells(word(x["area"], w["lang"]), x, w) for x in named]
    shade = [None if x["ratio"] is None else x["ratio"] / 2 for x in named]
    return Table(w["repr"], _rep_headers(w, "area", "population"), rows, shade, w["repr_note"])


def _bands(rep: pl.DataFrame, lang: str) -> Table:
    w = WORDS[lang]
    heads = _rep_headers(w, "age_band", "band_population")
    if rep["population"].is_null().all():
        return Table(w["repr_band"], [], [], note=w["no_bands"])
    rows = [_rep_cells(x["age_band"], x, w) for x in rep.iter_rows(named=True)]
    return Table(w["repr_band"], heads, rows, note=w["band_note"])


def markdown(r: Report, lang: str) -> str:
    """The funnel as Markdown: every table of :func:`tables` under its heading."""
    w = WORDS[lang]
    lines = [f"# {w['title']}", "", f"{w['as_of']}: {r.as_of}", ""]
    for t in tables(r, lang):
        lines += [f"## {t.heading}", ""]
        if t.note:
            lines += [t.note, ""]
        if not t.headers:
            continue
        right = _figure_columns(t)
        lines += ["| " + " | ".join(t.headers) + " |"]
        lines += ["|" + "".join("---:|" if fig else "---|" for fig in right)]
        lines += ["| " + " | ".join(row) + " |" for row in t.rows]
        lines.append("")
    lines += [w["hidden"].format(m=r.funnel.min_cell), ""]
    return "\n".join(lines)


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


def _is_figure(text: str) -> bool:
    """A count, a share, a dash or "12 / 3": digits and those marks only."""
    return bool(text) and set(text) <= set("0123456789.–/ ")


def _figure_columns(t: Table) -> list[bool]:
    """Which columns hold figures (right-aligned): never the first, which names the row
    (a postal code is a name), and the others where every filled cell is a figure."""
    columns = list(zip(*t.rows, strict=True)) if t.rows else [() for _ in t.headers]
    return [
        i > 0 and all(_is_figure(c) for c in col if c and c not in NO_FIGURE)
        for i, col in enumerate(columns)
    ]


def _td(text: str, figure: bool) -> str:
    """A cell; figures (and the dash of a hidden one) right-aligned."""
    return f'<td class="n">{escape(text)}</td>' if figure else f"<td>{escape(text)}</td>"


def _table_html(t: Table) -> str:
    parts = [f"<h2>{escape(t.heading)}</h2>"]
    if t.note:
        parts.append(f"<p>{escape(t.note)}</p>")
    if not t.headers:
        return "".join(parts)
    head = "".join(f"<th>{escape(h)}</th>" for h in t.headers)
    body = []
    right = _figure_columns(t)
    for cells, s in zip(t.rows, t.shade or [None] * len(t.rows), strict=True):
        style = "" if s is None else f' style="background:rgba(0,114,198,{min(1.0, s):.2f})"'
        tds = "".join(_td(c, fig) for c, fig in zip(cells, right, strict=True))
        body.append(f"<tr{style}>{tds}</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return "".join(parts) + f'<div class="wide">{table}</div>'


def section(r: Report, lang: str) -> str:
    """One language's part of the page."""
    w = WORDS[lang]
    parts = [f'<section lang="{lang}"><h1>{escape(w["title"])}</h1>']
    parts.append(f"<p>{escape(w['as_of'])}: {escape(r.as_of)}</p>{funnel_svg(r.funnel, lang)}")
    parts += [_table_html(t) for t in tables(r, lang)]
    parts.append(f"<p>{escape(w['hidden'].format(m=r.funnel.min_cell))}</p></section>")
    return "".join(parts)


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:2px 6px}"
    "td.n{text-align:right}th{vertical-align:bottom}.wide{overflow-x:auto}"
)


def page(r: Report) -> str:
    """The self-contained HTML page, Finnish then English; no external resource."""
    body = "".join(section(r, lang) for lang in LANGS)
    return (
        '<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8">'
        f"<title>{escape(WORDS['en']['title'])} {escape(r.as_of)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


__all__ = ["LANGS", "Report", "markdown", "page", "tables"]
