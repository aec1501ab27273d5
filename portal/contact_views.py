"""The pages after login that change something: postal code, "contact me", withdrawals.

Each form posts with CSRF and redirects (no JavaScript). ``/postinumero/`` asks once for
the postal code and language (the team follows from the postal code); ``/ota-yhteytta/``
records a "contact me" when a valid contact consent allows it; ``/peru/<purpose>/`` and
``/ala-ota-yhteytta/`` withdraw with one click through ``portal.consent`` (the consent
page's own path) and take the person off lists published today (``portal.ennakko``).
After every change the exports for the nightly job are written again.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from flows import clock
from portal import consent, contact, counts, exports
from portal.consent_views import page_language, person_of, private
from portal.refusals import AMR_SESSION_KEY

log = logging.getLogger(__name__)
POSTAL_CODE = re.compile(r"^[0-9]{5}$")


def team_by_prefix() -> dict[str, str]:
    """Postal-code prefix to team: ``PORTAL_TEAM_BY_PREFIX`` if configured, else the
    synthetic city's map of Helsinki (``synth.city.TEAM_BY_PREFIX``)."""
    configured = getattr(settings, "PORTAL_TEAM_BY_PREFIX", None)
    if configured:
        return dict(configured)
    from synth.city import TEAM_BY_PREFIX

    return dict(TEAM_BY_PREFIX)


def team_for(postal_code: str) -> str | None:
    """The team serving ``postal_code`` (by its longest known prefix), or None."""
    table = team_by_prefix()
    for length in range(len(postal_code), 0, -1):
        if postal_code[:length] in table:
            return table[postal_code[:length]]
    return None


def safe_next(request: HttpRequest, default: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}):
        return wanted
    return default


@login_required
@require_http_methods(["GET", "POST"])
def home_page(request: HttpRequest) -> HttpResponse:
    """Postal code and language, asked once after the first login (changeable later)."""
    person = person_of(request)
    lang = page_language()
    errors: dict[str, str] = {}
    values = {"postal_code": person.postal_code, "language": person.language or lang}
    if request.method == "POST":
        values = {
            "postal_code": request.POST.get("postal_code", "").strip(),
            "language": request.POST.get("language", ""),
        }
        team = None
        if not POSTAL_CODE.match(values["postal_code"]):
            errors["postal_code"] = contact.MESSAGES["postal_code"]
        else:
            team = team_for(values["postal_code"])
            if team is None:
                errors["postal_code"] = contact.MESSAGES["not_served"]
        if values["language"] not in dict(contact.LANGUAGES):
            errors["language"] = contact.MESSAGES["language"]
        if not errors:
            person.postal_code, person.language, person.team = (
                values["postal_code"],
                values["language"],
                team,
            )
            person.save(update_fields=["postal_code", "language", "team"])
            exports.after_change()
            return redirect(safe_next(request, f"{reverse('consent')}?lang={lang}"))
    context = {
        "values": values,
        "errors": errors,
        "languages": contact.LANGUAGES,
        "next": safe_next(request, ""),
    }
    return private(render(request, "portal/home.html", context, status=400 if errors else 200))


@login_required
@require_http_methods(["GET", "POST"])
def contact_page(request: HttpRequest) -> HttpResponse:
    """ "Contact me": only with a valid contact consent; shows the stored request after."""
    from flows.audit import AuditBroken

    person = person_of(request)
    lang = page_language()
    allowed = "contact" in consent.granted(person, clock.today(settings.TIME_ZONE))
    values = {"language": person.language or lang}
    errors: dict[str, str] = {}
    failed = False
    name = contact.unseal_name(request.session.get(contact.NAME_SESSION_KEY))
    if request.method == "POST" and allowed:
        values, errors = contact.clean(request.POST)
        if not errors:
            channel = counts.channel_of(request)
            try:
                contact.ask(person, values, name, channel)
            except (AuditBroken, OSError, IntegrityError) as error:  # nothing was stored
                log.warning("contact request not stored: %s", type(error).__name__)
                failed = True
            else:
                counts.count(channel, "contact_request")
                exports.after_change()
                return redirect(f"{reverse('contact')}?sent=1&lang={lang}")
    context = {
        "allowed": allowed,
        "values": values,
        "errors": errors,
        "failed": failed,
        "sent": request.GET.get("sent") == "1",
        "name": name,
        "open": contact.open_requests(person).last(),
        "methods": contact.METHODS,
        "languages": contact.LANGUAGES,
        "situations": contact.SITUATIONS,
        "helps": contact.HELP,
    }
    status = 503 if failed else (400 if errors else 200)
    return private(render(request, "portal/contact.html", context, status=status))


def take_off_lists(person) -> str:
    """Take the person off today's published lists: ``""`` when done, ``"busy"`` when the
    nightly job held the workspace (the next list leaves them out all the same)."""
    from features.errors import SourceError
    from portal.ennakko import unlist

    try:
        unlist(person.person_id)
    except (SourceError, OSError) as error:  # busy or unwritable: never the person's data
        log.warning("not taken off today's lists: %s", type(error).__name__)
        return "busy"
    return ""


def withdrawn_redirect(request: HttpRequest, what: str, problem: str) -> HttpResponse:
    query = {"withdrawn": what, "lang": page_language()}
    if problem:
        query["lists"] = problem
    return redirect(f"{reverse('my_data')}?{urlencode(query)}")


@login_required
@require_POST
def withdraw(request: HttpRequest, purpose: str) -> HttpResponse:
    """One-click withdrawal of one purpose (its token) or of ``all``."""
    from flows.audit import AuditBroken

    person = person_of(request)
    lang = page_language()
    tokens = {p.token for p in consent.purposes(lang)}
    if purpose != "all" and purpose not in tokens:
        return redirect(f"{reverse('my_data')}?lang={lang}")
    channel = counts.channel_of(request)
    try:
        receipt = consent.withdraw(
            person,
            purpose,
            consent.notice(consent.NOTICE_VERSION, lang),
            channel,
            request.session.get(AMR_SESSION_KEY, "unknown"),
        )
    except (AuditBroken, OSError, IntegrityError) as error:
        log.warning("withdrawal not stored: %s", type(error).__name__)
        return withdrawn_redirect(request, "failed", "")
    if receipt is None:
        return withdrawn_redirect(request, "none", "")
    counts.count(channel, "withdrawal")
    exports.after_change()
    return withdrawn_redirect(request, str(receipt), take_off_lists(person))


@login_required
@require_POST
def do_not_contact(request: HttpRequest) -> HttpResponse:
    """ "Do not contact me": withdraw ``contact`` and close every open request."""
    from flows.audit import AuditBroken

    person = person_of(request)
    lang = page_language()
    channel = counts.channel_of(request)
    try:
        receipt = consent.withdraw(
            person,
            "contact",
            consent.notice(consent.NOTICE_VERSION, lang),
            channel,
            request.session.get(AMR_SESSION_KEY, "unknown"),
        )
        closed = contact.close_all(person, "do_not_contact")
    except (AuditBroken, OSError, IntegrityError) as error:
        log.warning("do-not-contact not stored: %s", type(error).__name__)
        return withdrawn_redirect(request, "failed", "")
    if receipt is None and not closed:
        return withdrawn_redirect(request, "none", "")
    counts.count(channel, "withdrawal")
    exports.after_change()
    return withdrawn_redirect(request, "contact", take_off_lists(person))
