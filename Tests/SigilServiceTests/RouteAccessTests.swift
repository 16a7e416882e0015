import Foundation
import SigilService
import SigilStore
import SigilTestSupport
import Testing

@Suite("Every route's access rule, enumerated over HTTP")
struct RouteAccessTests {
    /// The only routes an anonymous caller may reach. A new route is protected unless it is added
    /// here on purpose.
    static let publicRoutes: Set<String> = [
        "GET /healthz", "GET /readyz", "GET /openapi.json", "GET /saml/login", "POST /saml/acs",
        // The pages' way in: the login form, the stylesheet, `/` (to the connections), and the
        // OAuth callback (which checks the session and the state itself).
        "GET /", "GET /login", "POST /login", "GET /static/sigil.css", "GET /oauth/callback",
    ]

    /// A concrete path for a route pattern.
    static func path(_ pattern: String) -> String {
        pattern.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") || segment == "**" ? "x" : String(segment)
        }.joined(separator: "/")
    }

    @Test(
        "anonymous callers reach only the public routes; members, operators and admins only theirs",
        arguments: TestStore.all)
    func everyRoute(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let routes = service.routes
            #expect(routes.count > 20)
            #expect(Set(routes.filter { $0.access == .anyone }.map { "\($0.method) \($0.path)" }) == Self.publicRoutes)
            // The pages are reached with a browser session (the login form's), nothing else.
            var browsers: [String: Browser] = [:]
            for user in ["alice", "olga", "ada"] {
                var browser = Browser(service)
                #expect(try await browser.logIn(user).status == 303)
                browsers[user] = browser
            }
            for route in routes {
                let path = Self.path(route.path)
                let method = route.method
                let anonymous = try await service.send(method, path)
                if route.access == .anyone {
                    // Not refused for want of a caller (SAML routes answer 404 when SAML is off, 400 on no form).
                    #expect(
                        anonymous.status != 401 && anonymous.status != 403,
                        "\(method) \(path) anonymously: \(anonymous.status)")
                } else if route.isPage {
                    #expect(anonymous.status == 303, "\(method) \(path) anonymously: \(anonymous.status)")
                    #expect(anonymous.header("Location")?.hasPrefix("/login") == true)
                } else {
                    #expect(anonymous.status == 401, "\(method) \(path) anonymously: \(anonymous.status)")
                    if method != "HEAD" { #expect(anonymous.errorCode == "unauthenticated") }
                }
                // alice is a member, olga an operator, ada an admin.
                for (caller, level) in [("alice", Access.member), ("olga", .operator), ("ada", .admin)] {
                    let admitted = Self.rank(level) >= Self.rank(route.access)
                    let answer: ServiceHarness.Answer
                    if route.isPage {
                        // HTTP Basic does not open a page; the session does.
                        let basic = try await service.send(method, path, as: .basic(caller))
                        #expect(basic.status == 303, "\(method) \(path) with Basic as \(caller): \(basic.status)")
                        var browser = browsers[caller]!
                        if method == "POST" {
                            let csrf = try Browser.csrf(in: try await browser.get("/connections"))
                            answer = try await browser.post(path, [("csrf", csrf)])
                            if path == "/logout" {
                                #expect(try await browser.logIn(caller).status == 303)
                            }
                        } else {
                            answer = try await browser.get(path)
                        }
                        browsers[caller] = browser
                    } else {
                        answer = try await service.send(method, path, as: .basic(caller))
                    }
                    if admitted {
                        #expect(
                            answer.status != 401 && answer.status != 403,
                            "\(method) \(path) as \(caller): \(answer.status) \(answer.text)")
                    } else {
                        #expect(answer.status == 403, "\(method) \(path) as \(caller): \(answer.status)")
                    }
                }
            }
        }
    }

    static func rank(_ access: Access) -> Int {
        switch access {
        case .anyone: 0
        case .member: 1
        case .operator: 2
        case .admin: 3
        }
    }

    @Test("an unknown route is a JSON 404, and a wrong password a 401 even on a public route")
    func unknownAndWrong() async throws {
        try await ServiceHarness.with { service in
            let unknown = try await service.send("GET", "/v1/nothing-here", as: .basic("alice"))
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "not-found")
            let wrong = try await service.send("GET", "/healthz", as: .basic("alice", password: "wrong password"))
            #expect(wrong.status == 401)
            #expect(wrong.header("WWW-Authenticate")?.hasPrefix("Basic") == true)
        }
    }
}

@Suite("A catalog changed without the vault's key")
struct TamperedCatalogTests {
    @Test(
        "health still answers, readiness says not ready, every other route names the problem and signs nothing",
        arguments: TestStore.all)
    func tampered(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            try TestStore.raw(
                service.vault.path, "UPDATE named_credentials SET url = 'https://evil.example' WHERE name = 'Billing'")
            try await Task.sleep(for: .milliseconds(150))  // the kept catalog is checked again within 100 ms
            #expect(try await service.send("GET", "/healthz").status == 200)
            let ready = try await service.send("GET", "/readyz")
            #expect(ready.status == 503)
            let sign = try await service.send(
                "POST", "/v1/sign", as: .key("app"), json: ["method": "GET", "url": "callout:Billing/x"])
            #expect(sign.status == 500)
            #expect(sign.errorCode == "catalog-tampered")
            #expect(!sign.text.contains(ServiceHarness.billingKey))
        }
    }
}
