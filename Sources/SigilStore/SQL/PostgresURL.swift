import Foundation
public import SigilCore
import SigilModel

/// A `postgres://[user[:password]@]host[:port]/database[?sslmode=...]` URL, as libpq reads it.
///
/// The password (from the URL, else `PGPASSWORD`, as libpq reads it) is kept out of ``redacted``, which is what messages and
/// `Vault.path` show. Give such a URL through `SIGIL_VAULT`, never as an argument (argv is visible to
/// every user of the machine). TLS: `sslmode=disable` is refused for a host outside loopback;
/// `require` (the default outside loopback) and `verify-full` both verify the server's certificate
/// against the system's roots and its name, since an unverified TLS connection would hand the
/// vault's sealed blobs and audit chain to whoever sits in between.
struct PostgresURL: Sendable {
    enum TLSMode: String, Sendable {
        case disable, require
    }

    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var tls: TLSMode
    /// The URL without its password.
    var redacted: String

    init(_ text: String) throws {
        func invalid(_ problem: String) -> SigilError {
            SigilError(.invalidVaultURL, "the vault URL \(Self.redact(text)) \(problem)")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw invalid("is not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("names no host") }
        guard components.fragment == nil else { throw invalid("has a #fragment, which a database URL cannot have") }
        let database = String(components.path.dropFirst())
        guard !database.isEmpty, !database.contains("/") else {
            throw invalid("names no database (postgres://user@host:port/DATABASE)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = components.user?.removingPercentEncoding ?? "postgres"
        // As libpq does: PGPASSWORD when the URL has none (a password kept out of argv).
        self.password =
            components.password?.removingPercentEncoding ?? getenv("PGPASSWORD").map { String(cString: $0) }
        self.database = database.removingPercentEncoding ?? database
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        var tls: TLSMode = loopback ? .disable : .require
        for item in components.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", "disable"):
                guard loopback else {
                    throw invalid("asks for sslmode=disable outside loopback; the vault's database needs TLS there")
                }
                tls = .disable
            case ("sslmode", "require"), ("sslmode", "verify-full"), ("sslmode", "verify-ca"): tls = .require
            case ("sslmode", _): throw invalid("has an unknown sslmode (disable, require or verify-full)")
            // Not echoed: the rest of a malformed URL may hold its password.
            default: throw invalid("has a parameter other than sslmode")
            }
        }
        self.tls = tls
        self.redacted = Self.redact(text)
    }

    /// `text` with the password of its user part replaced by `***`. Everything from `//` to the
    /// text's last `@` is taken as the user part, whatever a parser would make of it (a fuzzed URL
    /// with two `@` showed a second copy of the password), so no reading of the URL finds a password
    /// in what is shown; the user name stays when it is plain.
    static func redact(_ text: String) -> String {
        // The authority starts after the first `//` (a URL without a scheme has one too), or at
        // the start of a text without one.
        let start = text.range(of: "//")?.upperBound ?? text.startIndex
        guard let at = text[start...].lastIndex(of: "@") else { return text.sanitizedForMessage }
        let userPart = text[start..<at]
        guard let colon = userPart.firstIndex(of: ":") else { return text.sanitizedForMessage }
        let user = userPart[..<colon]
        let shownUser = user.contains("/") || user.contains("@") ? "" : String(user)
        return (String(text[..<start]) + shownUser + ":***" + String(text[at...])).sanitizedForMessage
    }
}

extension SigilError.Code {
    /// A `postgres://` vault URL that cannot be used.
    public static let invalidVaultURL = Self("invalid-vault-url")
}
