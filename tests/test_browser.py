"""`talksearch serve` as a person uses it: Debian's chromium, driven through its chromedriver by selenium, against the
real command serving a small real index (two EuroPython events and the demo data). It types a query, follows a
result to its talk page and on to a related talk, checks what is on screen, and saves screenshots (under the test's
temporary folder; TALKSEARCH_SCREENSHOTS=DIR copies them there, as docs/serve-search.png was made).

`make test` installs chromium and chromium-driver when they are missing: this test fails, never skips, without them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import talksearch

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Chromium on a closed network: no background connections (refused, many at a time, here), no first-run work
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--disable-dev-shm-usage", "--hide-scrollbars")
QUERY = "event sourcing"
WAIT = 30  # seconds for a page to show what is looked for


@pytest.fixture(scope="module")
def server(subset_index):
    proc = subprocess.Popen([sys.executable, "-m", "talksearch", "serve", "--index-dir", str(subset_index), "--port", "0"],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = proc.stderr.readline()
        found = re.search(r"at (http://127\.0\.0\.1:\d+/) ", line)
        assert found, line + proc.stderr.read() if proc.poll() is not None else line
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for program in (CHROMIUM, CHROMEDRIVER):
        if not os.access(program, os.X_OK):
            pytest.fail(f"{program} is missing: apt-get install chromium chromium-driver (`make test` does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver, folder: Path, name: str) -> Path:
    path = folder / f"serve-{name}.png"
    assert driver.save_screenshot(str(path)), path
    if os.environ.get("TALKSEARCH_SCREENSHOTS"):
        shutil.copy(path, Path(os.environ["TALKSEARCH_SCREENSHOTS"]) / path.name)
    return path


def test_search_follow_a_result_to_its_talk_and_on_to_a_related_talk(server, browser, subset_index, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    with talksearch.open(subset_index) as kb:  # what the CLI would say, to check the pages against
        expected = kb.query(QUERY, k=10)
    browser.get(server)
    assert "talks and" in browser.find_element(By.CSS_SELECTOR, ".intro").text

    # "/" focuses the box; Enter searches
    browser.find_element(By.TAG_NAME, "body").send_keys("/")
    box = browser.switch_to.active_element
    assert box.get_attribute("id") == "q"
    box.send_keys(QUERY, Keys.ENTER)
    wait.until(shows.presence_of_element_located((By.CSS_SELECTOR, "ol.hits")))
    assert browser.title == f"{QUERY} · talksearch"
    titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "ol.hits > li a.title")]
    assert titles == [hit.title for hit in expected]
    marked = {m.text.lower() for m in browser.find_elements(By.CSS_SELECTOR, "ol.hits .snippet mark")}
    assert marked and marked <= {"event", "events", "sourcing"}, marked  # the query's words, highlighted
    shoot(browser, tmp_path, "search")

    # a talk's page: its title, speakers and event, its abstract, what it names, its related talks
    first = next(hit for hit in expected if hit.kind.value == "talk")
    browser.find_element(By.LINK_TEXT, first.title).click()
    wait.until(shows.title_is(f"{first.title} · talksearch"))
    assert browser.find_element(By.TAG_NAME, "h1").text == first.title
    byline = browser.find_element(By.CSS_SELECTOR, "article .by").text
    assert all(name in byline for name in first.speakers) and first.event in byline
    assert browser.find_element(By.CSS_SELECTOR, "article .text").text.strip()
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "article h2")]
    assert "Related" in headings and "Keyphrases" in headings, headings
    with talksearch.open(subset_index) as kb:
        related = kb.related(first.id, k=8)
    shown = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "ol.related a.title")]
    assert shown == [hit.title for hit in related]
    shoot(browser, tmp_path, "talk")

    # on to the first related talk
    browser.find_element(By.CSS_SELECTOR, "ol.related a.title").click()
    wait.until(shows.title_is(f"{related[0].title} · talksearch"))
    assert browser.find_element(By.TAG_NAME, "h1").text == related[0].title
    assert browser.current_url.endswith(related[0].id)
    browser.back()
    browser.back()
    wait.until(shows.title_is(f"{QUERY} · talksearch"))

    # a phone: one column, nothing wider than the screen
    browser.set_window_size(390, 844)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    shoot(browser, tmp_path, "phone")
    browser.set_window_size(1280, 900)
