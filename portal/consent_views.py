"""The consent page and its receipts: a form POST with CSRF, then a redirect (no JavaScript).

``/suostumus/`` shows one unticked checkbox per purpose (a purpose the person has
consented to, and still may, shows as ticked: their own earlier choice) and a reminder
when a consent ends within the configured warning period. A submitted change redirects
to its receipt ``/kuitti/<id>/``; ``/kuitti/<id>.json`` downloads it.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from flows import clock
from portal import consent, counts, exports, receipts
from portal.refusals import AMR_SESSION_KEY

log = logging.getLogger(__name__)


def page_language() -> str:
    return consent.language(get_language())


def private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def person_of(request: HttpRequest):
    """The logged-in person (a login without one, e.g. made by a token, sees nothing)."""
    person = getattr(request.user, "person", None)
    if person is None:
        raise Http404
    return person


def reminders(person, choices: list[consent.Purpose]) -> tuple[dict, list]:
    """Today's state per purpose, and the purposes (with their end dates) ending soon."""
    state = consent.state_for(person, clock.today(settings.TIME_ZONE))
    labels = {p.token: p.label for p in choices}
    ending = [
        {"label": labels.get(token, token), "expires_at": s["expires_at"]}
        for token, s in state.items()
        if s["expiring_soon"]
    ]
    return state, ending


def settle(person, receipt: uuid.UUID, channel: str) -> None:
    """After a stored change: count it, export for the nightly job, and take the person off
    today's published lists when the change withdrew something."""
    counts.count(channel, "consent")
    exports.after_change()
    if any(r.state == "withdrawn" for r in receipts.records(person, receipt)):
        from portal.contact_views import take_off_lists

        take_off_lists(person)


@login_required
@require_http_methods(["GET", "POST"])
def consent_page(request: HttpRequest) -> HttpResponse:
    person = person_of(request)
    lang = page_language()
    shown = consent.Shown(consent.NOTICE_VERSION, lang)  # the form's; no query to show it
    channel = request.POST.get("c") or request.GET.get("c") or counts.channel_of(request)
    channel = counts.channel_in(channel)
    error = ""
    if request.method == "POST":
        from flows.audit import AuditBroken

        choices = {p.token for p in consent.purposes(lang)}
        chosen = set(request.POST.getlist("purpose")) & choices
        if request.POST.get("notice") != str(shown):
            error = "notice"  # the notice changed while the page was open: show it again
        else:
            try:
                receipt = consent.record_changes(
                    person,
                    chosen,
                    consent.notice(shown.version, shown.language),
                    channel,
                    request.session.get(AMR_SESSION_KEY, "unknown"),
                )
            except (AuditBroken, OSError, IntegrityError) as failed:  # nothing was stored
                # The audit log refused the entry, or a second submit raced this one. The
                # class only: a database's message may quote values.
                log.warning("consent change not stored: %s", type(failed).__name__)
                error = "later"
            else:
                if receipt is None:
                    return redirect(f"{reverse('consent')}?saved=none&lang={lang}")
                settle(person, receipt, channel)
                return redirect(f"{reverse('receipt', args=[receipt])}?lang={lang}")
    choices = consent.purposes(lang)
    state, ending = reminders(person, choices)
    rows = [
        {"purpose": p, "checked": state.get(p.token, {}).get("granted", False)} for p in choices
    ]
    context = {
        "rows": rows,
        "ending": ending,
        "notice": shown,
        "channel_value": channel,
        "error": error,
        "unchanged": request.GET.get("saved") == "none",
        "consent_days": settings.PORTAL_CONSENT_DAYS,
    }
    status = 200 if not error else (409 if error == "notice" else 503)
    return private(render(request, "portal/consent.html", context, status=status))


def found_records(request: HttpRequest, receipt: uuid.UUID) -> list:
    found = receipts.records(person_of(request), receipt)
    if not found:
        raise Http404
    return found


@login_required
def receipt_page(request: HttpRequest, receipt: uuid.UUID) -> HttpResponse:
    found = found_records(request, receipt)
    labels = {p.token: p.label for p in consent.purposes(page_language())}
    rows = [{"record": r, "label": labels.get(r.purpose, r.purpose)} for r in found]
    context = {"receipt": receipt, "rows": rows, "first": found[0]}
    return private(render(request, "portal/receipt.html", context))


@login_required
def receipt_download(request: HttpRequest, receipt: uuid.UUID) -> HttpResponse:
    found = found_records(request, receipt)
    body = receipts.receipt_json(person_of(request), receipt, found)
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="kuitti-{receipt}.json"'
    return private(response)


def notice_version(request: HttpRequest, version: str) -> HttpResponse:
    """The full privacy notice ``version`` in the page's language, as its file holds it."""
    lang = page_language()
    if version != consent.NOTICE_VERSION:
        raise Http404
    shown = consent.notice(version, lang)
    context = {"notice": shown, "text": consent.notice_text(version, lang)}
    return render(request, "portal/notice_version.html", context)
