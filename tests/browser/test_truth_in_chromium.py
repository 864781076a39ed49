"""The figures each role reads in Chromium at 360 px and 1280 px, at dates before and after the deadline.

The small province of ``conftest``: plan 7 + 2 + 3 = 12 houses from 1 April
(deadline 19 May 2025); by 1 June four houses are finished (two in Xã Một,
two in Xã Ba), none in Xã Hai. Screenshots land in ``.test-results/screenshots/``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_pages_in_chromium import SIZES, _by, follow, no_horizontal_scroll, shoot, sign_in

AFTER = "2025-06-01"


def _rows(browser: Any) -> dict[str, str]:
    by = _by()
    rows = browser.find_elements(by.CSS_SELECTOR, "table.progress tbody tr")
    return {row.find_element(by.CSS_SELECTOR, "td a").text: row.text for row in rows}


@pytest.mark.parametrize("size", list(SIZES))
def test_manager_reads_overdue_units_dots_by_date_and_the_drill_down(
        browser: Any, live_server: str, screenshots: Path, size: str) -> None:
    by = _by()
    browser.set_window_size(*SIZES[size])
    sign_in(browser, live_server)
    browser.get(live_server + f"/?as_of={AFTER}&level=commune")
    rows = _rows(browser)
    assert "quá hạn 13 ngày, còn 5 nhà" in rows["Xã Một"]
    assert "quá hạn 13 ngày, còn 2 nhà" in rows["Xã Hai"]
    assert "-13" not in browser.find_element(by.TAG_NAME, "main").text
    figures = browser.find_element(by.CSS_SELECTOR, "section.figures").text
    assert "4 / 12" in figures and "quá hạn 13 ngày, còn 8 nhà" in figures
    assert "Ngân sách nhà nước theo kế hoạch" in figures
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"truth-dashboard-after-deadline-{size}")

    browser.get(live_server + "/map?as_of=2025-02-15&points=1")
    assert not browser.find_elements(by.CSS_SELECTOR, "svg#map .pts path.s2"), "nothing finished by 15 February"
    assert browser.find_elements(by.CSS_SELECTOR, "svg#map .pts path.s1")
    names = {e.get_attribute("textContent") for e in browser.find_elements(by.CSS_SELECTOR, "svg#map .overname text")}
    assert names == {"Huyện A", "Huyện B"}, "district outlines and names on a map with districts"
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"truth-map-february-{size}")
    browser.get(live_server + f"/map?as_of={AFTER}&points=1")
    assert browser.find_elements(by.CSS_SELECTOR, "svg#map .pts path.s2")

    browser.get(live_server + f"/?as_of={AFTER}")
    follow(browser, browser.find_element(by.LINK_TEXT, "Huyện B").click)
    assert set(_rows(browser)) == {"Xã Ba"}, "a district opens on its own communes"
    crumbs = browser.find_element(by.CSS_SELECTOR, "p.crumbs").text
    assert "Tỉnh Thử" in crumbs and "Huyện B" in crumbs
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"truth-district-{size}")

    browser.get(live_server + f"/report?as_of={AFTER}")
    houses = browser.find_element(by.ID, "report-houses").text
    assert "12" in houses and "33,33 %" in houses
    assert "Xã Một" in browser.find_element(by.ID, "report-late").text
    shoot(browser, screenshots, f"truth-report-{size}")


def test_a_bad_date_in_the_address_reads_as_a_message(browser: Any, live_server: str, screenshots: Path) -> None:
    by = _by()
    browser.set_window_size(*SIZES["phone"])
    sign_in(browser, live_server)
    browser.get(live_server + "/map?as_of=2025-02-30")
    assert "không phải là ngày" in browser.find_element(by.CSS_SELECTOR, "p.msg").text
    assert not browser.find_elements(by.CSS_SELECTOR, "svg#map")
    shoot(browser, screenshots, "truth-bad-date-phone")


def test_the_review_queue_says_what_is_wrong(browser: Any, live_server: str, screenshots: Path) -> None:
    by = _by()
    browser.set_window_size(*SIZES["phone"])
    sign_in(browser, live_server)
    browser.get(live_server + "/review")
    card = next(c for c in browser.find_elements(by.CSS_SELECTOR, "#flagged + ul .card") if "Tòng Văn Pọm" in c.text)
    assert "Điểm GPS là 0, 0: điện thoại chưa bắt được vị trí." in card.text
    chosen = card.find_element(by.CSS_SELECTOR, "select[name=commune]")
    assert chosen.get_attribute("value") == "", "no commune chosen in advance"
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, "truth-review-phone")


@pytest.mark.parametrize("size", list(SIZES))
def test_an_officer_lands_on_their_commune(browser: Any, live_server: str, screenshots: Path, size: str) -> None:
    by = _by()
    browser.set_window_size(*SIZES[size])
    sign_in(browser, live_server, "canbo")
    browser.get(live_server + f"/?as_of={AFTER}")
    assert browser.find_element(by.TAG_NAME, "h1").text.startswith("Xã Hai")
    todo = browser.find_element(by.ID, "todo").find_element(by.XPATH, "..").text
    assert "Sùng A Páo" in todo and "Tòng Văn Pọm" in todo and "chưa xong, đã quá hạn 13 ngày" in todo
    figures = browser.find_element(by.CSS_SELECTOR, "section.figures").text
    assert "0 / 2" in figures
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"truth-officer-home-{size}")
    browser.get(live_server + f"/map?as_of={AFTER}")
    assert len(browser.find_elements(by.CSS_SELECTOR, "svg#map path[data-code]")) == 1
    assert "Xã Hai" in browser.find_element(by.ID, "info").text
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"truth-officer-map-{size}")


def test_a_viewer_reads_their_area_and_may_download_the_households(
        browser: Any, live_server: str, screenshots: Path) -> None:
    by = _by()
    browser.set_window_size(*SIZES["desktop"])
    sign_in(browser, live_server, "xem")
    browser.get(live_server + f"/?as_of={AFTER}&level=commune")
    assert "4 / 10" in browser.find_element(by.CSS_SELECTOR, "section.figures").text
    assert set(_rows(browser)) == {"Xã Một", "Xã Ba"}
    links = [a.get_attribute("href") for a in browser.find_elements(by.CSS_SELECTOR, "p.downloads a")]
    assert any("/export/households.xlsx" in href for href in links)
    assert "Kiểm tra" not in browser.find_element(by.CSS_SELECTOR, "nav.main").text
    shoot(browser, screenshots, "truth-viewer-desktop")
