public import SigilCore
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

    static func resolve(_ url: String, in catalog: Catalog, endpoints: EndpointCache) throws(SigilError) -> Resolution {
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

    /// Why `suffix` (what follows the base URL) is refused, or `nil`. One pass over the bytes.
    static func problem(with suffix: String) -> String? {
        let bytes = Array(suffix.utf8)
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "the URL has spaces, control or non-ASCII characters (percent-encode them)"
        }
        if let first = bytes.first, first != UInt8(ascii: "/") && first != UInt8(ascii: "?") {
            return "the path must start with / after the credential's name"
        }
        if bytes.count >= 2 && bytes[0] == UInt8(ascii: "/") && bytes[1] == UInt8(ascii: "/") {
            return "the path starts with //, which would name another host"
        }
        if bytes.contains(UInt8(ascii: "\\")) { return "the URL has a backslash" }
        if bytes.contains(UInt8(ascii: "#")) { return "the URL has a fragment" }
        let pathEnd = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
        // Path segments (after the first "/"): no "." or ".." (also as %2e), no encoded slash.
        var start = 1
        while start <= pathEnd && pathEnd > 0 {
            let end = bytes[start..<pathEnd].firstIndex(of: UInt8(ascii: "/")) ?? pathEnd
            if isDotSegment(bytes[start..<end]) { return "the path has a '.' or '..' segment that would leave the base path" }
            if containsEncoded(bytes[start..<end], 0x2F) || containsEncoded(bytes[start..<end], 0x5C) {
                return "the path has an encoded slash"
            }
            start = end + 1
        }
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else {
                    return "the URL has a '%' that does not start a percent-encoded byte"
                }
                index += 3
            } else {
                index += 1
            }
        }
        return nil
    }

    /// Whether a segment is `.` or `..`, written plainly or as `%2e` (any case).
    private static func isDotSegment(_ segment: ArraySlice<UInt8>) -> Bool {
        var dots = 0
        var index = segment.startIndex
        while index < segment.endIndex {
            if segment[index] == UInt8(ascii: ".") {
                index += 1
            } else if segment[index] == UInt8(ascii: "%"), index + 2 < segment.endIndex,
                      segment[index + 1] == UInt8(ascii: "2"), segment[index + 2] | 0x20 == UInt8(ascii: "e") {
                index += 3
            } else {
                return false
            }
            dots += 1
            if dots > 2 { return false }
        }
        return dots == 1 || dots == 2
    }

    /// Whether `%XX` for `byte` (hex in any case) appears in the segment.
    private static func containsEncoded(_ segment: ArraySlice<UInt8>, _ byte: UInt8) -> Bool {
        let high = UInt8(ascii: "0") + (byte >> 4)
        let low = byte & 0x0F
        let lowDigit = low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10
        var index = segment.startIndex
        while index + 2 < segment.endIndex {
            if segment[index] == UInt8(ascii: "%") && segment[index + 1] == high && segment[index + 2] | 0x20 == lowDigit { return true }
            index += 1
        }
        return false
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66)
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
typealias EndpointCache = Memo<String, EndpointURL>

extension Memo where Key == String, Value == EndpointURL {
    func endpoint(_ url: String) throws(EndpointURLError) -> EndpointURL {
        try value(for: url) { () throws(EndpointURLError) in try EndpointURL(parsing: url) }
    }
}
