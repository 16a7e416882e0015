import SigilModel
import Testing

@Suite("EndpointURL: a named credential's base URL")
struct EndpointURLTests {
    @Test(
        "accepted and normalised",
        arguments: [
            ("https://api.billing.example/v1", "https://api.billing.example/v1"),
            ("HTTPS://API.Billing.Example/v1/", "https://api.billing.example/v1"),
            ("https://api.example:8443", "https://api.example:8443"),
            ("https://api.example/a%20b/c~d", "https://api.example/a%20b/c~d"),
            ("http://127.0.0.1:8080/test", "http://127.0.0.1:8080/test"),
            ("http://localhost:9000", "http://localhost:9000"),
            ("http://[::1]:9000/x", "http://[::1]:9000/x"),
            ("https://[2001:db8::1]/x", "https://[2001:db8::1]/x"),
        ])
    func accepted(input: String, normalised: String) throws {
        #expect(try EndpointURL(parsing: input).description == normalised)
    }

    @Test(
        "refused, with the reason",
        arguments: [
            ("http://api.example/v1", "only to loopback"),
            ("http://127.0.0.1.evil.example/", "only to loopback"),
            ("ftp://api.example", "scheme ftp"),
            ("https://api.example/v1?key=1", "query"),
            ("https://api.example/v1#frag", "fragment"),
            ("https://user:pw@api.example", "user information"),
            ("https://api.example/../admin", "'..'"),
            ("https://api.example/v1/%2e%2E/admin", "'..'"),
            ("https://api.example/v1/./x", "'.'"),
            ("https://api.example/a%2Fb", "encoded slash"),
            ("https://api.example/a%zz", "percent-encoded"),
            ("https://api.example//x", "empty path segment"),
            ("https://api.example:0", "port"),
            ("https://api.example:99999", "port"),
            ("https://", "no host"),
            ("https://api example", "spaces"),
            ("api.example/v1", "not an absolute URL"),
            ("https://api.example/caf\u{e9}", "non-ASCII"),
            ("https://api.example/v1/%ff", "not UTF-8"),
            // Found by fuzzing: hosts the resolver reads otherwise than Sigil did.
            ("http://127.0.1.080/v1", "invalid IPv4 address"),
            ("http://127.000.0.1/v1", "invalid IPv4 address"),
            ("https://10.1.1/v1", "invalid IPv4 address"),
            ("https://[1:2]/v1", "invalid IPv6 address"),
            ("https://[8:1e]:8/x", "invalid IPv6 address"),
            ("https://api.example/%c0%ae%c0%ae/admin", "not UTF-8"),
            ("https://api.example/..;/admin", "'..'"),
            ("https://api.example/v1/.;x", "'.'"),
        ])
    func refused(input: String, reason: String) {
        let error = #expect(throws: EndpointURLError.self) { try EndpointURL(parsing: input) }
        #expect(error?.problem.contains(reason) == true, "\(input): \(error?.problem ?? "no error")")
    }
}
