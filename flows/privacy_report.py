"""``ennakko privacy report``: a record of processing, generated from the configuration and data.

It supports the data-protection impact assessment (DPIA); it does not replace it. It
checks rather than asserts where it can: who was scored and listed on the newest published
date is reconciled with the consent register on that date (anyone without a valid consent
is counted, and must be none); the model inputs are the champion's own feature names;
every store is named with the fields it keeps and for how long. Every time is shown in
``settings.timezone`` (Europe/Helsinki), whatever offset it was written with. Counts under
the configured minimum cell size are shown as "< N", except the counts that must be zero.

Why no Prefect or MLflow here: a data-protection officer's command should answer at once
and start nothing; the champion's inputs are read from the local MLflow store's SQLite
database and artifact files with the standard library.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

import polars as pl

from features.catalogue import build_catalogue, by_name, model_features
from features.consent import consent_state
from features.contracts import CONTRACTS, Context, events_contract
from flows.audit import AuditLog, heads_in_manifests, log_path
from flows.privacy import erased_hashes
from flows.privacy_reconcile import (
    Reconciliation,
    cell_count,
    consent_headline,
    newest_published,
    reconcile,
    reconciliation_section,
)
from flows.privacy_stores import stores_section
from flows.settings import Settings
from flows.workspace import Workspace

META_FILE = "risk_model.json"  # models.registry.META_FILE, without importing MLflow


def local_time(value: str | datetime | None, tz: ZoneInfo) -> str:
    """An ISO timestamp shown in ``tz`` (a naive one is taken as already in ``tz``)."""
    if value is None or value == "":
        return "never"
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(tz).isoformat(timespec="seconds")


def champion_inputs(settings: Settings) -> tuple[str | None, list[str] | None, str]:
    """The champion's version and feature names from the local MLflow store, if readable.

    Returns (version, names, where); names is None when the store is a server or cannot be
    read here, and ``where`` says why.
    """
    uri = settings.mlflow_uri
    if not uri.startswith("sqlite:///"):
        return None, None, "the MLflow store is a server, which this report does not start"
    db = Path(unquote(uri[len("sqlite:///") :]))
    if not db.is_file():
        return None, None, f"there is no MLflow store at {db} yet"
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as con:
            row = con.execute(
                "SELECT v.version, v.run_id, r.artifact_uri FROM registered_model_aliases a "
                "JOIN model_versions v ON v.name = a.name AND v.version = a.version "
                "JOIN runs r ON r.run_uuid = v.run_id WHERE a.name = ? AND a.alias = ?",
                (settings.model.registered_name, "champion"),
            ).fetchone()
    except sqlite3.Error as exc:
        return None, None, f"the MLflow store could not be read ({type(exc).__name__})"
    if row is None:
        return None, None, "no model is registered as champion yet"
    version, run_id, artifact_uri = str(row[0]), row[1], row[2]
    candidates = [Path(unquote(urlparse(artifact_uri).path)) / META_FILE]
    # A workspace moved to a new folder: the store still names the old one.
    candidates += sorted(settings.mlflow_artifacts.glob(f"*/{run_id}/artifacts/{META_FILE}"))
    for meta in candidates:
        try:
            names = json.loads(meta.read_text(encoding="utf-8"))["features"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return version, names, f"the champion's {META_FILE} in the MLflow store"
    return version, None, f"the champion's {META_FILE} was not found in the MLflow store"


@dataclass
class Record:
    """The record of processing (Markdown) and its one line for the terminal."""

    text: str
    headline: str
    reconciliation: Reconciliation | None

    @property
    def violations(self) -> int:
        return self.reconciliation.violations if self.reconciliation else 0


def privacy_report(
    settings: Settings,
    ws: Workspace,
    now: datetime,
    consents: pl.DataFrame | None,
    *,
    audit_key: bytes | None,
    pseudonym_key: bytes | None,
) -> Record:
    """The record of processing.

    ``now`` is the clock as the entry point read it; ``consents`` the consent register as
    read (None when it could not be read: the counts that need it are left out, said so).
    """
    s = settings
    tz = ZoneInfo(s.timezone)
    today = now.astimezone(tz).date()
    as_of = s.as_of or today
    min_cell = s.privacy.min_cell_size
    published = newest_published(ws)
    rec = None
    if published and consents is not None and consents.height:
        rec = reconcile(
            ws, s, consents, published[0], published[1], max(today, as_of),
            audit_key=audit_key, pseudonym_key=pseudonym_key,
        )  # fmt: skip
    headline = consent_headline(rec, published)
    lines = [
        *_purpose(s, now, tz, headline),
        *reconciliation_section(rec, published, min_cell),
        *_inputs(s),
        *_sources(s, max(today, as_of)),
        *_handling(s, pseudonym_key is not None),
        *stores_section(s),
        *_consents_today(s, consents, as_of),
        "",
        *_records(s, ws, audit_key, tz),
    ]
    return Record("\n".join(lines) + "\n", headline.replace("**", ""), rec)


def _purpose(s: Settings, now: datetime, tz: ZoneInfo, headline: str) -> list[str]:
    """Title, the reconciliation's headline, the controller, the purpose and the consents."""
    return [
        f"# Record of processing: Ennakko, {s.area_name}",
        "",
        f"Generated {local_time(now, tz)} from `{s.config_path}`. All times are in "
        f"{s.timezone}. This record supports the data-protection impact assessment; it does "
        "not replace it.",
        "",
        headline,
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
    ]


def _sources(s: Settings, reference: date) -> list[str]:
    """Every source and the fields its contract reads, as of ``reference``."""
    lines = [
        "## Sources and the fields read",
        "| source | fields | DPIA | newest row allowed |",
        "| --- | --- | --- | --- |",
    ]
    ctx_contract = Context(reference, tuple(s.partners))
    for name, factory in CONTRACTS.items():
        fields = ", ".join(c.name for c in factory(ctx_contract).columns)
        lines.append(f"| {name} | {fields} | core register | |")
    for name, partner in s.partners.items():
        contract = events_contract(Context(ctx_contract.reference_date, tuple(s.partners),
                                           partner.event_types), name)  # fmt: skip
        fields = ", ".join(c.name for c in contract.columns)
        types = ", ".join(partner.event_types)
        lines.append(
            f"| events/{name} ({partner.label.en}) | {fields}; event types: {types} | "
            f"{partner.dpia or 'MISSING'} | {partner.max_age_days} days |"
        )
    return lines


def _handling(s: Settings, layered: bool) -> list[str]:
    """Where identifiers go, who receives what, and the retention settings."""
    return [
        "",
        "Direct identifiers (name, phone, e-mail) are read only from the contact vault and only "
        "when a list is written. Feature caches and scores hold only the pseudonym"
        + (" as a keyed hash (second pseudonym layer on)" if layered else "")
        + "; models, logs and MLflow hold no identifier of any kind. The sensitive attributes ("
        + ", ".join(s.features.sensitive)
        + ") are used only for the fairness audit, never as model inputs.",
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
    ]


def _consents_today(s: Settings, consents: pl.DataFrame | None, as_of: date) -> list[str]:
    """Consent statuses on ``as_of``, small counts suppressed."""
    lines = ["## Consents today"]
    if consents is None or not consents.height:
        return [*lines, "The consent register could not be read."]
    min_cell = s.privacy.min_cell_size
    state = consent_state(consents, as_of, s.consent, s.partners)
    counts = dict(state.group_by("status").len().iter_rows())
    lines += [f"On {as_of.isoformat()}:", ""]
    lines += [f"- {status}: {cell_count(n, min_cell)}" for status, n in sorted(counts.items())]
    lines.append(f"- may be scored: {cell_count(int(state['can_score'].sum()), min_cell)}")
    lines.append(f"- may be contacted: {cell_count(int(state['can_contact'].sum()), min_cell)}")
    return lines


def _inputs(s: Settings) -> list[str]:
    catalogue = build_catalogue(s.features, s.partners, s.indicators.use)
    known = by_name(catalogue)
    version, names, where = champion_inputs(s)
    if names is None:
        names = model_features(catalogue, s.features)
        source = (
            f"the feature catalogue of this configuration ({where}); the champion"
            + (f" (version {version})" if version else "")
            + " was trained on these unless the feature settings changed since"
        )
    else:
        source = where
    sensitive = sorted(set(names) & set(s.features.sensitive))
    lines = [
        f"## Model inputs ({len(names)})",
        "",
        f"Model{f' version {version}' if version else ''} `{s.model.registered_name}`; the "
        f"names are read from {source}.",
        "",
        (
            f"**⚠ Sensitive attributes are model inputs: {', '.join(sensitive)}.**"
            if sensitive
            else f"None of the sensitive attributes ({', '.join(s.features.sensitive)}) is a "
            "model input."
        ),
        "",
        "| input | from | what it is |",
        "| --- | --- | --- |",
    ]
    for name in names:
        feature = known.get(name)
        lines.append(
            f"| `{name}` | {feature.source if feature else ''} | "
            f"{feature.description if feature else 'not in the catalogue'} |"
        )
    return [*lines, ""]


def _records(s: Settings, ws: Workspace, key: bytes | None, tz: ZoneInfo) -> list[str]:
    audit = AuditLog(log_path(ws.root), key or b"")
    entries = audit.read()
    if key is None:
        chain = "not checked: there is no audit key (ENNAKKO_AUDIT_KEY or the key file)"
    else:
        result = audit.verify(heads_in_manifests(ws.path("lists")))
        chain = (
            "intact"
            if result.ok
            else f"**BROKEN** at line {result.broken_at}: {result.problem} "
            "(run `ennakko audit verify`)"
        )
    imports = [e for e in entries if e.get("event") == "reviews-import"]
    decisions = ws.path("reviews", "decisions.parquet")
    stored = pl.read_parquet(decisions, columns=["person_id"]).height if decisions.exists() else 0
    return [
        "## Erasures, retention, returned decisions and the audit log",
        f"- Persons erased so far: {cell_count(len(erased_hashes(ws)), 1)}.",
        f"- Last erasure: {_last(entries, 'erasure', tz)}.",
        f"- Last retention run: {_last(entries, 'retention', tz)}.",
        f"- Returned lists imported: {len(imports)} import(s), each an audit entry; last "
        f"{_last(entries, 'reviews-import', tz)}. Decisions kept: "
        f"{cell_count(stored, s.privacy.min_cell_size)}.",
        f"- Last nightly run: {_last(entries, 'nightly', tz)}.",
        f"- Audit log: {len(entries)} entries, chain {chain}.",
    ]


def _last(entries: list[dict], event: str, tz: ZoneInfo) -> str:
    moments = []
    for e in entries:
        if e.get("event") == event and e.get("at"):
            try:
                moment = datetime.fromisoformat(e["at"])
            except (TypeError, ValueError):
                continue
            moments.append(moment if moment.tzinfo else moment.replace(tzinfo=tz))
    return local_time(max(moments), tz) if moments else "never"
