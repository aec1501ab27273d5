"""Arrivals and later steps counted per channel, day and step, with nothing else kept: the
arrival page sets no cookie, the channel travels into the login's session, and
``portal.counts.table`` gives the figures to the reports."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urljoin

import pytest
import requests

from flows import clock
from portal import counts
from portal.models import ArrivalCount

pytestmark = pytest.mark.django_db


def test_counts_per_channel_day_and_step(portal_url, oidc_provider) -> None:
    for query in ("?c=jodel", "?c=jodel&lang=sv", "?c=school", "?c=nosuch", ""):
        page = requests.get(f"{portal_url}/{query}", timeout=10)
        assert page.ok and "Set-Cookie" not in page.headers  # nothing on the device
    # The arrival page's notice link carries the channel; opening it counts "notice".
    arrival = requests.get(f"{portal_url}/?c=jodel", timeout=10).text
    link = re.search(r'href="(/tietosuoja/\?[^"]+)"', arrival).group(1).replace("&amp;", "&")
    assert "c=jodel" in link
    page = requests.get(portal_url + link, timeout=10)
    assert page.ok and "Set-Cookie" not in page.headers

    browser = requests.Session()  # from the school's link into the login
    page = browser.get(f"{portal_url}/oidc/authenticate/?c=school", timeout=10)
    for prompt, data in (("login", {"login": oidc_provider.persons["young"].sub}), ("consent", {})):
        action = re.search(r'action="([^"]+)"', page.text).group(1)
        page = browser.post(
            urljoin(page.url, action), data={"prompt": prompt, "password": "x", **data}
        )
    assert "/postinumero/" in page.url
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    consent = browser.get(f"{portal_url}/suostumus/", timeout=10).text
    notice = re.search(r'name="notice" value="([^"]+)"', consent).group(1)
    form = {"csrfmiddlewaretoken": token, "notice": notice, "purpose": ["scoring", "contact"]}
    browser.post(f"{portal_url}/suostumus/", data=form, headers={"Referer": portal_url + "/"})
    browser.post(
        f"{portal_url}/peru/contact/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": portal_url + "/"},
    )

    today = clock.today("Europe/Helsinki")
    rows = {(r.channel, r.step): r.n for r in ArrivalCount.objects.filter(day=today)}
    assert rows == {
        ("jodel", "arrival"): 3,
        ("jodel", "notice"): 1,
        ("school", "arrival"): 1,
        ("school", "login"): 1,
        ("school", "consent"): 1,
        ("school", "withdrawal"): 1,
    }
    table = counts.table()
    assert table.columns == ["day", "channel", *ArrivalCount.STEPS]
    assert table.filter(channel="school").row(0, named=True) == {
        "day": today,
        "channel": "school",
        "arrival": 1,
        "notice": 0,
        "login": 1,
        "consent": 1,
        "contact_request": 0,
        "withdrawal": 1,
        "erasure": 0,
    }
    assert table.filter(channel="jodel")[["arrival", "notice"]].row(0) == (3, 1)


def test_count_adds_up_per_day_and_refuses_unknown_steps() -> None:
    today = clock.today("Europe/Helsinki")
    for _ in range(3):
        counts.count("poster", "arrival", today)
    counts.count("poster", "arrival", today - timedelta(days=1))
    counts.count("not-a-channel", "login", today)  # an unknown channel counts as direct
    assert ArrivalCount.objects.get(day=today, channel="poster", step="arrival").n == 3
    assert ArrivalCount.objects.get(day=today, channel="direct", step="login").n == 1
    assert counts.table(since=today)["channel"].to_list() == ["direct", "poster"]
    with pytest.raises(ValueError, match="unknown step"):
        counts.count("poster", "clicked")
    assert counts.table(since=today + timedelta(days=1)).height == 0
