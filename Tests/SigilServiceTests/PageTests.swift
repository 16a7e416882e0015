import Foundation
import SigilConfig
import SigilCore
import SigilModel
import SigilStore
import Testing

@testable import SigilService

/// A browser's view of the service: its cookie jar, and the forms' CSRF tokens read off the pages.
struct Browser {
    let service: ServiceHarness
    var cookies: [String: String] = [:]
    /// Extra headers every request carries (a Fetch Metadata header, another credential).
    var headers: [(String, String)] = []

    init(_ service: ServiceHarness) {
        self.service = service
    }

    mutating func get(_ path: String) async throws -> ServiceHarness.Answer {
        try await send("GET", path, body: nil)
    }

    mutating func post(_ path: String, _ form: [(name: String, value: String)]) async throws
        -> ServiceHarness.Answer
    {
        try await send("POST", path, body: PercentEncoding.form(form))
    }

    private mutating func send(_ method: String, _ path: String, body: [UInt8]?) async throws
        -> ServiceHarness.Answer
    {
        var headers = self.headers
        if !cookies.isEmpty {
            headers.append(
                ("Cookie", cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")))
        }
        if body != nil { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
        let answer = try await service.send(method, path, body: body, headers: headers)
        for (name, value) in answer.headers where name.lowercased() == "set-cookie" {
            let pair = value.prefix { $0 != ";" }
            let cookieName = String(pair.prefix { $0 != "=" })
            let cookieValue = String(pair.dropFirst(cookieName.count + 1))
            cookies[cookieName] = value.contains("Max-Age=0") || cookieValue.isEmpty ? nil : cookieValue
        }
        return answer
    }

    /// Logs in through the form, as a person would.
    mutating func logIn(_ user: String, password: String = ServiceHarness.password) async throws
        -> ServiceHarness.Answer
    {
        let form = try await get("/login")
        return try await post(
            "/login", [("csrf", try Self.csrf(in: form)), ("user", user), ("password", password), ("return", "")])
    }

    /// The value of the page's first hidden `csrf` input.
    static func csrf(in answer: ServiceHarness.Answer) throws -> String {
        let text = answer.text
        let marker = #"name="csrf" value=""#
        let start = try #require(text.range(of: marker), "no csrf field in \(text.prefix(400))")
        return String(text[start.upperBound...].prefix { $0 != "\"" })
    }
}

@Suite("The pages: login, sessions, CSRF, connections, operator pages")
struct PageTests {
    /// Per-user principals besides the harness's named ones: Basic (Calendar, granted to alice and
    /// the ops group), custom with a merge field (Tickets, granted to olga only), OAuth 2.0 (Docs,
    /// alice and olga; its provider is never reached here: the browser tests go through the
    /// Authlib server).
    static let perUser = """
        externalCredentials:
          - name: Calendar
            protocol: basic
            principals:
              - { name: per-user, type: per-user }
          - name: Tickets
            protocol: custom
            customHeaders:
              - { name: X-Ticket-Token, value: "{!$Credential.Tickets.token}" }
            principals:
              - { name: mine, type: per-user }
          - name: Docs
            protocol: oauth2
            parameters: { tokenUrl: "http://127.0.0.1:9/token", authorizeUrl: "http://127.0.0.1:9/authorize", grantType: authorization_code, clientId: docs-app, scope: read }
            principals:
              - { name: per-user, type: per-user }
        namedCredentials:
          - { name: Calendar, url: "https://calendar.example/api", externalCredential: Calendar }
          - { name: Tickets, url: "https://tickets.example", externalCredential: Tickets, generateAuthorizationHeader: false, allowMergeFieldsInHeader: true }
          - { name: Docs, url: "https://docs.example", externalCredential: Docs }
        grants:
          - { principal: Calendar/per-user, to: [user:alice, group:ops] }
          - { principal: Tickets/mine, to: [user:olga] }
          - { principal: Docs/per-user, to: [user:alice, user:olga] }
        """

    static func withPages<T>(_ body: (ServiceHarness) async throws -> T) async throws -> T {
        try await ServiceHarness.with { service in
            let config = try ConfigFile(text: perUser, fileName: "per-user.yaml")
            _ = try service.vault.apply(
                try config.resolve { () throws(SigilError) in throw SigilError(.invalidConfiguration, "no stdin") })
            return try await body(service)
        }
    }

    @Test(
        "login: anonymous pages lead to the form; the form's CSRF cookie, wrong passwords, the session cookie's flags")
    func login() async throws {
        try await Self.withPages { service in
            var browser = Browser(service)
            let anonymous = try await browser.get("/connections")
            #expect(anonymous.status == 303)
            #expect(anonymous.header("Location") == "/login?return=%2Fconnections")
            #expect(try await browser.get("/").header("Location") == "/connections")

            let form = try await browser.get("/login?return=%2Faudit")
            #expect(form.status == 200)
            #expect(form.header("Content-Type") == "text/html; charset=utf-8")
            #expect(form.header("Cache-Control") == "no-store")
            #expect(form.header("X-Content-Type-Options") == "nosniff")
            let policy = try #require(form.header("Content-Security-Policy"))
            #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"))
            #expect(!policy.contains("unsafe-inline") && !policy.contains("script-src"))
            #expect(form.text.contains(#"name="return" value="/audit""#))
            let loginCookie = try #require(form.headers.first { $0.1.hasPrefix("sigil_login=") }?.1)
            #expect(loginCookie.contains("HttpOnly") && loginCookie.contains("SameSite=Strict"))

            // Without the form's token (another site's form), nothing is checked.
            var stranger = Browser(service)
            let forged = try await stranger.post(
                "/login", [("csrf", "guess"), ("user", "alice"), ("password", ServiceHarness.password)])
            #expect(forged.status == 400)
            #expect(stranger.cookies[BrowserSessions.cookieName] == nil)

            let wrong = try await browser.logIn("alice", password: "not the password")
            #expect(wrong.status == 401)
            #expect(wrong.text.contains(#"id="error""#) && wrong.text.contains("not right"))
            #expect(!wrong.text.contains("not the password"))
            #expect(browser.cookies[BrowserSessions.cookieName] == nil)

            let good = try await browser.logIn("alice")
            #expect(good.status == 303)
            #expect(good.header("Location") == "/connections")
            let session = try #require(good.headers.first { $0.1.hasPrefix("sigil_session=") }?.1)
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"))
            #expect(!session.contains("Secure"))  // plain HTTP on loopback
            let page = try await browser.get("/connections")
            #expect(page.status == 200)
            #expect(page.text.contains(#"<span id="user">alice</span>"#))

            // A request carrying another credential is that caller's, and no page is served to it.
            var mixed = browser
            mixed.headers = [
                ("Authorization", "Basic " + Data("ada:\(ServiceHarness.password)".utf8).base64EncodedString())
            ]
            #expect(try await mixed.get("/connections").status == 303)
        }
    }

    @Test("a member sees and changes only their own connections; forms need the session's CSRF token")
    func connections() async throws {
        try await Self.withPages { service in
            var alice = Browser(service)
            _ = try await alice.logIn("alice")
            let page = try await alice.get("/connections")
            #expect(page.text.contains(#"data-principal="Calendar/per-user""#))
            #expect(page.text.contains(#"data-principal="Docs/per-user""#))
            #expect(!page.text.contains("Tickets"))  // granted to olga only
            #expect(page.text.contains(#"data-state="not-connected""#))
            // The connect forms redirect to the provider: the policy lets them.
            #expect(page.header("Content-Security-Policy")?.contains("form-action 'self' http://127.0.0.1:9") == true)
            let csrf = try Browser.csrf(in: page)

            let secrets = try await alice.get("/connections/Calendar/per-user/secrets")
            #expect(secrets.text.contains(#"id="secret-username""#) && secrets.text.contains(#"id="secret-password""#))
            #expect(!secrets.text.contains(#"class="set""#))
            let fields: [(name: String, value: String)] = [
                ("username", "alice@calendar"), ("password", "cal-pass-5512"),
            ]
            let missing = try await alice.post("/connections/Calendar/per-user/secrets", fields)
            #expect(missing.status == 403)
            #expect(missing.text.contains(#"data-code="csrf""#))
            let wrong = try await alice.post(
                "/connections/Calendar/per-user/secrets", [("csrf", String(csrf.reversed()))] + fields)
            #expect(wrong.status == 403)
            // Another site (here: another port of this host) cannot post with the cookie at all.
            var crossSite = alice
            crossSite.headers = [("Sec-Fetch-Site", "same-site"), ("Sec-Fetch-Mode", "navigate")]
            #expect(
                try await crossSite.post("/connections/Calendar/per-user/secrets", [("csrf", csrf)] + fields).status
                    == 303)
            let onlyOne = try await alice.post(
                "/connections/Calendar/per-user/secrets", [("csrf", csrf), ("password", "cal-pass-5512")])
            #expect(onlyOne.status == 422)
            #expect(onlyOne.text.contains("username is required"))

            let saved = try await alice.post("/connections/Calendar/per-user/secrets", [("csrf", csrf)] + fields)
            #expect(saved.status == 303)
            #expect(saved.header("Location") == "/connections")
            let after = try await alice.get("/connections")
            #expect(after.text.contains(#"id="message""#) && after.text.contains("Calendar/per-user: saved"))
            #expect(after.text.contains(#"<td class="state" data-state="connected">"#))
            let again = try await alice.get("/connections/Calendar/per-user/secrets")
            #expect(again.text.components(separatedBy: #"<span class="set">set</span>"#).count == 3)
            #expect(!again.text.contains("cal-pass-5512") && !again.text.contains("alice@calendar"))

            // The secrets are alice's authorization: her signed requests carry them.
            let signed = try await service.send(
                "POST", "/v1/sign", as: .basic("alice"), json: ["method": "GET", "url": "callout:Calendar/events"])
            #expect(signed.status == 200)
            #expect(
                signed.text.contains("Basic " + Data("alice@calendar:cal-pass-5512".utf8).base64EncodedString()))

            // olga (ops) has the Calendar too, not connected: alice's authorization is not hers.
            var olga = Browser(service)
            _ = try await olga.logIn("olga")
            let olgaPage = try await olga.get("/connections")
            #expect(olgaPage.text.contains(#"data-principal="Tickets/mine""#))
            #expect(!olgaPage.text.contains(#"data-state="connected""#))
            // ...and alice cannot reach olga's Tickets, nor what does not exist.
            let forbidden = try await alice.get("/connections/Tickets/mine/secrets")
            #expect(forbidden.status == 403)
            #expect(forbidden.text.contains(#"data-code="forbidden""#))
            #expect(try await alice.post("/connections/Tickets/mine/disconnect", [("csrf", csrf)]).status == 403)
            #expect(try await alice.get("/connections/Nothing/here/secrets").status == 404)
            // olga's custom principal asks for its merge field.
            let tickets = try await olga.get("/connections/Tickets/mine/secrets")
            #expect(tickets.text.contains(#"id="secret-token""#))

            let gone = try await alice.post("/connections/Calendar/per-user/disconnect", [("csrf", csrf)])
            #expect(gone.status == 303)
            let disconnected = try await alice.get("/connections")
            #expect(disconnected.text.contains("Calendar/per-user: disconnected"))
            #expect(!disconnected.text.contains(#"data-state="connected""#))
            let unsigned = try await service.send(
                "POST", "/v1/sign", as: .basic("alice"), json: ["method": "GET", "url": "callout:Calendar/events"])
            #expect(unsigned.status != 200)
            let audit = try service.vault.auditEntries(matching: AuditFilter(user: "alice"))
            #expect(audit.contains { $0.action == "delete" && $0.target.contains("Calendar/per-user") })
        }
    }

    @Test("OAuth connect: PKCE S256 to the service's callback; state single-use and bound to the session")
    func oauthState() async throws {
        try await Self.withPages { service in
            var alice = Browser(service)
            _ = try await alice.logIn("alice")
            let csrf = try Browser.csrf(in: try await alice.get("/connections"))
            let connect = try await alice.post("/connections/Docs/per-user/connect", [("csrf", csrf)])
            #expect(connect.status == 303)
            let location = try #require(connect.header("Location"))
            let query = try #require(URLComponents(string: location)?.queryItems)
            func item(_ name: String) -> String? { query.first { $0.name == name }?.value }
            #expect(location.hasPrefix("http://127.0.0.1:9/authorize?"))
            #expect(item("code_challenge_method") == "S256" && item("code_challenge") != nil)
            #expect(item("redirect_uri") == service.url + "/oauth/callback")
            #expect(item("login_hint") == nil)
            let state = try #require(item("state"))

            // Without a session: to the login form.
            var anonymous = Browser(service)
            #expect(try await anonymous.get("/oauth/callback?code=c&state=\(state)").status == 303)
            let forged = try await alice.get("/oauth/callback?code=c&state=forged")
            #expect(forged.status == 400)
            #expect(forged.text.contains(#"data-code="invalid-state""#) && forged.text.contains("state"))
            // Another session presenting alice's state (a link sent to olga) is refused, and the
            // state is used up.
            var olga = Browser(service)
            _ = try await olga.logIn("olga")
            #expect(try await olga.get("/oauth/callback?code=c&state=\(state)").status == 403)
            #expect(try await alice.get("/oauth/callback?code=c&state=\(state)").status == 400)

            // The provider's refusal comes back to the connections page.
            let second = try await alice.post("/connections/Docs/per-user/connect", [("csrf", csrf)])
            let secondState = try #require(
                URLComponents(string: second.header("Location") ?? "")?.queryItems?.first { $0.name == "state" }?.value)
            let denied = try await alice.get("/oauth/callback?error=access_denied&state=\(secondState)")
            #expect(denied.status == 303)
            let page = try await alice.get("/connections")
            #expect(page.text.contains(#"id="error""#) && page.text.contains("access_denied"))
        }
    }

    @Test("operator pages: members get 403 pages; operators see credentials, the expiry calendar and the audit log")
    func operatorPages() async throws {
        try await Self.withPages { service in
            var alice = Browser(service)
            _ = try await alice.logIn("alice")
            let refused = try await alice.get("/credentials")
            #expect(refused.status == 403)
            #expect(refused.text.contains(#"data-code="forbidden""#))
            #expect(!refused.text.contains(#"id="nav-audit""#))

            var olga = Browser(service)
            _ = try await olga.logIn("olga")
            let credentials = try await olga.get("/credentials")
            #expect(credentials.status == 200)
            #expect(credentials.text.contains(#"<table id="credentials">"#))
            #expect(credentials.text.contains(#"data-principal="Billing/billing-org""#))
            #expect(credentials.text.contains(#"data-principal="Calendar/per-user""#))
            #expect(!credentials.text.contains(ServiceHarness.billingKey))
            let expiry = try await olga.get("/expiry?within=3650")
            #expect(expiry.status == 200)
            #expect(expiry.text.contains(#"<table id="expiry">"#) && expiry.text.contains("Billing/billing-org apiKey"))
            #expect(try await olga.get("/expiry?within=forever").status == 400)

            let audit = try await olga.get("/audit?action=user&user=test")
            #expect(audit.status == 200)
            #expect(audit.text.contains(#"<td class="action">user.create</td>"#))
            #expect(!audit.text.contains(#"<td class="action">grant.update</td>"#))
            let older = try await olga.get("/audit?before=3")
            #expect(older.text.contains(#"data-seq="2""#) && !older.text.contains(#"data-seq="3""#))
            #expect(older.text.contains(#"id="previous-page""#))
            let all = try await olga.get("/audit")
            let count = try service.vault.auditEntries(limit: 1000).count
            #expect(all.text.contains(#"id="next-page""#) == (count > OperatorPages.auditPageSize))
            let bad = try await olga.get("/audit?since=yesterday")
            #expect(bad.status == 400)
            #expect(bad.text.contains("since: expected a date"))
        }
    }

    @Test("logout ends the session; its cookie is worth nothing after")
    func logout() async throws {
        try await Self.withPages { service in
            var alice = Browser(service)
            _ = try await alice.logIn("alice")
            let cookie = try #require(alice.cookies[BrowserSessions.cookieName])
            let csrf = try Browser.csrf(in: try await alice.get("/connections"))
            let out = try await alice.post("/logout", [("csrf", csrf)])
            #expect(out.status == 303 && out.header("Location") == "/login")
            #expect(alice.cookies[BrowserSessions.cookieName] == nil)
            var replay = Browser(service)
            replay.cookies[BrowserSessions.cookieName] = cookie
            #expect(try await replay.get("/connections").status == 303)
            #expect(
                try await service.send(
                    "POST", "/v1/sign", json: ["method": "GET", "url": "callout:Billing/x"],
                    headers: [("Cookie", "\(BrowserSessions.cookieName)=\(cookie)")]
                ).status == 401)
        }
    }

    @Test("every value on a page is escaped by the template engine")
    func escaping() throws {
        var frame = PageFrame(title: #"<script>alert("t")</script>"#)
        frame.error = "it's <b>&</b>"
        frame.user = #"x" onmouseover="y"#
        let (status, described) = PageRenderer.describe(ServiceError.invalid("<img src=x>"), in: frame)
        #expect("\(status)".hasPrefix("400"))
        let html = try #require(PageRenderer().html("error", ["page": described]))
        #expect(!html.contains("<script>alert") && !html.contains("<img src=x>") && !html.contains(#"x" onmouseover"#))
        #expect(html.contains("&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;"))
        #expect(html.contains("&lt;img src=x&gt;"))
    }

    @Test("the templates compiled into the binary are those in Pages/Templates, and each renders")
    func templatesEmbedded() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/SigilService/Pages/Templates")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasSuffix(".mustache") || $0.hasSuffix(".css")
        }
        #expect(Set(files) == Set(EmbeddedTemplates.files.keys))
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(EmbeddedTemplates.files[file] == text, "\(file) differs: run scripts/embed")
        }
        let renderer = PageRenderer()
        for file in files where file.hasSuffix(".mustache") && file != "layout.mustache" {
            let name = String(file.dropLast(".mustache".count))
            let html = try #require(renderer.html(name, ["page": PageFrame(title: "t")]), "\(name) did not register")
            #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("</html>"), "\(name)")
        }
    }
}
