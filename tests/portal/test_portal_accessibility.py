"""Every portal page passes axe with no serious or critical violation, in Finnish, Swedish
and English, at 320 px, and the consent journey works with the keyboard alone.

One browser session walks every page a young person can reach (issue 14, "Done when"):
arrival, notices, the refused login, the accessibility statement, a page not found, the
postal code page (and its error), consent and receipt, "contact me" (form, error, sent),
my data, the erasure page (and its error), a refused form (CSRF), too many tries, and the
done page after erasing; the error pages Django renders itself (400, 403, 500) are shown
from their templates. On each: axe, no sideways scroll at 320 px, ``<html lang>`` the
page's language, a footer link to the accessibility statement, a screenshot in tmp_path. A page whose check fails is named with its
language, the axe rule and the element, all at once at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from portal.models import ConsentRecord, ContactRequest, Person
from tests.portal.conftest import PHONE_WIDTH, log_in_at_provider, phone

LANGS = ("fi", "sv", "en")
SERIOUS = {"serious", "critical"}
# Headings, legends and buttons whose longest word is wider than their box at 320 px (the
# stylesheet would break it mid-word: hard to read). Checked by turning word breaking off.
BROKEN_WORDS = """() => [...document.querySelectorAll('h1, h2, legend, label, .button')]
  .filter(e => { const saved = e.style.overflowWrap; e.style.overflowWrap = 'normal';
    const over = e.scrollWidth > e.clientWidth + 1; e.style.overflowWrap = saved; return over; })
  .map(e => e.textContent.trim().slice(0, 60))"""


@dataclass
class Walk:
    """A page-by-page checker that keeps every problem it finds (it never stops early)."""

    page: object
    base: str
    shots: Path
    axe: object
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def visit(self, name: str, path: str, lang: str, status: int = 200) -> None:
        """Open ``path`` in ``lang`` (``?lang=``), expect ``status``, then check it."""
        sep = "&" if "?" in path else "?"
        response = self.page.goto(f"{self.base}{path}{sep}lang={lang}")
        if response.status != status:
            self.problems.append(f"{name} [{lang}]: HTTP {response.status}, not {status}")
        self.check(name, lang)

    def check(self, name: str, lang: str) -> None:
        """axe, the page's language, no sideways scroll, and a screenshot."""
        page = self.page
        self.checked.append(f"{name}-{lang}")
        html_lang = page.evaluate("document.documentElement.lang")
        if html_lang != lang:
            self.problems.append(f"{name} [{lang}]: <html lang={html_lang!r}>")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE_WIDTH:
            self.problems.append(f"{name} [{lang}]: {width} px wide, scrolls sideways")
        for text in page.evaluate(BROKEN_WORDS):
            self.problems.append(f"{name} [{lang}]: a word does not fit its line in {text!r}")
        if page.locator("footer a[href^='/saavutettavuus/']").count() != 1:
            self.problems.append(f"{name} [{lang}]: no link to the accessibility statement")
        if page.locator("h1").count() != 1:
            self.problems.append(f"{name} [{lang}]: not exactly one <h1>")
        result = self.axe.run(page).response
        if len(result["passes"]) < 20:  # axe ran its rules on a real page
            self.problems.append(f"{name} [{lang}]: axe checked only {len(result['passes'])} rules")
        for rule in result["violations"]:
            if rule["impact"] in SERIOUS:
                for node in rule["nodes"]:
                    self.problems.append(
                        f"{name} [{lang}]: {rule['impact']} {rule['id']} at {node['target']}"
                        f" ({rule['help']})"
                    )
        page.screenshot(path=str(self.shots / f"{name}-{lang}.png"), full_page=True)


def test_every_page_accessible_in_three_languages(
    chromium: str, portal_url: str, oidc_provider, settings, tmp_path
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    person = oidc_provider.persons["young"]
    with phone(chromium) as context:
        page = context.new_page()
        walk = Walk(page, portal_url, tmp_path, Axe())
        before_login(walk)
        page.goto(f"{portal_url}/oidc/authenticate/?c=jodel")
        log_in_at_provider(page, portal_url, person.sub, home=None)
        postal_code_pages(walk)
        consent_by_keyboard(walk)
        consent_pages(walk)
        contact_pages(walk)
        my_data_and_erase(walk, settings)
    assert not walk.problems, "\n".join(walk.problems)
    assert len(walk.checked) == len(set(walk.checked)) >= 60
    assert not Person.objects.exists()  # erased at the end of the walk
    assert not ConsentRecord.objects.exists() and not ContactRequest.objects.exists()


def before_login(walk: Walk) -> None:
    """The pages anyone sees without logging in."""
    for lang in LANGS:
        walk.visit("arrival", "/?c=jodel", lang)
        walk.visit("notice", "/tietosuoja/", lang)
        walk.visit("notice-v1", "/tietosuoja/v1/", lang)
        if walk.page.locator("main h2").count() < 4:  # the notice's parts, by their headings
            walk.problems.append(f"notice-v1 [{lang}]: the notice's parts have no headings")
        walk.visit("login-refused", "/kirjautuminen-epaonnistui/", lang, status=403)
        walk.visit("statement", "/saavutettavuus/", lang)
        statement = walk.page.inner_text("main")
        assert "WCAG 2.1" in statement and "Traficom" in statement
        assert walk.page.locator("a[href='https://www.saavutettavuusvaatimukset.fi/']").count()
        walk.visit("not-found", "/ei-tallaista-sivua/", lang, status=404)


def postal_code_pages(walk: Walk) -> None:
    """The first login's postal code page, its error, then a valid answer."""
    page = walk.page
    for lang in LANGS:
        walk.visit("postal-code", "/postinumero/", lang)
        page.fill("#postal_code", "123")
        page.click("button[type=submit]")
        walk.check("postal-code-error", lang)
    page.fill("#postal_code", "00100")
    page.check("#lang-fi")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def focus_ring(page) -> str:
    """The focused element's id and whether the page's own focus outline shows on it."""
    return page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
        const shown = s.outlineStyle === 'solid' && parseFloat(s.outlineWidth) >= 2;
        return (e.id || e.tagName.toLowerCase()) + (shown ? '' : ' (no visible focus)'); }"""
    )


def tab_to(page, wanted: str, seen: list[str], limit: int = 30) -> None:
    """Press Tab until the element with id ``wanted`` has focus, noting each stop."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(focus_ring(page))
        if seen[-1].split(" ")[0] == wanted:
            return
    raise AssertionError(f"Tab never reached #{wanted}: {seen}")


def consent_by_keyboard(walk: Walk) -> None:
    """Consent with the keyboard alone: Tab to scoring and contact, Space, Tab to the
    button, Enter; the receipt shows. Every focus stop shows the page's outline."""
    page = walk.page
    walk.visit("consent", "/suostumus/", "fi")
    stops: list[str] = []
    tab_to(page, "p-1", stops)
    page.keyboard.press("Space")
    tab_to(page, "p-2", stops)
    page.keyboard.press("Space")
    tab_to(page, "save", stops)
    assert page.is_checked("#p-1") and page.is_checked("#p-2")
    assert not any(page.is_checked(f"#p-{n}") for n in range(3, 7))  # passed by, not ticked
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/kuitti/[0-9a-f-]+/.*"))
    assert page.inner_text("#saved") == "Valintasi on tallennettu."
    changes = page.inner_text("#changes")
    assert (
        "Pisteytys: suostumus annettu" in changes and "Yhteydenotto: suostumus annettu" in changes
    )
    assert changes.count("suostumus annettu") == 2
    hidden = [s for s in stops if "no visible focus" in s]
    assert not hidden, f"focus not visible on: {hidden}"
    walk.check("receipt", "fi")


def consent_pages(walk: Walk) -> None:
    receipt = walk.page.url.split("?")[0].removeprefix(walk.base)
    for lang in ("sv", "en"):
        walk.visit("consent", "/suostumus/", lang)
        walk.visit("receipt", receipt, lang)


def contact_pages(walk: Walk) -> None:
    """ "Contact me": an empty form's errors, then a request by keyboard alone."""
    page = walk.page
    for lang in LANGS:
        walk.visit("contact", "/ota-yhteytta/", lang)
        page.check("#method-email")
        page.fill("#email", "x")
        page.click("#contact-form button[type=submit]")
        assert page.is_visible("#email-error") and page.is_visible("#errors")
        walk.check("contact-error", lang)
    page.goto(f"{walk.base}/ota-yhteytta/?lang=fi")
    stops: list[str] = []
    tab_to(page, "method-phone", stops)
    page.keyboard.press("Space")
    tab_to(page, "phone", stops)
    page.keyboard.type("040 123 4567")
    tab_to(page, "language-fi", stops)
    page.keyboard.press("Space")
    tab_to(page, "send", stops)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*sent=1.*"))
    assert page.is_visible("#sent")
    hidden = [s for s in stops if "no visible focus" in s]
    assert not hidden, f"focus not visible on: {hidden}"
    for lang in LANGS:
        walk.visit("contact-sent", "/ota-yhteytta/?sent=1", lang)


def my_data_and_erase(walk: Walk, settings) -> None:
    """My data (and after a withdrawal), the erasure page and its error, a refused form,
    too many tries, the error templates Django renders, then erase and the done page."""
    page = walk.page
    for lang in LANGS:
        walk.visit("my-data", "/omat-tiedot/", lang)
        walk.visit("erase", "/poista/", lang)
        page.click("#erase-form button[type=submit]")  # the box not ticked
        walk.check("erase-unconfirmed", lang)
        page.evaluate("document.querySelector('[name=csrfmiddlewaretoken]').value = 'x'.repeat(64)")
        page.click("#erase-form button[type=submit]")
        walk.check("form-refused", lang)
    page.goto(f"{walk.base}/omat-tiedot/?lang=fi")
    page.click("#consents form button")  # withdraw the first consent, one click
    page.wait_for_url(re.compile(r".*withdrawn=.*"))
    assert page.is_visible("#withdrawn")
    withdrawn = page.url.removeprefix(walk.base).replace("lang=fi", "").rstrip("&?")
    for lang in LANGS:
        walk.visit("my-data-withdrawn", withdrawn, lang)
    limits = settings.PORTAL_RATE_LIMITS
    settings.PORTAL_RATE_LIMITS = {**limits, "login": 0}
    for lang in LANGS:
        walk.visit("too-many", "/oidc/authenticate/", lang, status=429)
    settings.PORTAL_RATE_LIMITS = limits
    error_templates(walk)
    page.goto(f"{walk.base}/poista/?lang=fi")
    page.check("#confirm")
    page.click("#erase-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/poistettu/.*"))
    for lang in LANGS:
        walk.visit("erased", "/poistettu/", lang)


def error_templates(walk: Walk) -> None:
    """400, 403 and 500: Django renders these templates itself when something breaks;
    shown here from the templates, served at made-up addresses of the portal."""
    from django.template.loader import render_to_string
    from django.utils import translation

    pages = {}
    for code in ("400", "403", "500"):
        for lang in LANGS:
            with translation.override(lang):
                pages[f"{walk.base}/__error/{code}/{lang}/"] = render_to_string(f"{code}.html")

    def serve(route) -> None:
        route.fulfill(body=pages[route.request.url], content_type="text/html")

    walk.page.route(re.compile(r".*/__error/.*"), serve)
    for url in pages:
        code, lang = url.split("/")[-3:-1]
        walk.page.goto(url)
        walk.check(f"error-{code}", lang)
    walk.page.unroute(re.compile(r".*/__error/.*"))


def test_notice_text_gets_headings_and_lists_and_stays_escaped() -> None:
    """The notice filter adds structure only: every word kept, markup in the text escaped."""
    from portal.templatetags.notice_text import notice_html

    text = "Title, version 1\n\nWho <runs> it?\nThe city & co.\n\nWhich data:\n- one\n- two\nLast."
    assert notice_html(text) == (
        "<p>Title, version 1</p>\n<h2>Who &lt;runs&gt; it?</h2>\n<p>The city &amp; co.</p>\n"
        "<p>Which data:</p>\n<ul><li>one</li><li>two</li></ul>\n<p>Last.</p>"
    )
