public import SigilCore
import Synchronization
import SigilModel

/// Resolves a request URL to the named credential whose endpoint it targets, refusing anything that
/// would send a credential elsewhere.
///
/// `callout:NAME/path?query` appends to NAME's base URL. An absolute URL must lie under exactly one
/// named credential's base URL (at a path-segment boundary). Either way the rest of the URL may not
/// change the scheme, host or port (`//host`, `\`), leave the base path (`.`/`..` segments and their
/// percent-encoded forms, encoded slashes), carry a fragment, or hold spaces, control or non-ASCII
/// characters (percent-encode them).
enum Callout {
    struct Resolution {
        var namedCredential: NamedCredential
        var url: String
    }

    static func resolve(_ url: String, in catalog: Catalog, endpoints: EndpointCache = EndpointCache()) throws(SigilError) -> Resolution {
        if url.hasPrefix("callout:") {
            let rest = url.dropFirst("callout:".count)
            let nameEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            let name = String(rest[..<nameEnd])
            guard let credential = catalog.namedCredential(named: name) else {
                throw SigilError(.calloutRefused, "callout \(name.sanitizedForMessage): no named credential is called \(name.sanitizedForMessage)")
            }
            let suffix = String(rest[nameEnd...])
            return try resolution(credential, suffix: suffix, endpoints: endpoints)
        }
        // An absolute URL: the named credential with the longest base URL that contains it.
        let matches = catalog.namedCredentials.compactMap { credential -> (NamedCredential, String, Int)? in
            guard let base = try? endpoints.endpoint(credential.url).description else { return nil }
            guard url.lowercased().hasPrefix(base.lowercased()) else { return nil }
            let suffix = String(url.dropFirst(base.count))
            guard suffix.isEmpty || suffix.hasPrefix("/") || suffix.hasPrefix("?") else { return nil }
            return (credential, suffix, base.count)
        }
        guard let longest = matches.map(\.2).max() else {
            throw SigilError(.calloutRefused, "\(url.sanitizedForMessage) is under no named credential's base URL; use callout:NAME/path")
        }
        let best = matches.filter { $0.2 == longest }
        guard best.count == 1 else {
            throw SigilError(.calloutRefused, "\(url.sanitizedForMessage) matches named credentials \(best.map(\.0.name).joined(separator: ", ")); use callout:NAME/path")
        }
        return try resolution(best[0].0, suffix: best[0].1, endpoints: endpoints)
    }

    private static func resolution(_ credential: NamedCredential, suffix: String, endpoints: EndpointCache) throws(SigilError) -> Resolution {
        let endpoint: EndpointURL
        do {
            endpoint = try endpoints.endpoint(credential.url)
        } catch {
            throw SigilError(.calloutRefused, "named credential \(credential.name) has an invalid URL: \(error.problem)")
        }
        if let problem = problem(with: suffix) {
            throw SigilError(.calloutRefused, "callout \(credential.name): \(problem); the credential is sent only to \(endpoint)")
        }
        return Resolution(namedCredential: credential, url: endpoint.description + suffix)
    }

    /// Why `suffix` (what follows the base URL) is refused, or `nil`.
    static func problem(with suffix: String) -> String? {
        guard suffix.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "the URL has spaces, control or non-ASCII characters (percent-encode them)"
        }
        if !(suffix.isEmpty || suffix.hasPrefix("/") || suffix.hasPrefix("?")) {
            return "the path must start with / after the credential's name"
        }
        if suffix.hasPrefix("//") { return "the path starts with //, which would name another host" }
        if suffix.contains("\\") { return "the URL has a backslash" }
        if suffix.contains("#") { return "the URL has a fragment" }
        let path = suffix.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        for segment in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let lowered = segment.lowercased()
            let decoded = lowered.replacing("%2e", with: ".")
            if decoded == "." || decoded == ".." { return "the path has a '.' or '..' segment that would leave the base path" }
            if lowered.contains("%2f") || lowered.contains("%5c") { return "the path has an encoded slash" }
        }
        var bytes = suffix.utf8[...]
        while let percent = bytes.firstIndex(of: UInt8(ascii: "%")) {
            let hex = bytes[bytes.index(after: percent)...].prefix(2)
            guard hex.count == 2, hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }) else {
                return "the URL has a '%' that does not start a percent-encoded byte"
            }
            bytes = bytes[bytes.index(after: percent)...]
        }
        return nil
    }
}

extension SigilError.Code {
    /// A request URL would send a credential outside its named credential's endpoint.
    public static let calloutRefused = Self("callout-refused")
    /// No principal is available to the acting user.
    public static let noPrincipal = Self("no-principal")
    /// A request cannot be decorated: a missing secret, a bad header, an unsupported protocol.
    public static let signingFailed = Self("signing-failed")
}

/// Parsed base URLs by their text, so a request does not parse its named credential's URL again.
/// Only successful parses are kept; a small bound keeps it from growing with a changing catalog.
final class EndpointCache: Sendable {
    private let entries = Mutex<[String: EndpointURL]>([:])

    func endpoint(_ url: String) throws(EndpointURLError) -> EndpointURL {
        if let cached = entries.withLock({ $0[url] }) { return cached }
        let parsed = try EndpointURL(parsing: url)
        entries.withLock { entries in
            if entries.count >= 1024 { entries.removeAll() }
            entries[url] = parsed
        }
        return parsed
    }
}
