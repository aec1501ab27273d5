"""One view per page; server-rendered, no JavaScript, no cookie before login."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from portal import consent, counts
from portal.refusals import REASONS, SESSION_KEY


def partner_labels() -> list[str]:
    """The partners' names in the page's language (the Ennakko config's ``label``)."""
    lang = get_language() or settings.LANGUAGE_CODE
    lang = lang if lang in ("fi", "sv", "en") else "fi"
    return [getattr(spec.label, lang) for spec in settings.ENNAKKO.partners.values()]


def index(request: HttpRequest) -> HttpResponse:
    """Arrival from a channel link ``/?c=<channel>``: what this is, then the login button.

    Reads nothing from the session and sets no cookie (the session is not touched); an
    arrival with a configured channel is counted (day, channel, step: nothing else)."""
    channel = request.GET.get("c", "")
    if channel in settings.PORTAL_CHANNELS:
        counts.count(channel, "arrival")
    context = {
        "channel": channel if channel in settings.PORTAL_CHANNELS else "",
        "partners": partner_labels(),
        "age_min": settings.PORTAL_AGE_RANGE[0],
        "age_max": settings.PORTAL_AGE_RANGE[1],
    }
    return render(request, "portal/index.html", context)


def notice(request: HttpRequest) -> HttpResponse:
    """The privacy notice in short, linking the full versioned text. Opened from the
    arrival page's link (``?c=<channel>``), it counts a ``notice`` step for the channel:
    the funnel's "read the privacy notice", with nothing kept about who read it."""
    channel = request.GET.get("c", "")
    if channel in settings.PORTAL_CHANNELS:
        counts.count(channel, "notice")
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


def login_start(request: HttpRequest) -> HttpResponse:
    """The login link ``/oidc/authenticate/?c=<channel>``: the channel goes into the
    session the login starts anyway (for the later steps' counts), then the code flow."""
    channel = request.GET.get("c", "")
    if channel in settings.PORTAL_CHANNELS:
        request.session[counts.SESSION_KEY] = channel
    return OIDCAuthenticationRequestView.as_view()(request)


class LoginCallback(OIDCAuthenticationCallbackView):
    """The code flow's return: counts the login and, on a first login, asks the postal
    code and language (``/postinumero/``) before anything else (the export needs them)."""

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        counts.count(counts.channel_of(self.request), "login")
        person = getattr(self.user, "person", None)
        if person is not None and not (person.postal_code and person.language and person.team):
            query = urlencode({"next": response.url, "lang": consent.language(get_language())})
            response["Location"] = f"{reverse('home')}?{query}"
        return response
