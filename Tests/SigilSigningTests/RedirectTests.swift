import SigilCore
import SigilSigning
import Testing

@Suite("Redirects judged against the named credential's endpoint")
struct RedirectTests {
    let engine = SigningEngineTests.engine

    func redirect(
        _ location: String, from url: String = "https://api.billing.example/v1/invoices/42",
        credential: String = "Billing"
    ) throws -> SigningEngine.Redirect {
        try engine.redirect(from: url, namedCredential: credential, to: location)
    }

    @Test(
        "inside the endpoint (same scheme, host, port, under the base path): a callout to decorate again",
        arguments: [
            ("/v1/invoices/43", "callout:Billing/invoices/43"),
            ("43?expand=lines", "callout:Billing/invoices/43?expand=lines"),
            ("../payments", "callout:Billing/payments"),
            ("https://API.billing.example:443/v1/x#part", "callout:Billing/x"),
            ("/v1", "callout:Billing"),
            ("//api.billing.example/v1/y", "callout:Billing/y"),
        ])
    func inside(location: String, callout: String) throws {
        #expect(try redirect(location).callout == callout)
    }

    @Test(
        "outside the endpoint: no callout, the absolute URL and host for the caller's policy",
        arguments: [
            ("https://evil.example/v1/invoices", "https://evil.example/v1/invoices", "evil.example"),
            ("/v2/invoices", "https://api.billing.example/v2/invoices", "api.billing.example"),
            ("/v1x", "https://api.billing.example/v1x", "api.billing.example"),
            (
                "https://api.billing.example:8443/v1/x", "https://api.billing.example:8443/v1/x",
                "api.billing.example:8443"
            ),
            ("//other.example/v1", "https://other.example/v1", "other.example"),
        ])
    func outside(location: String, url: String, host: String) throws {
        let target = try redirect(location)
        #expect(target.callout == nil)
        #expect(target.url == url)
        #expect(target.host == host)
    }

    @Test("a loopback http endpoint with a port: another port is another endpoint")
    func ports() throws {
        let from = "http://127.0.0.1:8080/cal/events"
        #expect(try redirect("/cal/next", from: from, credential: "Calendar").callout == "callout:Calendar/next")
        #expect(try redirect("http://127.0.0.1:8081/cal/next", from: from, credential: "Calendar").callout == nil)
        #expect(try redirect("http://127.0.0.1/cal/next", from: from, credential: "Calendar").callout == nil)
    }

    @Test(
        "never followed: https to http, other schemes, user information, a Location that is no URL",
        arguments: [
            ("http://api.billing.example/v1/x", "from https to http"),
            ("ftp://api.billing.example/v1/x", "ftp URL"),
            ("https://user@api.billing.example/v1/x", "user information"),
            ("http://[zz/", "not a valid URL"),
        ])
    func refused(location: String, problem: String) throws {
        let error = try #require(throws: SigilError.self) { try redirect(location) }
        #expect(error.reason.contains("named credential Billing"), "\(error.reason)")
        #expect(error.reason.contains(problem), "\(error.reason)")
    }
}
