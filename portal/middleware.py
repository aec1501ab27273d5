"""The page language: ``?lang=fi|sv|en`` wins over the browser's Accept-Language.

No cookie is set for it: before login the language comes from the address or the
browser only, so the arrival page stores nothing on the young person's device.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


def language_from_query(get_response: Callable[[HttpRequest], HttpResponse]):
    """Middleware (after LocaleMiddleware): activate ``?lang=`` when it names a language."""
    known = {code for code, _ in settings.LANGUAGES}

    def middleware(request: HttpRequest) -> HttpResponse:
        lang = request.GET.get("lang", "")
        if lang in known:
            translation.activate(lang)
            request.LANGUAGE_CODE = lang
        return get_response(request)

    return middleware
