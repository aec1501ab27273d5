"""Error answers that stay kind and say nothing about the request.

Django's own handlers render ``400.html``, ``403.html``, ``404.html`` and ``500.html``
(portal/templates); they are given the path and the exception, which the templates never
show. A refused form (a missing, stale or altered CSRF token) gets its own page: the
form was too old or changed on the way, nothing was saved, try again.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: 403 with a kind page in the page's language. The reason is
    Django's fixed text (logged by django.security.csrf already), never shown."""
    response = render(request, "403_csrf.html", status=403)
    response["Cache-Control"] = "no-store"
    return response
