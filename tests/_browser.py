"""Headless Chromium (Debian's chromium + chromedriver) driven by Selenium,
for the viewer tests: console errors and network requests are recorded."""
import json
import os
import shutil

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


def find(cands, name):
    for c in cands:
        if os.path.exists(c):
            return c
    return shutil.which(name)


def make_driver(width=1400, height=900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = find(CHROMIUM_CANDIDATES, "chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=%d,%d" % (width, height), "--force-device-scale-factor=1",
              "--allow-file-access-from-files"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=find(DRIVER_CANDIDATES, "chromedriver"))
    return webdriver.Chrome(service=service, options=opts)


def require_driver(width=1400, height=900):
    """make_driver(), or the test fails naming what is missing: scripts/test
    installs the browser, so a missing one is a failure, never a skip."""
    import pytest

    missing = [n for n, c in (("chromium", CHROMIUM_CANDIDATES), ("chromedriver", DRIVER_CANDIDATES))
               if not find(c, n)]
    if missing:
        pytest.fail("the viewer tests need %s (apt-get install chromium chromium-driver)" % " and ".join(missing))
    return make_driver(width, height)


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def network_requests(driver):
    """URLs the page requested other than the file itself (and data:/blob:)."""
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if not url.startswith(("file://", "data:", "blob:", "about:")):
                out.append(url)
            elif url.startswith("file://") and msg["params"].get("type") not in (None, "Document"):
                out.append(url)
    return out
