"""One view per page; server-rendered, no JavaScript, no cookie before login."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from portal import consent
from portal.consent_views import reminders
from portal.identity import mask
from portal.refusals import REASONS, SESSION_KEY


def partner_labels() -> list[str]:
    """The partners' names in the page's language (the Ennakko config's ``label``)."""
    lang = get_language() or settings.LANGUAGE_CODE
    lang = lang if lang in ("fi", "sv", "en") else "fi"
    return [getattr(spec.label, lang) for spec in settings.ENNAKKO.partners.values()]


def index(request: HttpRequest) -> HttpResponse:
    """Arrival from a channel link ``/?c=<channel>``: what this is, then the login button.

    Reads nothing from the session and sets no cookie (the session is not touched)."""
    channel = request.GET.get("c", "")
    context = {
        "channel": channel if channel in settings.PORTAL_CHANNELS else "",
        "partners": partner_labels(),
        "age_min": settings.PORTAL_AGE_RANGE[0],
        "age_max": settings.PORTAL_AGE_RANGE[1],
    }
    return render(request, "portal/index.html", context)


def notice(request: HttpRequest) -> HttpResponse:
    """The privacy notice (its short form until the versioned notices arrive)."""
    context = {
        "controller": settings.ENNAKKO.privacy.controller,
        "partners": partner_labels(),
        "version": consent.NOTICE_VERSION,
    }
    return render(request, "portal/notice.html", context)


def login_failed(request: HttpRequest) -> HttpResponse:
    """A kind explanation of a refused login; nothing about the person was stored."""
    reason = request.session.pop(SESSION_KEY, "") if request.session else ""
    context = {
        "reason": reason if reason in REASONS else "",
        "age_min": settings.PORTAL_AGE_RANGE[0],
        "age_max": settings.PORTAL_AGE_RANGE[1],
    }
    return render(request, "portal/login_failed.html", context, status=403)


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """What the portal holds about the logged-in person (so far: the login itself)."""
    person = request.user.person
    _state, ending = reminders(person, consent.language(get_language()))
    context = {
        "person": person,
        "masked_code": mask(person.encrypted_identity_code),
        "ending": ending,
    }
    response = render(request, "portal/my_data.html", context)
    response["Cache-Control"] = "no-store"
    return response
