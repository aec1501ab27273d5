"""``/poista/``: erase everything, after saying in plain words what goes and that it is final.

GET explains; a POST with the confirmation box ticked (and CSRF) erases through
``portal.erasure.erase_person``, logs the person out and redirects to ``/poistettu/``.
A POST without the box erases nothing. A busy workspace (a nightly run holding the lock)
gets a kind "try again in a moment" page with status 503; nothing is erased then.
"""

from __future__ import annotations

import logging

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal import counts
from portal.consent_views import page_language, person_of, private

log = logging.getLogger(__name__)


@login_required
@require_http_methods(["GET", "POST"])
def erase_page(request: HttpRequest) -> HttpResponse:
    """What an erasure removes, a confirmation box, and the erasure itself on POST."""
    from features.errors import SourceError
    from portal.erasure import REASON_PAGE, BusyError, erase_person

    person = person_of(request)
    lang = page_language()
    context = {
        "records": person.consents.count(),
        "missing_confirmation": False,
        "problem": "",
    }
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            context["missing_confirmation"] = True
            return private(render(request, "portal/erase.html", context, status=400))
        try:
            erase_person(person, REASON_PAGE, via="page")
        except BusyError:
            context["problem"] = "busy"
        except SourceError as exc:
            log.error("erasure from the portal failed: %s", type(exc).__name__)
            context["problem"] = "failed"
        if context["problem"]:
            return private(render(request, "portal/erase.html", context, status=503))
        counts.count(counts.channel_of(request), "erasure")
        logout(request)
        return redirect(f"{reverse('erased')}?lang={lang}")
    return private(render(request, "portal/erase.html", context))


def erased_page(request: HttpRequest) -> HttpResponse:
    """Done: nothing of the person is left to show (they are logged out)."""
    return private(render(request, "portal/erased.html", {}))
