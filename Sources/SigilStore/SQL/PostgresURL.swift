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
            default: throw invalid("has the unknown parameter \(item.name.sanitizedForMessage) (only sslmode)")
            }
        }
        self.tls = tls
        self.redacted = Self.redact(text)
    }

    /// `text` with the password of its user part replaced by `***`.
    static func redact(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"),
            let at = text[schemeEnd.upperBound...].firstIndex(of: "@"),
            let colon = text[schemeEnd.upperBound..<at].firstIndex(of: ":")
        else { return text.sanitizedForMessage }
        return (String(text[..<text.index(after: colon)]) + "***" + String(text[at...])).sanitizedForMessage
    }
}

extension SigilError.Code {
    /// A `postgres://` vault URL that cannot be used.
    public static let invalidVaultURL = Self("invalid-vault-url")
}
