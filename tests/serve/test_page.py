"""The what-if page in a real browser: Debian's chromium driven by Selenium.

The test starts ``overspend serve`` for the example county on 127.0.0.1 and a
free port, changes children's homes demand growth on the page, saves the
what-if, and checks the chance of overspend shown against ``overspend
compare`` of the saved scenario with the same seed and draws. How long the
page took to update is logged (never a pass/fail: machines are shared).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from simulator.config.bundled import bundled_config
from simulator.config.load import load_config
from simulator.config.messages import ConfigError
from simulator.present.numbers import pct_text

LOG = logging.getLogger(__name__)

#: Draws the page is refined to, and its first pass.
DRAWS, FIRST = 1_500, 500

#: The longest any one wait may take (s): bounded, so a broken page fails, never hangs.
WAIT = 120

GROWTH = "services.childrens_homes.arrivals.growth"


def browser_and_driver() -> tuple[str, str]:
    """Debian's chromium and chromedriver; the test must run in CI (CI=true), may skip elsewhere."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        missing = " and ".join(
            n for n, p in (("chromium", browser), ("chromedriver", driver)) if not p
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} not installed, and CI=true requires the browser test")
        pytest.skip(f"{missing} not installed (apt-get install chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    return browser, driver


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``overspend serve`` in its own process, stopped by the test whatever happens."""
    browser_and_driver()
    folder = tmp_path_factory.mktemp("page")
    config = folder / "example_county.toml"
    shutil.copy(bundled_config(), config)
    out = folder / "results"
    log = (folder / "serve.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", str(config), "--port", "0",
         "--draws", str(DRAWS), "--first-draws", str(FIRST), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=log, text=True, cwd=folder,
    )  # fmt: skip
    url = None
    try:
        started = time.monotonic()
        while url is None and time.monotonic() - started < WAIT:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            url = found.group(0) if found else None
        if url is None:
            log.seek(0)
            pytest.fail(f"overspend serve did not start: {log.read()}")
        yield {"url": url, "config": config, "out": out, "log": log, "folder": folder}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def page(server):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = browser_and_driver()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1800",
                "--disable-dev-shm-usage"):  # fmt: skip
        options.add_argument(arg)
    downloads = server["folder"] / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a browser or driver
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    # Headless chromium saves downloads only when told where, through the DevTools protocol.
    chrome.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    chrome.set_page_load_timeout(WAIT)
    try:
        chrome.get(server["url"])
        yield chrome
    finally:
        chrome.quit()


def _wait(what, until, timeout: float = WAIT):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            value = what()
        except Exception:  # the element is being redrawn
            value = None
        if value is not None and until(value):
            return value
        time.sleep(0.05)
    pytest.fail(f"the page did not show what was expected within {timeout} s")


def _shown(page) -> tuple[str, float]:
    """The what-if's chance of overspend as shown, and its exact value (data-value)."""
    from selenium.webdriver.common.by import By

    element = page.find_element(By.ID, "whatif-0")
    return element.text, float(element.get_attribute("data-value"))


def _status(page) -> str:
    from selenium.webdriver.common.by import By

    return page.find_element(By.ID, "status").text


def _control(page, key: str):
    from selenium.webdriver.common.by import By

    return page.find_element(By.CSS_SELECTOR, f'input[id*="{key}"]')


def _type(element, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.DELETE)
    element.send_keys(text, Keys.ENTER)


@pytest.mark.slow
def test_moving_growth_moves_the_chance_and_compare_agrees(page, server):
    from selenium.webdriver.common.by import By

    _wait(lambda: _status(page), lambda s: "refining" not in s and "draws" in s)
    _, base_value = _shown(page)
    assert page.find_element(By.ID, "base-0").get_attribute("data-value") == repr(base_value)

    started = time.monotonic()
    _type(_control(page, GROWTH), "0.15")
    # The figure and the status line come in one answer: read them together.
    _, status = _wait(lambda: (_shown(page)[1], _status(page)), lambda v: v[0] != base_value)
    took = time.monotonic() - started
    LOG.info("the page updated in %.2f s after the change (first pass, %d draws)", took, FIRST)
    print(f"update seen in the browser {took:.2f} s after Enter; {FIRST:,} draws first")
    server["log"].seek(0)
    for line in server["log"].read().splitlines():
        if "what-if updated in" in line:
            print(f"server: {line}")
    assert f"{FIRST:,} draws so far" in status
    assert _shown(page)[1] > base_value  # more children's homes placements: more risk

    # Refined to the full draws, then saved from the page.
    _wait(lambda: _status(page), lambda s: f"{DRAWS:,} draws;" in s)
    text, value = _shown(page)
    page.find_element(By.ID, "save-name").send_keys("homes_growth_15")
    page.find_element(By.ID, "save").click()
    saved = _wait(lambda: page.find_element(By.ID, "saved").text, lambda s: s.startswith("Saved"))
    path = server["out"] / "what_if" / "homes_growth_15.toml"
    assert str(path) in saved and path.is_file()

    # `overspend compare` of the saved scenario, as a user would run it.
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "compare", str(path), "--scenario", "homes_growth_15",
         "--out", str(server["folder"] / "compared")],
        capture_output=True, text=True, timeout=WAIT, cwd=server["folder"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with xr.open_dataset(server["folder"] / "compared" / "scenarios.nc") as scen:
        assert int(scen.attrs["draws"]) == DRAWS
        at = {"scenario": "homes_growth_15", "service": "total", "financial_year": "2024/25"}
        p = float(scen["p_overspend"].sel(at))
        p_base = float(scen["p_overspend"].sel(at | {"scenario": "base"}))
    assert value == p
    assert text == pct_text(p)
    assert float(page.find_element(By.ID, "base-0").get_attribute("data-value")) == p_base


@pytest.mark.slow
def test_a_bad_value_is_refused_with_the_validators_message(page, server):
    from selenium.webdriver.common.by import By

    before = _shown(page)
    _type(_control(page, GROWTH), "lots")
    shown = _wait(lambda: page.find_element(By.ID, "problems").text, lambda s: s != "")
    # The same value written in the config as a scenario: `overspend validate`'s words.
    path = server["folder"] / "check" / "example_county.toml"
    path.parent.mkdir(exist_ok=True)
    block = (
        "\n[scenarios.what_if]\n"
        f'changes.{GROWTH} = {{ dist = "normal", mean = "lots", sd = 0.03 }}\n'
    )
    path.write_text(Path(server["config"]).read_text() + block)
    with pytest.raises(ConfigError) as validator:
        load_config(path)
    assert shown == str(validator.value)
    assert _shown(page) == before  # the page keeps the last figures it could show
    # And it carries on: a good value again is simulated.
    _type(_control(page, GROWTH), "0.05")
    _wait(lambda: page.find_element(By.ID, "problems").text, lambda s: s == "")


@pytest.mark.slow
def test_reset_and_downloads(page, server):
    from selenium.webdriver.common.by import By

    _type(_control(page, GROWTH), "0.1")
    # Asked for at once, while the change may still be simulated: the files are of the change.
    page.find_element(By.ID, "get-csv").click()
    page.find_element(By.ID, "get-png").click()
    downloads = server["folder"] / "downloads"
    csv_file = _wait(lambda: next(downloads.glob("*.csv"), None), lambda p: p.stat().st_size > 0)
    png = _wait(lambda: next(downloads.glob("*.png"), None), lambda p: p.stat().st_size > 0)
    assert csv_file.name == "what_if_total_2024-25.csv"
    text = csv_file.read_text(encoding="utf-8-sig")
    assert (
        "Chance of overspend" in text and "Children's homes: demand growth 0.1 (was 0.05)" in text
    )
    assert png.read_bytes()[:4] == b"\x89PNG"

    page.find_element(By.ID, "reset").click()
    _wait(lambda: _control(page, GROWTH).get_attribute("value"), lambda v: v == "0.05")

    def both() -> tuple[str, str]:
        return tuple(
            page.find_element(By.ID, f"{which}-0").get_attribute("data-value")
            for which in ("base", "whatif")
        )

    # Back at the config's values the what-if is the base case itself.
    _wait(both, lambda pair: pair[0] == pair[1])
    assert page.find_element(By.ID, "diff-0").text == "no change"
