"""``/saavutettavuus/``: the accessibility statement the Act on the Provision of Digital
Services (306/2019, the EU Web Accessibility Directive 2016/2102) asks of a public service.

The statement's shape follows the directive's model statement (and the city's own
services): how far the service meets WCAG 2.1 AA, how that was checked, what is known not
to work yet, where to give feedback, and the supervisory authority to turn to when the
answer is not good enough. It is the same for everyone and needs no login.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# When the service was last checked (the statement must say so): the day the axe,
# keyboard and 320 px checks in tests/portal/test_portal_accessibility.py were last
# reviewed by a person. Update it with the statement.
CHECKED_ON = date(2026, 12, 1)
# Where feedback on accessibility goes: the city's feedback service unless configured.
DEFAULT_FEEDBACK_URL = "https://palautteet.hel.fi/"
SUPERVISOR_URL = "https://www.saavutettavuusvaatimukset.fi/"


def statement(request: HttpRequest) -> HttpResponse:
    """The accessibility statement in the page's language (``?lang=``)."""
    context = {
        "checked_on": CHECKED_ON,
        "feedback_url": getattr(settings, "PORTAL_ACCESSIBILITY_FEEDBACK_URL", "")
        or DEFAULT_FEEDBACK_URL,
        "supervisor_url": SUPERVISOR_URL,
    }
    return render(request, "portal/accessibility.html", context)
