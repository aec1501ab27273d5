""" "My data": everything Ennakko holds about the logged-in person, as a page and as JSON.

Their consents now and their whole history (with receipts), which partners' rows are used
(the sources they consented to), their "contact me" requests, the published lists that
named them with the reasons the counsellor saw, and the decisions recorded about them.
Lists and decisions are read from the nightly job's workspace (``lists/`` and the reviews
store), matched by keyed hash of the pseudonym (and its second-layer id), as erasure
matches them. The page and the download never leave the person's own session.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from flows import clock
from portal import consent, contact
from portal.consent_views import page_language, person_of, private, reminders
from portal.identity import mask
from portal.models import ConsentRecord, Person

REASONS = ("reason_1", "reason_2", "reason_3")


def workspace_records(person_id: str) -> tuple[list[dict], list[dict]]:
    """The published lists that name the person (newest first) and the decisions about
    them, from the workspace; empty when there is no workspace yet."""
    import polars as pl

    from flows.decisions import REVIEWS
    from outreach.decisions import DECISIONS
    from portal.ennakko import context, matcher

    ctx = context()
    match = matcher(person_id, ctx)
    lists = []
    root = ctx.ws.path("lists")
    for link in sorted(root.iterdir(), reverse=True) if root.exists() else []:
        if link.name.startswith(".") or not link.exists():
            continue
        for file in sorted(link.glob("*.parquet")):
            frame = pl.read_parquet(file)
            hit = match.rows(frame)
            for row in frame.filter(hit).iter_rows(named=True) if hit is not None else []:
                lists.append(
                    {
                        "date": link.name,
                        "team": file.stem[len(link.name) + 1 :],
                        "rank": row.get("rank"),
                        "reasons": [row[r] for r in REASONS if row.get(r)],
                    }
                )
    decisions = []
    store = ctx.ws.path(*REVIEWS)
    if store.exists():
        frame = pl.read_parquet(store)
        hit = match.rows(frame)
        lang = consent.language(page_language())
        for row in frame.filter(hit).iter_rows(named=True) if hit is not None else []:
            if row.get("superseded_at") is not None:
                continue
            words = DECISIONS.get(row["decision"], {})
            decisions.append(
                {
                    "decision": row["decision"],
                    "words": words.get(lang, row["decision"]),
                    "decided_at": row["decided_at"],
                    "list_id": row["list_id"],
                }
            )
    return lists, decisions


def gather(person: Person, lang: str, today: date) -> dict:
    """Everything about the person, as plain values (the JSON download's body)."""
    labels = {p.token: p.label for p in consent.purposes(lang)}
    state = consent.state_for(person, today)
    lists, decisions = workspace_records(person.person_id)
    situations, helps = dict(contact.SITUATIONS), dict(contact.HELP)
    methods = dict(contact.METHODS)
    return {
        "person": {
            "person_id": person.person_id,
            "identity_code": mask(person.encrypted_identity_code),
            "birth_year": person.birth_year,
            "postal_code": person.postal_code,
            "language": person.language,
            "team": person.team,
        },
        "consents": [
            {
                "purpose": token,
                "label": labels.get(token, token),
                "granted": s["granted"],
                "status": s["status"],
                "expires_at": s["expires_at"],
            }
            for token, s in state.items()
        ],
        "sources_used": [
            labels.get(t, t) for t, s in state.items() if t.startswith("source:") and s["granted"]
        ],
        "history": [
            {
                "recorded_at": r.recorded_at,
                "purpose": r.purpose,
                "label": labels.get(r.purpose, r.purpose),
                "state": r.state,
                "channel": r.channel,
                "notice": str(r.notice),
                "receipt": str(r.receipt),
            }
            for r in ConsentRecord.objects.filter(person=person)
            .select_related("notice")
            .order_by("-recorded_at")
        ],
        "contact_requests": [
            {
                "requested_at": r.requested_at,
                "method": r.method,
                "method_label": str(methods.get(r.method, r.method)),
                "phone": r.phone,
                "email": r.email,
                "name": r.name,
                "language": r.language,
                "situation": str(situations.get(r.situation, "")),
                "help_wanted": str(helps.get(r.help_wanted, "")),
                "closed_at": r.closed_at,
                "closed_reason": r.closed_reason,
            }
            for r in person.contact_requests.order_by("-requested_at")
        ],
        "lists": lists,
        "decisions": decisions,
    }


@login_required
def page(request: HttpRequest) -> HttpResponse:
    """``/omat-tiedot/``: the person's data, with one-click withdrawals."""
    person = person_of(request)
    lang = page_language()
    _state, ending = reminders(person, consent.purposes(lang))
    data = gather(person, lang, clock.today(settings.TIME_ZONE))
    context = {
        "person": person,
        "masked_code": data["person"]["identity_code"],
        "ending": ending,
        "data": data,
        "withdrawn": request.GET.get("withdrawn", ""),
        "lists_busy": request.GET.get("lists") == "busy",
        "open_request": contact.open_requests(person).exists(),
    }
    return private(render(request, "portal/my_data.html", context))


@login_required
def download(request: HttpRequest) -> HttpResponse:
    """``/omat-tiedot.json``: the same as a file (GDPR articles 15 and 20)."""
    person = person_of(request)
    data = gather(person, page_language(), clock.today(settings.TIME_ZONE))
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = 'attachment; filename="omat-tiedot.json"'
    return private(response)
