"""The playground's page in a real headless browser (Chromium and chromedriver from the
Debian packages, selenium from PyPI; `.ci/run` installs all three).

It loads the page, picks a preset, presses play, and checks that the heat map's
pixels change, that the step counter and the metrics advance, and that one D step
moves D's counter only. A screenshot is saved (MINIGAN_PLAYGROUND_SHOT names the
file; by default a temporary folder) for a person to look at. Where no browser or
driver is installed the test is skipped, saying which is missing.
"""
import os
import shutil
import time

import pytest

from minigan.playground import server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or \
    shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
except ImportError:
    webdriver = None
MISSING = ("selenium is not installed (pip install -e '.[test]')" if webdriver is None else
           "no headless browser: install Chromium and its driver (apt-get install chromium "
           "chromium-driver), as .ci/run does" if CHROMIUM is None or DRIVER is None else None)
if MISSING and os.environ.get("MINIGAN_REQUIRE_BROWSER"):     # CI (.ci/run): never skipped
    raise RuntimeError(f"MINIGAN_REQUIRE_BROWSER is set but {MISSING}")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1300,1000", "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


@pytest.fixture
def site():
    srv = server.start(0)
    yield srv
    srv.shutdown()
    srv.close()


def wait_for(fn, timeout=20.0, what="the page"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def counter(drv, name):
    return int(drv.find_element("id", name).text)


def heat_pixels(drv):
    """A sample of the plane canvas's pixels (every 16th pixel of every 16th row)."""
    return drv.execute_script("""
        const c = document.getElementById('plane');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const out = [];
        for (let y = 8; y < c.height; y += 16)
            for (let x = 8; x < c.width; x += 16) {
                const k = (y * c.width + x) * 4; out.push(d[k], d[k + 1], d[k + 2]); }
        return out;""")


def test_preset_play_step_and_screenshot(browser, site, tmp_path):
    drv = browser
    drv.get(site.url)
    wait_for(lambda: drv.execute_script("return typeof state !== 'undefined' && !!state.view"),
             what="the first view")
    # an out-of-range value: the server's message, shown in the page
    width = drv.find_element("css selector", "[data-setting=g_width]")
    width.clear()
    width.send_keys("100000")
    drv.find_element("css selector", "[data-setting=g_depth]").click()    # 'change' fires
    box = wait_for(lambda: drv.find_element("id", "error").is_displayed()
                   and drv.find_element("id", "error"), what="the error message")
    assert "g_width must be between 1 and 256" in box.text
    width.clear()
    width.send_keys("32")
    drv.find_element("css selector", "[data-setting=g_depth]").click()
    wait_for(lambda: not drv.find_element("id", "error").is_displayed(), what="the fix")

    # the preset: the mog lesson's vanilla GAN
    from selenium.webdriver.support.ui import Select
    Select(drv.find_element("id", "preset")).select_by_value("mog-gan")
    wait_for(lambda: drv.find_element("css selector", "[data-setting=g_width]")
             .get_attribute("value") == "128", what="the preset's settings")
    wait_for(lambda: site.sessions.runs and next(iter(site.sessions.runs.values()))
             .settings["batch_size"] == 240, what="the preset's run on the server")
    before = heat_pixels(drv)
    assert counter(drv, "step") == 0
    assert drv.find_element("id", "error").is_displayed() is False

    drv.find_element("id", "play").click()
    wait_for(lambda: counter(drv, "step") >= 150, what="150 steps")
    drv.find_element("id", "play").click()                       # pause
    wait_for(lambda: "play" in drv.find_element("id", "play").text, what="pause")
    time.sleep(0.6)                                             # the last views arrive
    steps = counter(drv, "step")
    assert steps >= 150
    assert counter(drv, "d-updates") == counter(drv, "g-updates") == steps
    # the heat map moved: D's surface is not what it was at step 0
    after = heat_pixels(drv)
    changed = sum(abs(a - b) > 12 for a, b in zip(before, after)) / len(before)
    assert changed > 0.05, f"only {changed:.1%} of the heat map's sampled pixels changed"
    # the metrics advanced: several evaluations, the last at a later step than the first
    curves = drv.execute_script("return state.view.curves")
    assert len(curves["metric_step"]) >= 3 and curves["metric_step"][-1] > curves["metric_step"][0]
    assert len(curves["loss_d"]) >= 50
    assert "modes" in drv.find_element("id", "metric-values").text

    # one D step: D's counter only
    d, g = counter(drv, "d-updates"), counter(drv, "g-updates")
    drv.find_element("id", "step-d").click()
    wait_for(lambda: counter(drv, "d-updates") == d + 1, what="the D step")
    assert counter(drv, "g-updates") == g and counter(drv, "step") == steps
    drv.find_element("id", "step-g").click()
    wait_for(lambda: counter(drv, "g-updates") == g + 1, what="the G step")
    assert counter(drv, "d-updates") == d + 1 and counter(drv, "step") == steps

    # where in the code: each view names its library function
    for name, text in (("where-field", "mlp_discriminator"), ("where-arrows", "g_loss"),
                       ("where-metrics", "mode_scores"), ("where-manifold", "mlp_generator")):
        assert text in drv.find_element("id", name).text

    # the screenshot, after a little more training (for a person to look at)
    drv.find_element("id", "play").click()
    wait_for(lambda: counter(drv, "step") >= 700, what="700 steps", timeout=40)
    drv.find_element("id", "play").click()
    time.sleep(0.6)
    shot = os.environ.get("MINIGAN_PLAYGROUND_SHOT") or str(tmp_path / "playground.png")
    assert drv.save_screenshot(shot)
    assert os.path.getsize(shot) > 10_000
