"""``ennakko privacy report``: a record of processing, generated from the configuration and data.

It supports the data-protection impact assessment (DPIA); it does not replace it. Counts
under the configured minimum cell size are shown as "< N".
"""

from __future__ import annotations

import polars as pl

from features.consent import consent_state
from features.contracts import CONTRACTS, Context, events_contract
from flows import audit
from flows.pipeline import RunContext
from flows.privacy import erased_hashes


def _count(n: int, min_cell: int) -> str:
    return f"< {min_cell}" if 0 < n < min_cell else f"{n:,}"


def privacy_report(ctx: RunContext, consents: pl.DataFrame | None) -> str:
    s = ctx.settings
    ctx_contract = Context(ctx.today, tuple(s.partners))
    lines = [
        f"# Record of processing: Ennakko, {s.area_name}",
        "",
        f"Generated {ctx.notes.get('started_at')} from `{s.config_path}`. This record supports "
        "the data-protection impact assessment; it does not replace it.",
        "",
        "## Controller and purpose",
        f"- Controller: {s.privacy.controller}.",
        "- Purpose: to offer early, voluntary guidance to young people at risk of unemployment "
        "who have consented to it. The service is not statutory; every processing rests on "
        "the person's consent, which is purpose-bound, can expire and can be withdrawn.",
        "- Lists are advice to counsellors, never decisions: every row needs a human decision.",
        "",
        "## Consent purposes",
        "- `scoring`: the person's data may be used to estimate their risk.",
        "- `contact`: the person may appear on a counsellor's list with contact details.",
        "- `source:<partner>`: that partner's rows about the person may be used.",
        (
            "- Consents given under these privacy-notice versions are treated as invalid: "
            + ", ".join(f"`{v}`" for v in s.consent.invalid_notice_versions)
            + "."
            if s.consent.invalid_notice_versions
            else "- No privacy-notice version is configured as invalid "
            "(`consent.invalid_notice_versions`)."
        ),
        f"- Consents ending within {s.consent.expiry_warning_days} days are flagged so the "
        "counsellor can ask about renewal.",
        "",
        "## Sources and the fields read",
        "| source | fields | DPIA | newest row allowed |",
        "| --- | --- | --- | --- |",
    ]
    for name, factory in CONTRACTS.items():
        if name == "reviews":
            continue
        fields = ", ".join(c.name for c in factory(ctx_contract).columns)
        lines.append(f"| {name} | {fields} | core register | |")
    for name, partner in s.partners.items():
        contract = events_contract(Context(ctx.today, tuple(s.partners), partner.event_types), name)
        fields = ", ".join(c.name for c in contract.columns)
        types = ", ".join(partner.event_types)
        lines.append(
            f"| events/{name} ({partner.label.en}) | {fields}; event types: {types} | "
            f"{partner.dpia or 'MISSING'} | {partner.max_age_days} days |"
        )
    lines += [
        "",
        "Direct identifiers (name, phone, e-mail) are read only from the contact vault and only "
        "when a list is written. Feature caches and scores hold only the pseudonym"
        + (" as a keyed hash (second pseudonym layer on)" if ctx.keys.pseudonym else "")
        + "; models, logs and MLflow hold no identifier of any kind. Gender and language are "
        "used only for the fairness audit, never as model inputs.",
        "",
        "## Recipients",
        *[f"- {r}" for r in s.privacy.recipients],
        "- Analysts see aggregate reports only (MLflow): no row-level personal data.",
        "",
        "## Retention",
        "| store | kept (days) |",
        "| --- | --- |",
        *[f"| {store} | {days} |" for store, days in s.retention.model_dump().items()],
        "",
        f"Files are created with mode {s.privacy.file_mode}, folders {s.privacy.dir_mode}. "
        f"Aggregate tables suppress cells under {s.privacy.min_cell_size} persons.",
        "",
        "## Consents today",
    ]
    min_cell = s.privacy.min_cell_size
    if consents is not None and consents.height:
        state = consent_state(consents, ctx.as_of, s.consent, s.partners)
        counts = dict(state.group_by("status").len().iter_rows())
        lines += [f"On {ctx.as_of.isoformat()}:", ""]
        lines += [f"- {status}: {_count(n, min_cell)}" for status, n in sorted(counts.items())]
        lines.append(f"- may be scored: {_count(int(state['can_score'].sum()), min_cell)}")
        lines.append(f"- may be contacted: {_count(int(state['can_contact'].sum()), min_cell)}")
    else:
        lines.append("The consent register could not be read.")
    entries = audit.read(ctx.ws.path("audit", "audit.jsonl"))
    lines += [
        "",
        "## Erasures and retention",
        f"- Persons erased so far: {_count(len(erased_hashes(ctx.ws)), 1)}.",
        f"- Last erasure: {_last(entries, 'erasure')}.",
        f"- Last retention run: {_last(entries, 'retention')}.",
        f"- Audit log: {len(entries)} entries, chain {'intact' if audit.verify(ctx.ws.path('audit', 'audit.jsonl')).ok else 'BROKEN'}.",
    ]
    return "\n".join(lines) + "\n"


def _last(entries: list[dict], event: str) -> str:
    dates = [e.get("at") for e in entries if e.get("event") == event and e.get("at")]
    return max(dates) if dates else "never"
