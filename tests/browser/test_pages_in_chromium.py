"""End to end in headless Chromium: sign in, dashboard, map, a commune, search; phone and desktop sizes.

Screenshots land in ``.test-results/screenshots/`` (CI keeps them as artefacts).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD

SIZES = {"phone": (360, 740), "desktop": (1280, 800)}


def _by() -> Any:
    from selenium.webdriver.common.by import By

    return By


def follow(driver: Any, action: Any) -> None:
    """Click (or submit) and wait until the browser has left the current page.

    A click only starts the navigation: without the wait the next command
    runs against the old page, or a ``driver.get`` races the pending form
    POST and the browser ends up on wherever that POST redirects.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.leftBehind = true")  # a mark only the current document carries
    action()
    # While the page changes the driver may answer with errors: ask again until the new one has loaded.
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return !window.leftBehind && document.readyState === 'complete'"))


def sign_in(driver: Any, url: str, username: str = "quanly") -> None:
    by = _by()
    driver.get(url + "/login")
    driver.find_element(by.ID, "username").send_keys(username)
    driver.find_element(by.ID, "password").send_keys(PASSWORD)
    follow(driver, driver.find_element(by.CSS_SELECTOR, "form.login button[type=submit]").click)
    assert driver.find_elements(by.CSS_SELECTOR, "nav.main"), f"not signed in as {username}"


def no_horizontal_scroll(driver: Any) -> None:
    widths = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"horizontal scroll: page {widths[0]} px wide in a {widths[1]} px window"


def shoot(driver: Any, folder: Path, name: str) -> None:
    """A full-page screenshot: grow the window to the page's height first."""
    width = driver.execute_script("return window.outerWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    original = driver.get_window_size()
    driver.set_window_size(width, min(height + 120, 6000))
    driver.save_screenshot(str(folder / f"{name}.png"))
    driver.set_window_size(original["width"], original["height"])


@pytest.mark.parametrize("size", list(SIZES))
def test_sign_in_dashboard_and_map(browser: Any, live_server: str, screenshots: Path, size: str) -> None:
    by = _by()
    browser.set_window_size(*SIZES[size])
    sign_in(browser, live_server)
    browser.get(live_server + "/?as_of=2025-04-16&level=commune")
    assert browser.find_element(by.TAG_NAME, "html").get_attribute("lang") == "vi"
    figures = browser.find_element(by.CSS_SELECTOR, "section.figures").text
    # plan in force on 16/04: 7 + 2 + 3 = 12; completed: Việt, Đức, Mường, Xa
    assert "4 / 12" in figures and "33,33 %" in figures and "19/05/2025" in figures
    assert browser.find_element(by.CSS_SELECTOR, "svg.chart").is_displayed()
    rows = browser.find_elements(by.CSS_SELECTOR, "table.progress tbody tr")
    assert len(rows) == 3 and "nguy cơ chậm" in rows[0].text, "at-risk communes first"
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"dashboard-{size}")

    browser.get(live_server + "/map?as_of=2025-04-16")
    legend = browser.find_element(by.ID, "legend").text
    assert "Từ 75 % đến dưới 100 %" in legend and "Không có kế hoạch" in legend
    communes = browser.find_elements(by.CSS_SELECTOR, "svg#map a path[data-code]")
    assert len(communes) == 4
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"map-{size}")

    # tap a commune: its figures appear, with a link to its page
    follow(browser, browser.find_element(by.CSS_SELECTOR, 'svg#map a path[data-code="90001"]').click)
    info = browser.find_element(by.ID, "info")
    assert "Xã Một" in info.text and "2 / 7" in info.text and "Hoàn thành" in info.text
    assert "commune=90001" in browser.current_url
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"map-commune-{size}")
    follow(browser, info.find_element(by.LINK_TEXT, "Mở trang của xã").click)
    assert browser.find_element(by.TAG_NAME, "h1").text.startswith("Xã Một")
    assert "Lò Văn Việt" in browser.find_element(by.CSS_SELECTOR, "table.households").text
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"commune-{size}")


@pytest.mark.parametrize("size", list(SIZES))
def test_search_without_diacritics(browser: Any, live_server: str, screenshots: Path, size: str) -> None:
    by = _by()
    browser.set_window_size(*SIZES[size])
    sign_in(browser, live_server)
    browser.get(live_server + "/search")
    box = browser.find_element(by.ID, "q")
    box.send_keys("Lo Van Viet")
    follow(browser, box.submit)
    results = browser.find_element(by.CSS_SELECTOR, "table.households").text
    assert "Lò Văn Việt" in results and "Cầm Thị Hoa" not in results
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"search-{size}")
    follow(browser, browser.find_element(by.LINK_TEXT, "Lò Văn Việt").click)
    page = browser.find_element(by.TAG_NAME, "main").text
    assert "Bản Lan Quynh" in page and "60.000.000 ₫" in page and "10/04/2025" in page
    assert browser.find_element(by.ID, "hhmap").is_displayed()
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, f"household-{size}")


def test_english_and_an_officers_scope(browser: Any, live_server: str, screenshots: Path) -> None:
    by = _by()
    browser.set_window_size(*SIZES["phone"])
    sign_in(browser, live_server, "canbo")
    browser.get(live_server + "/?as_of=2025-04-16&level=commune&lang=en")
    assert browser.find_element(by.TAG_NAME, "html").get_attribute("lang") == "en"
    table = browser.find_element(by.CSS_SELECTOR, "table.progress").text
    assert "Xã Hai" in table and "Xã Một" not in table
    assert "Review" not in browser.find_element(by.CSS_SELECTOR, "nav.main").text
    browser.get(live_server + "/review")
    assert "403" in browser.find_element(by.TAG_NAME, "h1").text
    browser.get(live_server + "/map")
    assert "Percent of plan completed" in browser.find_element(by.TAG_NAME, "aside").text, "English kept"
    assert len(browser.find_elements(by.CSS_SELECTOR, "svg#map a path[data-code]")) == 1, "only Xã Hai links"
    shoot(browser, screenshots, "map-officer-en-phone")


def test_review_queue_confirm_in_the_browser(browser: Any, live_server: str, screenshots: Path) -> None:
    by = _by()
    browser.set_window_size(*SIZES["phone"])
    sign_in(browser, live_server)
    browser.get(live_server + "/review")
    card = browser.find_element(by.CSS_SELECTOR, "#flagged + ul .card")
    assert "Vì Văn Xa" in card.text and "Ngoài ranh giới" in card.text
    no_horizontal_scroll(browser)
    shoot(browser, screenshots, "review-phone")
    follow(browser, card.find_element(by.XPATH, ".//button[normalize-space()='Xác nhận']").click)
    assert "Đã xác nhận xã của Vì Văn Xa" in browser.find_element(by.CSS_SELECTOR, "p.msg").text
    remaining = browser.find_elements(by.CSS_SELECTOR, "#flagged + ul .card")
    assert not any("Vì Văn Xa" in card.text for card in remaining), "confirmed: out of the queue"
