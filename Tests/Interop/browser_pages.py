"""End-to-end browser test of `sigil serve`'s pages: Debian's headless Chromium, driven by Selenium,
against a running service and the Authlib OAuth server (oauth_server.py with "consent_page": true).

Usage:  python3 browser_pages.py --service URL --oauth-info INFO.json [--screenshots DIR] [--leaks FILE]
  URL: the service (http://127.0.0.1:P), set up as scripts/browser-tests does: users alice, bob (members)
  and olivia (operator) with passwords below; per-user principals Docs/per-user (OAuth 2.0
  authorization code, client docs-app, redirect URI URL/oauth/callback) granted to alice and bob, and
  Calendar/per-user (Basic) granted to alice.
  --screenshots DIR: login.png, connections.png, secrets.png, credentials.png, expiry.png, audit.png
  (1280x900). --leaks FILE: the secrets this test came to hold (the access token, the session
  cookie) are appended to FILE, one a line, so that the caller can look for them in logs.

Each check prints "ok: WHAT"; the first failure prints what was expected and what was seen (URL, page
excerpt or HTTP answer) and exits 1. Every wait is bounded (10 s), and so is every HTTP request.
Nothing is downloaded: chromedriver and Chromium are Debian's, Selenium Manager is kept offline, and
Chromium is given an unreachable proxy so that only loopback addresses (which bypass it) answer.
"""
import argparse
import base64
import html.parser
import http.server as http_server
import json
import os
import shutil
import signal
import struct
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

os.environ["SE_OFFLINE"] = "true"  # before Selenium is imported: Selenium Manager never downloads

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (NoSuchElementException, StaleElementReferenceException,  # noqa: E402
                                        TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT = 10  # seconds, for every wait on the browser
HTTP_TIMEOUT = 15  # seconds, for every urllib request
PASSWORDS = {"alice": "alice-pass-4821", "bob": "bob-pass-7730", "olivia": "olivia-pass-1932"}
CALENDAR_USERNAME, CALENDAR_PASSWORD = "alice@calendar", "cal-pass-5512"
DOCS, CALENDAR = "Docs/per-user", "Calendar/per-user"


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------------
def ok(what):
    print(f"ok: {what}", flush=True)


def page_excerpt(driver, limit=3000):
    try:
        url = driver.current_url
    except WebDriverException as error:
        return f"  (the browser did not answer: {error.msg})"
    try:
        source = driver.page_source
    except WebDriverException:
        source = "(page source unavailable)"
    start = source.find("<main")
    excerpt = source[start:] if start >= 0 else source
    return f"  current URL: {url}\n  page source (from <main>, {limit} characters at most):\n{excerpt[:limit]}"


def fail(what, expected, seen="", driver=None):
    message = f"FAILED: {what}\n  expected: {expected}\n"
    if seen:
        message += f"  seen: {seen}\n"
    if driver is not None:
        message += page_excerpt(driver) + "\n"
    raise Failure(message)


def check(condition, what, expected, seen="", driver=None):
    if not condition:
        fail(what, expected, seen, driver)
    ok(what)


# ---------------------------------------------------------------------------------------------------
# HTML parsing for the urllib answers
# ---------------------------------------------------------------------------------------------------
class Elements(html.parser.HTMLParser):
    """Every start tag's attributes, in document order."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def by_id(self, element_id):
        return next((attrs for _, attrs in self.tags if attrs.get("id") == element_id), None)


def error_code(body):
    attrs = Elements(body).by_id("error-page")
    return attrs.get("data-code") if attrs else None


# ---------------------------------------------------------------------------------------------------
# HTTP (urllib), redirects not followed
# ---------------------------------------------------------------------------------------------------
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


OPENER = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __str__(self):
        head = "".join(f"    {k}: {v}\n" for k, v in self.headers.items())
        return f"HTTP {self.status}\n{head}    body: {self.text()[:2000]}"


def http(method, url, data=None, headers=None, cookies=None):
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if isinstance(data, dict):
        data = urllib.parse.urlencode(data).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        response = OPENER.open(request, timeout=HTTP_TIMEOUT)
    except urllib.error.HTTPError as error:
        response = error
    except (urllib.error.URLError, OSError) as error:
        fail(f"{method} {url}", "an HTTP answer", f"no answer: {error}")
    with response:
        return Answer(response.status, response.headers, response.read())


def browser_cookies(driver):
    return {c["name"]: c["value"] for c in driver.get_cookies()}


# ---------------------------------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------------------------------
def new_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-sync",
                     "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                     "--disable-domain-reliability", "--disable-client-side-phishing-detection",
                     "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,"
                     "PasswordLeakDetection",
                     "--password-store=basic",
                     # Only loopback is reachable: every other address goes to a proxy that does not exist
                     # (loopback addresses and localhost always bypass the proxy).
                     "--proxy-server=http://127.0.0.1:9"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(WAIT)
    # The viewport is exactly 1280x900, whatever the headless window's decorations.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    return driver


class Browser:
    """One browser session (its own Chromium and cookies) on the service."""

    def __init__(self, service, name):
        self.service, self.name = service, name
        self.driver = new_driver()

    def url(self, path):
        return self.service + path

    def path(self):
        return urllib.parse.urlparse(self.driver.current_url).path

    def query(self):
        return urllib.parse.parse_qs(urllib.parse.urlparse(self.driver.current_url).query)

    def on_service(self, path=None):
        parsed = urllib.parse.urlparse(self.driver.current_url)
        here = f"{parsed.scheme}://{parsed.netloc}"
        return here == self.service and (path is None or parsed.path == path)

    def wait(self, condition, what, expected, timeout=WAIT):
        def settled(driver):
            # While a navigation replaces the document, Chromium may answer for an element of the old
            # one with "does not belong to the document" rather than a stale-element error: not yet.
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False
            except WebDriverException as error:
                if "does not belong to the document" in str(error):
                    return False
                raise
        try:
            return WebDriverWait(self.driver, timeout).until(settled)
        except TimeoutException:
            fail(what, expected, f"not within {timeout} s", self.driver)

    def wait_page(self, path, selector, what):
        """Waits until the browser shows PATH on the service with an element matching SELECTOR."""
        def ready(driver):
            if not self.on_service(path):
                return False
            found = driver.find_elements(By.CSS_SELECTOR, selector)
            return found[0] if found else False
        return self.wait(ready, what, f"{self.service}{path} showing {selector}")

    def get(self, path):
        self.driver.get(self.url(path))

    def find(self, selector, what):
        try:
            return self.driver.find_element(By.CSS_SELECTOR, selector)
        except NoSuchElementException:
            fail(what, f"an element {selector}", "none", self.driver)

    def finds(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def click_and_leave(self, element, what):
        """Clicks ELEMENT and waits until the page it was on is gone (a navigation happened)."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        element.click()

        def gone(_):
            try:
                old.is_enabled()
                return False
            except StaleElementReferenceException:
                return True
            except WebDriverException as error:
                if "does not belong to the document" in str(error):
                    return True
                raise
        self.wait(gone, what, "a navigation away from the page")

    def type(self, selector, text, what):
        field = self.find(selector, what)
        field.clear()
        field.send_keys(text)

    def cookies(self):
        return browser_cookies(self.driver)

    def csrf(self):
        fields = self.finds('input[name="csrf"]')
        values = [f.get_attribute("value") for f in fields]
        if not values or not values[0]:
            fail(f"{self.name}'s page carries a csrf token", 'an <input name="csrf"> with a value',
                 f"{len(fields)} such inputs", self.driver)
        return values[0]

    def screenshot(self, directory, name):
        if not directory:
            return
        path = os.path.join(directory, name)
        if not self.driver.save_screenshot(path):
            fail(f"screenshot {name}", "a PNG written", "save_screenshot returned False")
        with open(path, "rb") as f:
            header = f.read(24)
        width, height = struct.unpack(">II", header[16:24])
        check((width, height) == (1280, 900), f"screenshot {path} ({width}x{height})", "1280x900",
              f"{width}x{height}")

    def quit(self):
        try:
            self.driver.quit()
        except WebDriverException:
            pass


# ---------------------------------------------------------------------------------------------------
# Page helpers
# ---------------------------------------------------------------------------------------------------
def login(browser, user, password, expect_success=True):
    if not browser.on_service("/login"):
        browser.get("/login")
    browser.wait_page("/login", "#login-form", f"{user}: the login form")
    browser.type("#username", user, "login form: #username")
    browser.type("#password", password, "login form: #password")
    browser.click_and_leave(browser.find("#login-submit", "login form: #login-submit"), f"{user}: submit login")
    if expect_success:
        user_span = browser.wait_page("/connections", "#user", f"{user} logged in lands on /connections")
        check(user_span.text.strip() == user, f"{user} logged in: #user shows {user!r}", user, user_span.text,
              browser.driver)


def connections(browser):
    browser.get("/connections")
    browser.wait_page("/connections", "#connections, #no-connections", f"{browser.name}: /connections")


def row(browser, principal):
    rows = browser.finds(f'#connections tr[data-principal="{principal}"]')
    return rows[0] if rows else None


def row_state(browser, principal):
    found = row(browser, principal)
    if found is None:
        fail(f"{browser.name}: /connections has a row for {principal}", f'tr[data-principal="{principal}"]',
             "none", browser.driver)
    cells = found.find_elements(By.CSS_SELECTOR, "td.state")
    if not cells:
        fail(f"{browser.name}: {principal} row has td.state", "td.state", "none", browser.driver)
    return cells[0].get_attribute("data-state")


def expect_state(browser, principal, state, reload=True):
    if reload:
        connections(browser)
    seen = row_state(browser, principal)
    check(seen == state, f"{browser.name}: {principal} is {state}", f'data-state="{state}"', f'data-state="{seen}"',
          browser.driver)


def expect_notice(browser, selector, words, what):
    """Waits for /connections with a notice (#message or #error), which must be SELECTOR mentioning WORDS."""
    notice = browser.wait_page("/connections", "#message, #error", what)
    found, text = "#" + (notice.get_attribute("id") or "?"), notice.text
    check(found == selector and all(w.lower() in text.lower() for w in words), what,
          f"{selector} mentioning {words}", f"{found} {text!r}", browser.driver)
    return notice


def poll(probe, seconds=WAIT, interval=0.25):
    """PROBE() until it returns a true value or SECONDS pass (then its last value)."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def set_cookies(answer):
    """The cookies an answer sets, as {name: (value, attributes lower-cased)}."""
    cookies = {}
    for header in answer.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        value, _, attributes = rest.partition(";")
        cookies[name.strip()] = (value.strip(), [a.strip().lower() for a in attributes.split(";") if a.strip()])
    return cookies


def http_login(service, user, password):
    """The login form as a plain HTTP client fills it: GET /login (its cookies, csrf and return), then POST."""
    page = http("GET", service + "/login?return=%2Fconnections")
    cookies = {name: value for name, (value, _) in set_cookies(page).items()}
    fields = {attrs.get("name"): attrs.get("value", "") for tag, attrs in Elements(page.text()).tags
              if tag == "input" and attrs.get("type") == "hidden"}
    if "csrf" not in fields:
        fail("GET /login: the form's hidden csrf", '<input type="hidden" name="csrf">', str(page))
    fields.update(user=user, password=password)
    return http("POST", service + "/login", fields, cookies=cookies)


def sign(service, user, url):
    token = base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()
    answer = http("POST", service + "/v1/sign",
                  json.dumps({"method": "GET", "url": url, "headers": []}).encode(),
                  {"Authorization": "Basic " + token, "Content-Type": "application/json"})
    if answer.status != 200:
        fail(f"POST /v1/sign as {user} for {url}", "200 with the decorated request", str(answer))
    try:
        body = answer.json()
        headers = body["headers"]
        authorization = [v for n, v in headers if n.lower() == "authorization"]
    except (ValueError, KeyError, TypeError) as error:
        fail(f"POST /v1/sign as {user} for {url}", '{"method","url","headers":[[name,value]],...}',
             f"{error}: {answer}")
    check(len(authorization) == 1 and body.get("method") == "GET",
          f"POST /v1/sign as {user} for {url}: 200 with one Authorization header", "one Authorization header",
          str(answer))
    return authorization[0]


def audit_rows(browser):
    return [r for r in browser.finds("table#audit tr") if r.find_elements(By.CSS_SELECTOR, "td")]


def cell(row_element, css):
    found = row_element.find_elements(By.CSS_SELECTOR, css)
    return found[0].text.strip() if found else ""


def filter_audit(browser, **fields):
    browser.get("/audit")
    browser.wait_page("/audit", "form#audit-filter", f"{browser.name}: /audit")
    for name, value in fields.items():
        browser.type(f'form#audit-filter [name="{name}"]', value, f"audit filter field {name}")
    browser.click_and_leave(browser.find("#audit-filter-submit", "#audit-filter-submit"),
                            f"audit filter {fields}")
    browser.wait_page("/audit", "table#audit", f"{browser.name}: /audit filtered by {fields}")
    query = browser.query()
    check(all(query.get(k) == [v] for k, v in fields.items()), f"audit filter {fields} is in the URL",
          f"query with {fields}", browser.driver.current_url)
    return audit_rows(browser)


# ---------------------------------------------------------------------------------------------------
# The attacker's site (step 7b): another site (localhost, not 127.0.0.1) that posts a form cross-site.
# ---------------------------------------------------------------------------------------------------
class AttackerSite:
    def __init__(self, target):
        page = (f'<!DOCTYPE html><html><head><title>win a prize</title></head><body>'
                f'<form id="f" method="post" action="{target}"><input type="hidden" name="x" value="1"></form>'
                f'<script>document.getElementById("f").submit();</script></body></html>').encode()
        self.requests = 0
        site = self

        class Handler(http_server.BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# ---------------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------------
def run(service, oauth, shots, leaks, browsers):
    def remember_secret(value):
        if leaks and value:
            with open(leaks, "a") as f:
                f.write(value + "\n")

    alice = Browser(service, "alice")
    browsers.append(alice)

    # 1. Anonymous: /connections sends to the login form; the login page's headers.
    alice.get("/connections")
    alice.wait_page("/login", "#login-form", "anonymous GET /connections ends at /login with #login-form")
    check(alice.query().get("return") == ["/connections"], "anonymous GET /connections: /login?return=/connections",
          "return=/connections (or %2Fconnections)", alice.driver.current_url, alice.driver)
    answer = http("GET", service + "/connections")
    location = answer.headers.get("Location", "")
    check(answer.status == 303 and urllib.parse.urlparse(location).path == "/login"
          and urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("return") == ["/connections"],
          "anonymous GET /connections (HTTP): 303 to /login?return=/connections", "303, Location /login?return=...",
          str(answer))
    answer = http("GET", service + "/login")
    csp = answer.headers.get("Content-Security-Policy", "")
    check(answer.status == 200, "GET /login: 200", "200", str(answer))
    check("frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp,
          "GET /login: Content-Security-Policy has default-src 'none', frame-ancestors 'none', no unsafe-inline",
          "default-src 'none'; ... frame-ancestors 'none' (no 'unsafe-inline')", csp or "(no header)")
    check(answer.headers.get("X-Content-Type-Options", "").lower() == "nosniff",
          "GET /login: X-Content-Type-Options: nosniff", "nosniff", answer.headers.get("X-Content-Type-Options", ""))
    check("no-store" in answer.headers.get("Cache-Control", ""), "GET /login: Cache-Control: no-store", "no-store",
          answer.headers.get("Cache-Control", ""))
    check(answer.headers.get("Content-Type", "").startswith("text/html"), "GET /login: text/html", "text/html",
          answer.headers.get("Content-Type", ""))
    answer = http("GET", service + "/static/sigil.css")
    check(answer.status == 200 and "css" in answer.headers.get("Content-Type", ""),
          "anonymous GET /static/sigil.css: 200 text/css", "200 text/css", str(answer)[:300])
    alice.screenshot(shots, "login.png")

    # 2. A wrong password: the form again with #error, and no session.
    login(alice, "alice", "not-alices-password", expect_success=False)
    alice.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#error"), "wrong password for alice: #error",
               "#error on the login page")
    check(alice.find("#error", "#error").is_displayed() and alice.finds("#login-form"),
          "wrong password for alice: #error shown with the login form", "#error visible and #login-form", "",
          alice.driver)
    check("sigil_session" not in alice.cookies(), "wrong password for alice: no session cookie",
          "no sigil_session cookie", str(list(alice.cookies())))
    answer = http_login(service, "alice", "not-alices-password")
    check(answer.status == 401 and Elements(answer.text()).by_id("error") is not None
          and Elements(answer.text()).by_id("login-form") is not None
          and "sigil_session" not in set_cookies(answer),
          "wrong password for alice (HTTP): 401, the form again with #error, no session cookie",
          "401 with #login-form and #error, no sigil_session", str(answer))
    answer = http_login(service, "alice", PASSWORDS["alice"])
    value, attributes = set_cookies(answer).get("sigil_session", ("", []))
    remember_secret(value)
    check(answer.status == 303 and urllib.parse.urlparse(answer.headers.get("Location", "")).path == "/connections"
          and value and "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
          and "secure" not in attributes,
          "alice logs in (HTTP): 303 to /connections, sigil_session; HttpOnly; SameSite=Lax; Path=/; not Secure",
          "303 Location /connections, Set-Cookie sigil_session=...; HttpOnly; SameSite=Lax; Path=/",
          str(answer).replace(value, "<cookie>") if value else str(answer))

    # 3. Alice logs in: her connections, the session cookie's attributes.
    login(alice, "alice", PASSWORDS["alice"])
    session = alice.driver.get_cookie("sigil_session")
    check(session is not None, "alice logged in: cookie sigil_session", "a sigil_session cookie",
          str(alice.driver.get_cookies()))
    remember_secret(session["value"])
    check(session.get("httpOnly") is True and session.get("sameSite") == "Lax" and session.get("secure") is False
          and session.get("path", "/") == "/",
          "sigil_session is HttpOnly, SameSite=Lax, Path=/, not Secure (plain http)",
          "httpOnly True, sameSite Lax, secure False, path /", str(session))
    alice.wait_page("/connections", "#connections", "alice: table#connections")
    for principal, named in [(DOCS, "Docs"), (CALENDAR, "Calendar")]:
        check(row(alice, principal) is not None, f"alice: /connections has a row for {principal}",
              f'tr[data-principal="{principal}"]', "none", alice.driver)
        expect_state(alice, principal, "not-connected", reload=False)
        names = cell(row(alice, principal), "td.named-credentials")
        check(named in names, f"alice: {principal} row names the named credential {named}", named, repr(names),
              alice.driver)
    check(alice.finds("a#nav-connections") and not alice.finds("a#nav-credentials"),
          "alice (a member): nav has #nav-connections, no operator links", "a#nav-connections only",
          "", alice.driver)
    check(alice.finds("form#logout-form button#logout") and alice.finds('form#logout-form input[name="csrf"]'),
          "alice: header has form#logout-form with csrf and #logout", "form#logout-form", "", alice.driver)
    check(row(alice, DOCS).find_elements(By.CSS_SELECTOR, "form.connect button")
          and row(alice, CALENDAR).find_elements(By.CSS_SELECTOR, "a.connect"),
          "alice: Docs offers form.connect (OAuth), Calendar offers a.connect (secrets)",
          "form.connect in the Docs row, a.connect in the Calendar row", "", alice.driver)

    # 4. OAuth connect through the provider's consent page.
    button = row(alice, DOCS).find_element(By.CSS_SELECTOR, "form.connect button")
    alice.click_and_leave(button, "alice: connect Docs")
    alice.wait(lambda d: d.current_url.startswith(oauth["authorize_url"]) and d.find_elements(By.ID, "consent"),
               "alice: connect Docs lands on the provider's consent page", oauth["authorize_url"] + " with #consent")
    authorize_query = alice.query()
    check("login_hint" not in authorize_query and authorize_query.get("code_challenge_method") == ["S256"]
          and authorize_query.get("client_id") == ["docs-app"],
          "the authorization request: client docs-app, PKCE S256, no login_hint",
          "client_id=docs-app, code_challenge_method=S256, no login_hint", alice.driver.current_url)
    state = alice.find('#consent input[name="state"]', "consent form: state").get_attribute("value")
    redirect_uri = alice.find('#consent input[name="redirect_uri"]', "consent form: redirect_uri").get_attribute("value")
    check(bool(state) and redirect_uri == service + "/oauth/callback",
          "the authorization request carries a state and redirect_uri SERVICE/oauth/callback",
          f"state, redirect_uri {service}/oauth/callback", f"state {state!r}, redirect_uri {redirect_uri!r}")
    alice.type("#consent-user", "alice", "consent: #consent-user")
    alice.click_and_leave(alice.find("#approve", "consent: #approve"), "alice approves")
    expect_notice(alice, "#message", [DOCS, "connected"], "alice approved: /connections with #message about Docs")
    expect_state(alice, DOCS, "connected", reload=False)
    check(row(alice, DOCS).find_elements(By.CSS_SELECTOR, "form.disconnect"),
          "alice: the connected Docs row offers form.disconnect", "form.disconnect", "", alice.driver)
    authorization = sign(service, "alice", "callout:Docs/api/me")
    check(authorization.startswith("Bearer "), "sign callout:Docs as alice: a Bearer token", "Bearer ...",
          authorization[:12] + "...")
    access_token = authorization[len("Bearer "):]
    remember_secret(access_token)
    answer = http("GET", oauth["resource_url"], headers={"Authorization": authorization})
    check(answer.status == 200 and answer.json().get("sub") == "alice",
          "the signed Authorization works at the provider's /api/me as alice", '200 {"sub": "alice"}', str(answer))

    # 5. Forged and replayed OAuth state.
    for what, query in [("a forged state", "code=x&state=forged"),
                        ("the used state replayed", "code=anything&state=" + urllib.parse.quote(state, safe=""))]:
        alice.get("/oauth/callback?" + query)
        error = alice.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, "#error") or [False])[0],
                           f"callback with {what}", "a page with #error")
        check("state" in error.text.lower(), f"callback with {what}: #error mentions the state", "'state' in #error",
              repr(error.text), alice.driver)
        expect_state(alice, DOCS, "connected")

    # 6. Basic per-user secrets.
    link = row(alice, CALENDAR).find_element(By.CSS_SELECTOR, "a.connect")
    alice.click_and_leave(link, "alice: Calendar's a.connect")
    secrets_path = "/connections/Calendar/per-user/secrets"
    alice.wait_page(secrets_path, "form#secrets-form", "alice: Calendar's secrets page")
    for selector in ["#secret-username", "#secret-password", "#secrets-submit", 'form#secrets-form input[name="csrf"]']:
        check(alice.finds(selector), f"secrets page has {selector}", selector, "none", alice.driver)
    alice.type("#secret-username", CALENDAR_USERNAME, "#secret-username")
    alice.type("#secret-password", CALENDAR_PASSWORD, "#secret-password")
    alice.click_and_leave(alice.find("#secrets-submit", "#secrets-submit"), "alice: submit Calendar's secrets")
    alice.wait_page("/connections", "#message", "alice saved Calendar's secrets: /connections with #message")
    ok("alice saved Calendar's secrets: #message " + repr(alice.find("#message", "#message").text))
    expect_state(alice, CALENDAR, "connected", reload=False)
    alice.screenshot(shots, "connections.png")
    alice.get(secrets_path)
    alice.wait_page(secrets_path, "form#secrets-form", "alice: Calendar's secrets page again")
    marks = alice.finds("span.set")
    check(len(marks) >= 2, "secrets page again: span.set for both fields", "2 span.set", f"{len(marks)}",
          alice.driver)
    source = alice.driver.page_source
    check(CALENDAR_PASSWORD not in source and CALENDAR_USERNAME not in source,
          "secrets page again: neither stored value is in the page", "no cal-pass-5512, no alice@calendar",
          "a stored value in the page source", alice.driver)
    alice.screenshot(shots, "secrets.png")
    authorization = sign(service, "alice", "callout:Calendar/events")
    expected = "Basic " + base64.b64encode(f"{CALENDAR_USERNAME}:{CALENDAR_PASSWORD}".encode()).decode()
    check(authorization == expected, "sign callout:Calendar as alice: Basic alice@calendar:cal-pass-5512",
          "Basic base64(alice@calendar:cal-pass-5512)", "another value" if authorization.startswith("Basic ")
          else authorization[:10] + "...")

    # 7. CSRF: (a) a POST without the csrf field; (b) a cross-site form POST.
    connections(alice)
    disconnect_calendar = service + "/connections/Calendar/per-user/disconnect"
    answer = http("POST", disconnect_calendar, {"x": "1"}, cookies=alice.cookies())
    check(answer.status == 403 and error_code(answer.text()) == "csrf",
          "alice's POST to disconnect Calendar without csrf: 403 data-code=csrf", '403, <main id="error-page" data-code="csrf">',
          str(answer))
    expect_state(alice, CALENDAR, "connected")
    attacker = AttackerSite(disconnect_calendar)
    try:
        alice.driver.get(attacker.url)
        alice.wait(lambda d: d.current_url.startswith(service + "/"),
                   "the attacker's page (localhost) auto-submits its form to the service",
                   f"the browser on {service} after the cross-site POST")
        alice.wait(lambda d: d.execute_script("return document.readyState") == "complete",
                   "the cross-site POST's answer has loaded", "document.readyState complete")
        ok(f"cross-site POST from {attacker.url} answered, browser at {alice.driver.current_url}")
    finally:
        attacker.close()
    expect_state(alice, CALENDAR, "connected")
    check(alice.find("#user", "#user").text.strip() == "alice", "alice is still logged in after the cross-site POST",
          "alice", alice.find("#user", "#user").text)

    # 8. Member isolation: bob sees neither alice's connection nor her principal.
    bob = Browser(service, "bob")
    browsers.append(bob)
    login(bob, "bob", PASSWORDS["bob"])
    expect_state(bob, DOCS, "not-connected")
    check(row(bob, CALENDAR) is None, "bob: no Calendar row (not granted to him)", "no Calendar row",
          "a Calendar row", bob.driver)
    bob.get(secrets_path)
    page = bob.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, "#error-page") or [False])[0],
                    "bob: alice's Calendar secrets page", "#error-page")
    check(page.get_attribute("data-code") == "forbidden", "bob: Calendar's secrets page is forbidden",
          'data-code="forbidden"', f'data-code="{page.get_attribute("data-code")}"', bob.driver)
    connections(bob)
    answer = http("POST", disconnect_calendar, {"csrf": bob.csrf()}, cookies=bob.cookies())
    check(answer.status == 403 and error_code(answer.text()) not in ("csrf", None),
          "bob's POST (with his csrf) to disconnect Calendar: 403, not for csrf",
          '403, <main id="error-page" data-code="forbidden">', str(answer))
    expect_state(alice, CALENDAR, "connected")
    button = row(bob, DOCS).find_element(By.CSS_SELECTOR, "form.connect button")
    bob.click_and_leave(button, "bob: connect Docs")
    bob.wait(lambda d: d.current_url.startswith(oauth["authorize_url"]) and d.find_elements(By.ID, "consent"),
             "bob: connect Docs lands on the consent page", oauth["authorize_url"] + " with #consent")
    bob.type("#consent-user", "bob", "consent: #consent-user")
    bob.click_and_leave(bob.find("#deny", "consent: #deny"), "bob denies")
    expect_notice(bob, "#error", ["access_denied"], "bob denied: /connections with #error access_denied")
    expect_state(bob, DOCS, "not-connected", reload=False)
    expect_state(alice, DOCS, "connected")
    # The device grant (RFC 8628): the page shows the code; bob approves it at the provider (its admin
    # endpoint stands for the provider's own page); the service, polling in the background, stores it.
    button = row(bob, DOCS).find_element(By.CSS_SELECTOR, "form.device button")
    bob.click_and_leave(button, "bob: connect Docs with a code")
    code = bob.wait_page("/connections/Docs/per-user/device", "#user-code", "bob: the device page").text.strip()
    check(bool(code) and bob.finds("#verification-uri"), "bob: the device page shows a code and where to enter it",
          "#user-code and #verification-uri", code, bob.driver)
    answer = http("POST", oauth["base_url"] + "/_approve_device", {"user_code": code, "user": "bob"})
    check(answer.status == 200, "the provider approves bob's code", "200", str(answer))

    def bob_connected(_):
        connections(bob)
        return row_state(bob, DOCS) == "connected"
    bob.wait(bob_connected, "bob: Docs connected by the device grant", 'data-state="connected"')
    ok("bob: Docs/per-user is connected through the device grant")
    authorization = sign(service, "bob", "callout:Docs/api/me")
    answer = http("GET", oauth["resource_url"], headers={"Authorization": authorization})
    check(answer.status == 200 and json.loads(answer.text()).get("sub") == "bob",
          "bob's signed request is accepted by /api/me as bob", "200 sub=bob", str(answer)[:200])
    expect_state(alice, DOCS, "connected")

    # 9. Operator pages.
    alice.get("/credentials")
    page = alice.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, "#error-page") or [False])[0],
                      "alice (a member): /credentials", "#error-page")
    check(page.get_attribute("data-code") == "forbidden", "alice (a member): /credentials is forbidden",
          'data-code="forbidden"', f'data-code="{page.get_attribute("data-code")}"', alice.driver)
    olivia = Browser(service, "olivia")
    browsers.append(olivia)
    login(olivia, "olivia", PASSWORDS["olivia"])
    check(all(olivia.finds(f"a#nav-{p}") for p in ["connections", "credentials", "expiry", "audit"]),
          "olivia (an operator): nav has connections, credentials, expiry, audit", "4 nav links", "", olivia.driver)
    olivia.get("/credentials")
    olivia.wait_page("/credentials", "table#credentials", "olivia: /credentials")
    for principal in [DOCS, CALENDAR]:
        check(olivia.finds(f'table#credentials tr[data-principal="{principal}"]'),
              f"olivia: /credentials has {principal}", f'tr[data-principal="{principal}"]', "none", olivia.driver)
    olivia.screenshot(shots, "credentials.png")
    olivia.get("/expiry")
    olivia.wait_page("/expiry", "table#expiry", "olivia: /expiry")
    # The provider states its refresh tokens' lifetime (20 days): alice's is in the 30-day calendar.
    rows = [(cell.text, item.text) for cell, item in zip(olivia.finds("table#expiry td.what"),
                                                        olivia.finds("table#expiry td.item"))]
    check(("refresh token", "Docs/per-user for alice") in rows,
          "olivia: /expiry lists alice's Docs refresh token", "refresh token / Docs/per-user for alice", str(rows),
          olivia.driver)
    # A year ahead: the secrets set today reach their rotation age (90 days) in it.
    olivia.get("/expiry?within=365")
    olivia.wait_page("/expiry", "table#expiry", "olivia: /expiry?within=365")
    items = [cell.text for cell in olivia.finds("table#expiry td.item")]
    check(any("Docs/per-user clientSecret" in item for item in items),
          "olivia: the year's calendar has Docs' client secret due for rotation", "Docs/per-user clientSecret",
          str(items), olivia.driver)
    olivia.screenshot(shots, "expiry.png")
    olivia.get("/audit")
    olivia.wait_page("/audit", "table#audit", "olivia: /audit")
    for name in ["user", "credential", "action", "since", "until"]:
        check(olivia.finds(f'form#audit-filter [name="{name}"]'), f"olivia: audit filter has {name}",
              f'form#audit-filter input name="{name}"', "none", olivia.driver)
    olivia.screenshot(shots, "audit.png")
    rows = filter_audit(olivia, user="alice")
    strangers = [(cell(r, "td.actor"), cell(r, "td.target")) for r in rows
                 if "alice" not in cell(r, "td.actor") and "alice" not in cell(r, "td.target")]
    check(rows and not strangers, f"olivia: audit filtered by user=alice: {len(rows)} rows, all about alice",
          "at least one row, each with alice in td.actor or td.target",
          f"{len(rows)} rows; not about alice: {strangers[:5]}", olivia.driver)

    # 10. Alice disconnects Docs: the tokens are revoked at the provider and it is audited.
    connections(alice)
    alice.click_and_leave(row(alice, DOCS).find_element(By.CSS_SELECTOR, "form.disconnect button"),
                          "alice: disconnect Docs")
    expect_notice(alice, "#message", ["disconnected"], "alice disconnected Docs: #message")
    expect_state(alice, DOCS, "not-connected", reload=False)
    bearer = {"Authorization": "Bearer " + access_token}
    answer = poll(lambda: http("GET", oauth["resource_url"], headers=bearer).status == 401) or \
        http("GET", oauth["resource_url"], headers=bearer)
    check(answer is True, "the disconnected Docs access token: 401 at /api/me (revoked)", "401", str(answer))
    stats = poll(lambda: (lambda s: s if s.get("revocations", 0) >= 1 else None)(
        http("GET", oauth["base_url"] + "/_stats").json())) or http("GET", oauth["base_url"] + "/_stats").json()
    check(stats.get("revocations", 0) >= 1, f"the provider counted {stats.get('revocations')} revocation(s)",
          "revocations >= 1", json.dumps(stats))
    disconnect_actions = ("delete", "issued.revoke", "issued.delete")
    actions = poll(lambda: (lambda a: a if any(x.startswith(disconnect_actions) for x in a) else None)(
        [cell(r, "td.action") for r in filter_audit(olivia, credential="Docs")])) or \
        [cell(r, "td.action") for r in audit_rows(olivia)]
    check(any(a.startswith(disconnect_actions) for a in actions),
          "olivia: audit filtered by credential=Docs shows the disconnect",
          "a td.action starting with delete, issued.revoke or issued.delete", repr(actions[:20]), olivia.driver)

    # 11. Logout.
    connections(alice)
    old_cookie = alice.cookies().get("sigil_session")
    alice.click_and_leave(alice.find("form#logout-form #logout", "#logout"), "alice: log out")
    alice.wait_page("/login", "#login-form", "alice logged out: /login")
    alice.get("/connections")
    alice.wait_page("/login", "#login-form", "after logout, /connections sends to /login")
    answer = http("GET", service + "/connections", cookies={"sigil_session": old_cookie})
    check(answer.status == 303 and urllib.parse.urlparse(answer.headers.get("Location", "")).path == "/login",
          "the old session cookie replayed: 303 to /login", "303 Location /login?...", str(answer))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--service", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--oauth-info", required=True, help="oauth_server.py's INFO.json")
    parser.add_argument("--screenshots", help="directory for the screenshots")
    parser.add_argument("--leaks", help="file to which the secrets seen are appended")
    args = parser.parse_args()
    with open(args.oauth_info) as f:
        oauth = json.load(f)
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    # A TERM (e.g. from `timeout`) still quits the browsers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Chromium and chromedriver leave their profiles and sockets in TMPDIR: a private one, removed at the end.
    scratch = tempfile.mkdtemp(prefix="sigil-browser-")
    os.environ["TMPDIR"] = scratch
    browsers = []
    try:
        run(args.service.rstrip("/"), oauth, args.screenshots, args.leaks, browsers)
    except Failure as failure:
        print(failure, file=sys.stderr, flush=True)
        return 1
    except WebDriverException as error:
        print(f"FAILED: the browser: {error}", file=sys.stderr, flush=True)
        for browser in browsers:
            print(f"[{browser.name}]\n{page_excerpt(browser.driver)}", file=sys.stderr)
        return 1
    finally:
        for browser in browsers:
            browser.quit()
        shutil.rmtree(scratch, ignore_errors=True)
    print("browser pages: all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
