"""Consent, one purpose at a time: the notices, the records, their state and the audit entry.

Purposes are Ennakko's tokens: ``scoring``, ``contact`` and ``source:<partner>`` for each
configured partner. Each purpose has its own chain of immutable records (a change adds a
record that ``replaces`` the purpose's previous one). Whether a purpose's consent is valid
today is never decided here: :func:`state_for` hands the records to
``features.consent.consent_state``, the nightly job's own rule.

Every change is written inside one transaction whose last step appends to Ennakko's keyed
audit log, naming the person only by a keyed hash of the pseudonym (as ``flows.privacy``
does); a failed append rolls the records back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from flows import clock
from portal.models import ConsentRecord, Notice, Person

NOTICES = Path(__file__).resolve().parent / "notices"
NOTICE_VERSION = "v1"
LEGAL_BASIS = "consent, GDPR 6(1)(a)"
COLLECTION_METHOD = "web-form:oidc-{amr}"

# One sentence per known partner of what it holds; others get a generic sentence.
HOLDS = {
    "school": _(
        "Your studies: enrolment, absences, credits earned, and whether you stopped or finished."
    ),
    "outreach": _("Whether outreach youth workers have been in touch with you or met you."),
    "ohjaamo": _("Your visits to Ohjaamo and the guidance you got there."),
    "employment": _(
        "Whether you have registered with employment services and taken part in their activities."
    ),
}


@dataclass(frozen=True)
class Purpose:
    token: str
    label: str
    holds: str
    data_categories: str


@dataclass(frozen=True)
class Shown:
    """The notice a form shows, as the form names it (``Notice``'s ``str``): showing the
    page needs no query; saving fetches the recorded :class:`Notice` (:func:`notice`)."""

    version: str
    language: str

    def __str__(self) -> str:
        return f"{self.version}/{self.language}"


def language(code: str | None) -> str:
    return code if code in ("fi", "sv", "en") else "fi"


def purposes(lang: str) -> list[Purpose]:
    """The choices, in order: scoring, contact, then each configured partner source."""
    out = [
        Purpose(
            "scoring",
            str(_("Scoring")),
            str(_("We may estimate from your data whether support could help you now.")),
            "consented sources' rows, area indicators",
        ),
        Purpose(
            "contact",
            str(_("Contact")),
            str(_("Your name and contact details may be on a counsellor's list.")),
            "name, contact details, language",
        ),
    ]
    for name, spec in settings.ENNAKKO.partners.items():
        label = getattr(spec.label, language(lang))
        holds = HOLDS.get(name) or _("What %(label)s has recorded about you.") % {"label": label}
        categories = ", ".join(spec.event_types)
        out.append(Purpose(f"source:{name}", label, str(holds), f"{spec.label.en}: {categories}"))
    return out


def notice(version: str, lang: str) -> Notice:
    """The notice ``version`` in ``lang`` from ``portal/notices/<version>.<lang>.txt``,
    recorded once with the SHA-256 of its text; a changed text under a recorded version is
    refused (a new text needs a new version)."""
    effective, digest = notice_file(version, lang)
    found, _created = Notice.objects.get_or_create(
        version=version, language=lang, defaults={"sha256": digest, "effective_from": effective}
    )
    if found.sha256 != digest:
        raise ImproperlyConfigured(f"notice {version}/{lang} changed: give it a new version")
    return found


@lru_cache(maxsize=64)
def notice_file(version: str, lang: str) -> tuple[date, str]:
    """A notice file's effective date and the SHA-256 of its text, read once per process
    (a version's words never change: a new text is a new version, and a restart reads it)."""
    import hashlib

    path = NOTICES / f"{version}.{lang}.txt"
    head, _sep, text = path.read_text(encoding="utf-8").partition("\n---\n")
    effective = date.fromisoformat(head.split(":", 1)[1].strip())
    return effective, hashlib.sha256(text.encode("utf-8")).hexdigest()


def notice_text(version: str, lang: str) -> str:
    return (NOTICES / f"{version}.{lang}.txt").read_text(encoding="utf-8").partition("\n---\n")[2]


def current(person: Person) -> dict[str, ConsentRecord]:
    """Each purpose's latest record (the one nothing replaces yet)."""
    records = ConsentRecord.objects.filter(person=person, replaced_by__isnull=True)
    return {r.purpose: r for r in records.select_related("notice")}


def local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date() if moment else None


def state_for(person: Person, as_of: date) -> dict[str, dict]:
    """Per purpose: ``granted`` (valid and allowing it), ``status``, ``expires_at`` and
    ``expiring_soon``, as ``features.consent.consent_state`` decides them.

    Each purpose's chain is handed over as its own subject (its token as ``person_id``), so
    purposes given on different days keep their own expiry. The answer depends only on
    the latest records' dates, the birth year and the day, so it is remembered by exactly
    those (``decided``): a page shown again costs one query, not a polars plan."""
    latest = latest_facts(person)
    if not latest:
        return {}
    facts = tuple(
        sorted(
            (token, local_date(given), local_date(expires), local_date(withdrawn), version)
            for token, given, expires, withdrawn, version in latest
        )
    )
    # The rules are part of the key: a changed policy (a test's, an operator's) is obeyed.
    rules = (repr(settings.ENNAKKO.consent), tuple(settings.ENNAKKO.partners))
    answer = decided(facts, person.birth_year, as_of, rules)
    return {token: dict(s) for token, s in answer.items()}


@lru_cache(maxsize=1)
def _latest_sql() -> str:
    records, notices = ConsentRecord._meta.db_table, Notice._meta.db_table
    return (
        f"SELECT r.record_id, r.purpose, r.given_at, r.expires_at, r.withdrawn_at,"
        f" n.version AS notice_version FROM {records} r JOIN {notices} n ON n.id = r.notice_id"
        f" WHERE r.person_id = %s AND NOT EXISTS"
        f" (SELECT 1 FROM {records} later WHERE later.replaces_id = r.record_id)"
    )


def latest_facts(person: Person) -> list[tuple]:
    """Each purpose's latest record (as :func:`current`) as ``(purpose, given_at,
    expires_at, withdrawn_at, notice version)``.

    Written in SQL by hand because every personal page runs it: the ORM spends four times
    the query's own time building it (0.35 ms against 0.09 ms here). ``raw`` still converts
    the columns as the model's fields do; ``tests/portal/test_portal_consent.py`` checks it
    against the ORM's answer."""
    rows = ConsentRecord.objects.raw(_latest_sql(), [person.pk])
    return [(r.purpose, r.given_at, r.expires_at, r.withdrawn_at, r.notice_version) for r in rows]


@lru_cache(maxsize=4096)
def decided(facts: tuple, birth_year: int, as_of: date, rules: tuple) -> dict[str, dict]:
    """``consent_state`` on one person's latest records, given as plain facts (no
    identifier: the cache holds nothing that names anyone). Callers copy the answer."""
    import polars as pl

    from features.consent import consent_state

    tokens = [f[0] for f in facts]
    frame = pl.DataFrame(
        {
            "person_id": tokens,
            "consent_id": [f"{i}" for i in range(len(facts))],
            "given_at": [f[1] for f in facts],
            "expires_at": [f[2] for f in facts],
            "withdrawn_at": [f[3] for f in facts],
            "purposes": tokens,
            "notice_version": [f[4] for f in facts],
            "birth_year": [birth_year] * len(facts),
            "postal_code": [None] * len(facts),
            "language": [None] * len(facts),
            "team": [None] * len(facts),
        },
        schema_overrides={
            "given_at": pl.Date,
            "expires_at": pl.Date,
            "withdrawn_at": pl.Date,
            "postal_code": pl.String,
            "language": pl.String,
            "team": pl.String,
        },
    )
    partners = list(settings.ENNAKKO.partners)
    state = consent_state(frame, as_of, settings.ENNAKKO.consent, partners)
    column = {"scoring": "can_score", "contact": "can_contact"} | {
        f"source:{p}": f"source_{p}" for p in partners
    }
    return {
        row["person_id"]: {
            "granted": bool(row[column[row["person_id"]]]),
            "status": row["status"],
            "expires_at": row["expires_at"],
            "expiring_soon": bool(row["expiring_soon"]),
        }
        for row in state.iter_rows(named=True)
        if row["person_id"] in column
    }


def person_hash(person_id: str, key: bytes) -> str:
    """The person as the audit log names them: the keyed hash ``flows.privacy`` uses."""
    from features.pseudonym import keyed_hash  # polars with it: not at the portal's start

    return keyed_hash(person_id, key)


def audit_log():
    """Ennakko's audit log of the portal's workspace, under the nightly job's audit key."""
    from flows.audit import AuditLog, log_path
    from flows.runtime import keys
    from flows.workspace import Workspace

    ws = Workspace(Path(settings.PORTAL_WORKSPACE))
    key = keys(settings.ENNAKKO, ws).audit
    return AuditLog(log_path(ws.root), key), key


def changes(
    person: Person, chosen: set[str], as_of: date, only: set[str] | None = None
) -> dict[str, bool]:
    """Which purposes change and to what: a choice unlike today's state, or a renewal of
    a consent that is about to expire. ``only`` limits the change to those purposes (a
    one-click withdrawal must not renew another purpose on the way)."""
    state = state_for(person, as_of)
    out = {}
    for purpose in purposes(settings.LANGUAGE_CODE):
        if only is not None and purpose.token not in only:
            continue
        now = state.get(purpose.token, {})
        wanted = purpose.token in chosen
        differs = wanted != now.get("granted", False) or (wanted and now.get("expiring_soon"))
        if differs and (wanted or purpose.token in state):
            out[purpose.token] = wanted
    return out


def record_changes(
    person: Person,
    chosen: set[str],
    shown: Notice,
    channel: str,
    amr: str,
    only: set[str] | None = None,
) -> uuid.UUID | None:
    """Write one record per changed purpose and the audit entry, in one transaction.

    Returns the receipt's id, or None when nothing changed. Raises what the audit log
    raises (``AuditBroken``, ``OSError``); then nothing was stored."""
    moment = clock.now(settings.TIME_ZONE)
    wanted = changes(person, chosen, moment.date(), only)
    if not wanted:
        return None
    receipt = uuid.uuid4()
    categories = {p.token: p.data_categories for p in purposes("en")}
    with transaction.atomic():
        latest = current(person)
        written = []
        for token, give in wanted.items():
            previous = latest.get(token)
            written.append(
                ConsentRecord.objects.create(
                    receipt=receipt,
                    person=person,
                    controller=settings.ENNAKKO.privacy.controller,
                    purpose=token,
                    legal_basis=LEGAL_BASIS,
                    data_categories=categories[token],
                    notice=shown,
                    channel=channel,
                    collection_method=COLLECTION_METHOD.format(amr=amr),
                    state="given" if give else "withdrawn",
                    given_at=moment if give or previous is None else previous.given_at,
                    expires_at=moment + timedelta(days=settings.PORTAL_CONSENT_DAYS)
                    if give or previous is None
                    else previous.expires_at,
                    withdrawn_at=None if give else moment,
                    replaces=previous,
                    recorded_at=moment,
                )
            )
        log, key = audit_log()
        log.append(
            {
                "event": "portal.consent",
                "person_hash": person_hash(person.person_id, key),
                "receipt": str(receipt),
                "records": [str(r.record_id) for r in written],
                "purposes": {r.purpose: r.state for r in written},
                "notice": str(shown),
                "channel": channel,
                "at": moment.isoformat(timespec="seconds"),
            }
        )
    return receipt


def granted(person: Person, as_of: date) -> set[str]:
    """The purposes the person's consent allows on ``as_of``."""
    return {token for token, s in state_for(person, as_of).items() if s["granted"]}


def withdraw(person: Person, which: str, shown: Notice, channel: str, amr: str) -> uuid.UUID | None:
    """Withdraw one purpose, or ``all``: the consent page's own path (a new record per
    purpose and the audit entry), changing nothing else. None when nothing was granted."""
    today = clock.today(settings.TIME_ZONE)
    held = granted(person, today)
    target = held if which == "all" else {which} & held
    if not target:
        return None
    return record_changes(person, held - target, shown, channel, amr, only=target)
