"""Consent in a real browser at 320 px: log in, tick scoring, contact and one partner,
save, and read the receipt, all without sideways scrolling or JavaScript of our own."""

from __future__ import annotations

from portal.models import ConsentRecord
from tests.portal.conftest import PHONE_WIDTH, log_in_at_provider, phone


def test_consent_at_320_px(chromium: str, portal_url: str, oidc_provider, tmp_path) -> None:
    person = oidc_provider.persons["young"]
    with phone(chromium) as context:
        page = context.new_page()
        page.goto(f"{portal_url}/oidc/authenticate/")
        log_in_at_provider(page, portal_url, person.sub)

        page.goto(f"{portal_url}/suostumus/?c=jodel")
        assert page.inner_text("h1") == "Suostumuksesi"
        boxes = page.locator("input[type=checkbox]")
        assert boxes.count() == 6
        assert not any(boxes.nth(i).is_checked() for i in range(6))  # none pre-ticked
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        page.screenshot(path=str(tmp_path / "consent-320.png"), full_page=True)
        page.get_by_label("Pisteytys").check()
        page.get_by_label("Yhteydenotto").check()
        page.get_by_label("Ammattiopisto").check()
        page.get_by_role("button", name="Tallenna valintani").click()

        page.wait_for_url(f"{portal_url}/kuitti/**")
        assert page.inner_text("h1") == "Kuitti"
        assert page.inner_text("#saved") == "Valintasi on tallennettu."
        assert "Ammattiopisto: suostumus annettu" in page.inner_text("#changes")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        page.screenshot(path=str(tmp_path / "receipt-320.png"), full_page=True)
    given = set(ConsentRecord.objects.values_list("purpose", "channel"))
    assert given == {("scoring", "jodel"), ("contact", "jodel"), ("source:school", "jodel")}
    methods = set(ConsentRecord.objects.values_list("collection_method", flat=True))
    assert methods == {"web-form:oidc-suomi_fi"}  # the login's amr
