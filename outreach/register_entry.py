"""The algorithm register entry: facts from the runs in, one entry per language out.

Pure: :mod:`flows.register` reads the champion's MLflow run, the latest nightly run and
the audit log, and hands over :class:`Facts`; this module fills the texts of
:mod:`outreach.register_prose` and :mod:`outreach.register_text` and renders Markdown and
one self-contained HTML page. Every figure travels with its source (an MLflow run id and
metric, or an audit entry's sequence number and hash), so a reader can trace each number.
Field names follow the Dutch algorithm register standard v0.3.1; the extensions (figures,
the FRIA draft, the risk category's reasoning) carry names of their own.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from outreach.cells import publishable
from outreach.effect import Effect, Plan, verdict
from outreach.register_prose import BASE_SOURCES, HOLDOUT, NO_DPIA, PLAN, PROSE, SOURCE_LINE
from outreach.register_text import (
    ENUM_WORDS,
    FIELD_NAMES,
    FIGURE_NAMES,
    FRIA,
    FRIA_POINTS,
    HEADINGS,
    LANGS,
    NOT_MEASURED,
    OPEN,
    SOURCE_WORDS,
    SUPPRESSED,
)

STANDARD_VERSION = "0.3.1"
LANG_NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}
COUNTS = (
    "held_out",
    "listed",
    "scored",
    "training_rows",
    "fairness_flags",
    "baseline_fairness_flags",
)
# The hold-out's effect (a difference of shares, held out minus not held out), shown in
# percentage points; the interval's ends carry their sign, the MDE is a size.
POINTS = ("holdout_itt", "holdout_itt_low", "holdout_itt_high", "holdout_mde")
# The order of the fields in Markdown and HTML (the JSON has them all, in this order too).
SHOWN = (
    "description_short", "status", "organization", "department", "contact_email", "area",
    "decision_making_process", "goal", "impact", "proportionality", "lawful_basis",
    "risk_category", "risk_category_reasoning", "risks", "alternatives_considered",
    "training_data", "source_data", "connected_data_sources", "data_bias", "DPIA_description",
    "description", "methods_and_models", "performance", "monitoring", "human_intervention",
    "objection_procedure", "rollback", "revision_date",
)  # fmt: skip


@dataclass(frozen=True)
class Figure:
    """One number and where it was read: ``source`` names an MLflow run and key, or an
    audit entry; ``withheld`` says why ``value`` is None (a small cell, or not measured)."""

    id: str
    value: float | None
    source: dict[str, Any]
    withheld: str | None = None

    def as_json(self) -> dict[str, Any]:
        out = {"id": self.id, "value": self.value, "source": dict(self.source)}
        if self.withheld:
            out["withheld"] = self.withheld
        return out


@dataclass(frozen=True)
class Facts:
    """What the entry says, read from the configuration, the runs and the audit log."""

    area: str
    organization: str
    contact_email: str
    status: str
    capacity: int
    min_cell: int
    cooldown_days: int
    decline_days: int
    holdout_share: float
    partners: dict[str, dict[str, str]]  # name -> {"fi":..., "sv":..., "en":..., "dpia":...}
    model_version: str
    champion_run_id: str
    today: date
    figures: dict[str, Figure] = field(default_factory=dict)
    revision_months: int = 12
    holdout: HoldOut | None = None


@dataclass(frozen=True)
class HoldOut:
    """The hold-out analysis as ``reviews report`` reads it: the effect (None: no draws
    stored yet), the analysis plan's state, and the source its figures name."""

    effect: Effect | None
    plan: Plan
    source: dict[str, Any]


def holdout_source(
    store: str, draws: int, plan_entry: dict[str, Any] | None, min_cell: int
) -> dict[str, Any]:
    """Where the hold-out figures come from: the draws store and its row count (withheld
    when small), and the ``holdout.plan`` audit entry that fixed the analysis, if any."""
    source: dict[str, Any] = {
        "store": store,
        "draws": draws if publishable(draws, min_cell) else None,
    }
    if plan_entry is not None:
        source |= {"audit_seq": plan_entry["seq"], "audit_hash": plan_entry["hash"]}
    return source


def holdout_figures(effect: Effect | None, source: dict[str, Any]) -> dict[str, Figure]:
    """The ITT with its 95 % interval and the MDE, each named with ``source``. Nothing
    before an outcome is known; withheld (small cells) when the analysis withholds the
    estimate, as the reviews report does."""
    if effect is None or effect.n_held + effect.n_not == 0:
        return {}
    itt = effect.itt
    values = {
        "holdout_itt": ("itt.estimate", itt.estimate if itt else None),
        "holdout_itt_low": ("itt.low", itt.low if itt else None),
        "holdout_itt_high": ("itt.high", itt.high if itt else None),
        "holdout_mde": ("mde", effect.mde if itt else None),
    }
    return {
        figure_id: Figure(
            figure_id,
            None if value is None else float(value),
            {**source, "key": key},
            "below_min_cell" if value is None else None,
        )
        for figure_id, (key, value) in values.items()
    }


def number(value: float | None, figure_id: str, lang: str) -> str:
    """A figure as the language writes it: counts whole, shares with three decimals and a
    decimal comma in Finnish and Swedish."""
    if value is None:
        return ""
    if figure_id in POINTS:
        text = f"{100 * value:{'' if figure_id == 'holdout_mde' else '+'}.1f}"
    else:
        text = str(round(value)) if figure_id in COUNTS else f"{value:.3f}"
    return text.replace(".", ",").replace("-", "−") if lang != "en" else text


def shown(figure: Figure | None, lang: str, min_cell: int) -> str:
    """The figure's words in a text: its value, or why there is none."""
    if figure is None or figure.withheld == "not_measured":
        return NOT_MEASURED[lang]
    if figure.withheld == "below_min_cell":
        return SUPPRESSED[lang].format(min_cell=min_cell)
    return number(figure.value, figure.id, lang)


class _Figures(dict):
    """``{F[name]}`` in a template: the formatted figure (a missing one is "not measured")."""

    def __init__(self, facts: Facts, lang: str) -> None:
        super().__init__()
        self.facts, self.lang = facts, lang

    def __missing__(self, key: str) -> str:
        return shown(self.facts.figures.get(key), self.lang, self.facts.min_cell)


def _sources(facts: Facts, lang: str) -> str:
    lines = [BASE_SOURCES[lang]]
    for name, spec in sorted(facts.partners.items()):
        label = spec.get(lang) or name
        lines.append(SOURCE_LINE[lang].format(label=label, dpia=spec.get("dpia") or NO_DPIA[lang]))
    return "\n".join(lines)


def _fill(template: str, facts: Facts, lang: str, holdout: str = "") -> str:
    return template.format(
        F=_Figures(facts, lang),
        open=OPEN[lang],
        area=facts.area,
        capacity=facts.capacity,
        min_cell=facts.min_cell,
        cooldown=facts.cooldown_days,
        decline=facts.decline_days,
        sources=_sources(facts, lang),
        holdout=holdout,
    )


def build(facts: Facts, lang: str) -> dict[str, Any]:
    """The register entry in ``lang`` (fi, sv or en) as the standard's fields, plus the
    figures with their sources and the FRIA draft."""
    if lang not in LANGS:
        raise ValueError(f"no texts in {lang!r}; there are {', '.join(LANGS)}")
    holdout, holdout_json = _holdout(facts, lang)
    texts = {k: _fill(v, facts, lang, holdout) for k, v in PROSE[lang].items()}
    revision = _add_months(facts.today, facts.revision_months)
    fria = {
        point: {"title": FRIA_POINTS[lang][point], "text": _fill(text, facts, lang)}
        for point, text in FRIA[lang].items()
    }
    entry: dict[str, Any] = {
        "standard_version": STANDARD_VERSION,
        "lang": lang,
        "publication_date": facts.today.isoformat(),
        "last_change_date": facts.today.isoformat(),
        "revision_date": revision.isoformat(),
        "organization": facts.organization,
        "country": {"fi": "Suomi", "sv": "Finland", "en": "Finland"}[lang],
        "contact_email": facts.contact_email,
        "status": facts.status,
        "domain": "work and career",
        "area": facts.area,
        "risk_category": "high risk",
        "algorithm_type": "self-learning",
        "type": "predictive",
        **texts,
        "figures": [facts.figures[k].as_json() for k in FIGURE_NAMES["en"] if k in facts.figures],
        "hold_out": holdout_json,
        "fundamental_rights_impact_assessment": fria,
        "open_questions": _open_questions(texts, fria, lang),
        "provenance": {
            "model_version": facts.model_version,
            "champion_mlflow_run_id": facts.champion_run_id,
        },
    }
    return entry


def _holdout(facts: Facts, lang: str) -> tuple[str, dict[str, Any]]:
    """The hold-out's sentence for the texts and its JSON: off said plainly; on, the
    verdict in the reviews report's words and whether the analysis was pre-registered."""
    if facts.holdout_share <= 0:
        return _fill(HOLDOUT[lang]["off"], facts, lang), {"on": False}
    held = facts.holdout
    effect = held.effect if held else None
    words = [_fill(HOLDOUT[lang]["on"], facts, lang), verdict(effect, lang)]
    out: dict[str, Any] = {
        "on": True,
        "informative": bool(effect and effect.informative),
        "pre_registered": bool(held and held.plan.pre_registered),
        "verdict": verdict(effect, lang),
    }
    if held is not None:
        plan = held.plan
        state = "pre" if plan.pre_registered else "none" if plan.recorded is None else "changed"
        words.append(PLAN[lang][state])
        out |= {"plan_sha256": plan.recorded, "source": dict(held.source)}
    return " ".join(words), out


def _open_questions(texts: dict[str, str], fria: dict[str, dict[str, str]], lang: str) -> list[str]:
    marker = OPEN[lang]
    found = [t for t in texts.values() if marker in t]
    found += [p["text"] for p in fria.values() if marker in p["text"]]
    return [t[t.index(marker) :] for t in found]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    try:
        return day.replace(year=year, month=month)
    except ValueError:  # the 31st into a shorter month
        return day.replace(year=year, month=month, day=1) - timedelta(days=1)


def source_words(figure: dict[str, Any], lang: str, min_cell: int = 0) -> str:
    """Where a figure was read, in words: the MLflow run and key, the audit entry, or
    the hold-out's draws store and its analysis plan's audit entry."""
    source = figure["source"]
    if "store" in source:
        draws = source["draws"]
        words = SOURCE_WORDS[lang]["holdout" if "audit_seq" in source else "holdout_no_plan"]
        return words.format(
            store=source["store"],
            draws=SUPPRESSED[lang].format(min_cell=min_cell) if draws is None else draws,
            key=source["key"],
            seq=source.get("audit_seq"),
            hash=source.get("audit_hash", "")[:12],
        )
    if "mlflow_run_id" in source:
        return SOURCE_WORDS[lang]["run"].format(run_id=source["mlflow_run_id"], key=source["key"])
    return SOURCE_WORDS[lang]["audit"].format(
        seq=source["audit_seq"], hash=source["audit_hash"][:12], key=source["key"]
    )


def figure_rows(entry: dict[str, Any], min_cell: int) -> list[tuple[str, str, str]]:
    """(name, value, source) per figure, in the entry's language."""
    lang = entry["lang"]
    rows = []
    for fig in entry["figures"]:
        value = shown(
            Figure(fig["id"], fig["value"], fig["source"], fig.get("withheld")), lang, min_cell
        )
        name = FIGURE_NAMES[lang].get(fig["id"], fig["id"])
        rows.append((name, value, source_words(fig, lang, min_cell)))
    return rows


def markdown(entry: dict[str, Any], min_cell: int) -> str:
    """The entry as Markdown: the fields, the figures with their sources, the FRIA draft."""
    lang = entry["lang"]
    head, names = HEADINGS[lang], FIELD_NAMES[lang]
    lines = [f"# {head['title'].format(name=entry['name'])}", ""]
    lines += [
        f"_{head['generated'].format(today=entry['last_change_date'], version=entry['provenance']['model_version'])}_",
        "",
    ]
    for key in SHOWN:
        lines += [f"## {names[key]}", "", ENUM_WORDS[lang].get(entry[key], str(entry[key])), ""]
    lines += [
        f"## {head['figures']}",
        "",
        f"| {head['figure']} | {head['value']} | {head['source']} |",
        "|---|---:|---|",
    ]
    lines += [f"| {n} | {v} | {s} |" for n, v, s in figure_rows(entry, min_cell)]
    lines += ["", f"## {head['fria']}", ""]
    for point in entry["fundamental_rights_impact_assessment"].values():
        lines += [f"### {point['title']}", "", point["text"], ""]
    lines += [f"## {head['open']}", ""]
    lines += [f"- {q}" for q in entry["open_questions"]]
    return "\n".join(lines).rstrip() + "\n"


STYLE = """
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
nav a{margin-right:1rem}section{border-top:2px solid #0072c6;margin-top:2.5rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}.open{background:#fff3c4;font-weight:600}
"""


def _html_text(text: str, lang: str) -> str:
    escaped = html.escape(text).replace("\n", "<br>")
    marker = html.escape(OPEN[lang])
    return re.sub(re.escape(marker), f'<span class="open">{marker}</span>', escaped)


def page(entries: dict[str, dict[str, Any]], min_cell: int) -> str:
    """One self-contained HTML page with the entry in every language (no external resource)."""
    esc = html.escape
    nav = " ".join(f'<a href="#{lang}" lang="{lang}">{LANG_NAMES[lang]}</a>' for lang in entries)
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{esc(entries['en']['name'] if 'en' in entries else 'Ennakko')}</title>",
             f"<style>{STYLE}</style></head><body>", f"<nav>{nav}</nav>"]  # fmt: skip
    for lang, entry in entries.items():
        head, names = HEADINGS[lang], FIELD_NAMES[lang]
        parts.append(
            f'<section id="{lang}" lang="{lang}"><h1>{esc(head["title"].format(name=entry["name"]))}</h1>'
        )
        parts.append("<dl>")
        for key in SHOWN:
            parts.append(
                f"<dt><strong>{esc(names[key])}</strong></dt><dd>{_html_text(ENUM_WORDS[lang].get(entry[key], str(entry[key])), lang)}</dd>"
            )
        parts.append(f"</dl><h2>{esc(head['figures'])}</h2><table><thead><tr>")
        parts.append(
            f"<th>{esc(head['figure'])}</th><th>{esc(head['value'])}</th><th>{esc(head['source'])}</th></tr></thead><tbody>"
        )
        for n, v, s in figure_rows(entry, min_cell):
            parts.append(f'<tr><td>{esc(n)}</td><td class="n">{esc(v)}</td><td>{esc(s)}</td></tr>')
        parts.append(f"</tbody></table><h2>{esc(head['fria'])}</h2>")
        for point in entry["fundamental_rights_impact_assessment"].values():
            parts.append(f"<h3>{esc(point['title'])}</h3><p>{_html_text(point['text'], lang)}</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
