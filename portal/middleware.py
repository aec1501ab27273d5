"""The portal's middleware: the page language, private pages and rate limits.

The page language: ``?lang=fi|sv|en`` wins over the browser's Accept-Language. No cookie
is set for it: before login the language comes from the address or the browser only, so
the arrival page stores nothing on the young person's device.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import salted_hmac

from flows import clock


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


def private_pages(get_response: Callable[[HttpRequest], HttpResponse]):
    """Middleware (after AuthenticationMiddleware): a logged-in person's pages, any answer
    that opens a session and any answer to a token's call, are never stored by the browser or a proxy
    (``Cache-Control: no-store``): a shared phone's back button shows nothing personal."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if request.path.startswith(settings.STATIC_URL) or "no-store" in response.get(
            "Cache-Control", ""
        ):
            return response
        user = getattr(request, "user", None)
        cookie = settings.SESSION_COOKIE_NAME in response.cookies
        token = "HTTP_AUTHORIZATION" in request.META  # the GDPR API's callers
        if cookie or token or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
        return response

    return middleware


# Which limit a request counts against: the login's two steps, else any form's POST.
LOGIN_PATHS = ("/oidc/authenticate/", "/oidc/callback/")
ANONYMOUS_BUCKETS = 64


def limit_group(request: HttpRequest) -> str:
    """``login``, ``form`` (a POST elsewhere) or ``""`` (not limited)."""
    if request.path in LOGIN_PATHS:
        return "login"
    return "form" if request.method == "POST" else ""


def session_key(request: HttpRequest) -> str | None:
    """The request's session key when its cookie names a live session (a made-up cookie
    gets no fresh counter of its own: it is anonymous)."""
    session = getattr(request, "session", None)
    if session is None or not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        return None
    session.keys()  # loads the session: an unknown key becomes None
    return session.session_key


def session_owner(key: str) -> str:
    """A session's counter name: a keyed hash, never the session key itself."""
    return "s" + salted_hmac("portal-rate", key).hexdigest()[:32]


def who(request: HttpRequest) -> str:
    """The counter's owner: a keyed hash of the session key, or before a session one of
    ANONYMOUS_BUCKETS coarse buckets drawn from the client's address (keyed hash, modulo:
    many addresses share a bucket and no address is stored)."""
    key = session_key(request)
    if key:
        return session_owner(key)
    address = request.META.get("REMOTE_ADDR", "")
    if settings.SECURE_PROXY_SSL_HEADER:  # behind the proxy: the address it saw
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        address = forwarded or address
    digest = salted_hmac("portal-rate-bucket", address).digest()
    return f"a{int.from_bytes(digest[:4], 'big') % ANONYMOUS_BUCKETS}"


def count(group: str, owner: str, minute: int) -> int:
    """This minute's requests of ``owner`` in ``group``, this one included."""
    key = f"portal-rate:{group}:{owner}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        return 1


def rate_limit(get_response: Callable[[HttpRequest], HttpResponse]):
    """Middleware (after SessionMiddleware and the language's): per minute, at most
    ``PORTAL_RATE_LIMITS["login"]`` login steps and ``["form"]`` form posts per session
    (``["anonymous"]`` per path and coarse bucket before a session exists); more answers
    429 with a kind page in the person's language. Counters live in Django's cache."""

    def middleware(request: HttpRequest) -> HttpResponse:
        group = limit_group(request)
        if not group:
            return get_response(request)
        limits = settings.PORTAL_RATE_LIMITS
        minute = int(clock.now("UTC").timestamp() // 60)
        owner = who(request)
        anonymous = owner.startswith("a")
        if anonymous:
            group, limit = f"{group}:{request.path}", limits["anonymous"]
        else:
            limit = limits[group]
        if count(group, owner, minute) > limit:
            return too_many(request)
        response = get_response(request)
        if anonymous:
            opened(request, limit_group(request), minute)
        return response

    return middleware


def opened(request: HttpRequest, group: str, minute: int) -> None:
    """A session this answer opens (the login's start) counts the request that opened it:
    a new session is saved now, for its key (SessionMiddleware saves it again, unchanged)."""
    session = getattr(request, "session", None)
    if session is None or not session.modified or session.is_empty():
        return
    if not session.session_key:
        session.save()
    count(group, session_owner(session.session_key), minute)


def too_many(request: HttpRequest) -> HttpResponse:
    """The kind 429 page: nothing was done, try again in a minute."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response
