public import SigilCore
import SigilModel

/// Resolves a request URL to the named credential whose endpoint it targets, refusing anything that
/// would send a credential elsewhere.
///
/// `callout:NAME/path?query` appends to NAME's base URL. An absolute URL must lie under exactly one
/// named credential's base URL (at a path-segment boundary). Either way the rest of the URL may not
/// change the scheme, host or port (`//host`, `\`), break ``URLPathRules`` (leave the base path
/// with `.`/`..` segments in any spelling, encoded slashes, escapes that are not UTF-8), carry a
/// fragment, or hold spaces, control or non-ASCII characters (percent-encode them). Characters
/// that HTTP libraries percent-encode on the way out (`[`, `{`, `|`...) are encoded here, so the URL
/// checked, signed and printed is the URL sent.
enum Callout {
    struct Resolution {
        var route: Routes.Route
        var url: String
    }

    static func resolve(_ url: String, in routes: Routes) throws(SigilError) -> Resolution {
        // Everything below works on the URL's bytes (native strings are contiguous already).
        var url = url
        url.makeContiguousUTF8()
        let resolved = url.utf8.withContiguousStorageIfAvailable { bytes in
            callout(bytes, in: routes) ?? absolute(bytes, url, in: routes)
        }
        return try resolved!.get()
    }

    /// For `callout:NAME/rest`: NAME's route with the rest appended; `nil` when it is no callout.
    private static func callout(_ bytes: UnsafeBufferPointer<UInt8>, in routes: Routes) -> Result<
        Resolution, SigilError
    >? {
        // "callout:" is 8 bytes: one unaligned 64-bit load compares it.
        let prefix: StaticString = "callout:"
        guard bytes.count >= 8,
            UnsafeRawPointer(bytes.baseAddress!).loadUnaligned(as: UInt64.self)
                == UnsafeRawPointer(prefix.utf8Start).loadUnaligned(as: UInt64.self)
        else { return nil }
        let end = bytes[8...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.endIndex
        let name = String(decoding: bytes[8..<end], as: UTF8.self)
        guard let route = routes.route(named: name) else {
            return .failure(
                SigilError(
                    .calloutRefused,
                    "callout \(name.sanitizedForMessage): no named credential is called \(name.sanitizedForMessage)"))
        }
        return resolution(route, suffix: UnsafeBufferPointer(rebasing: bytes[end...]))
    }

    /// An absolute URL: the named credential with the longest base URL that contains it.
    private static func absolute(_ bytes: UnsafeBufferPointer<UInt8>, _ url: String, in routes: Routes) -> Result<
        Resolution, SigilError
    > {
        // ASCII case only, so byte offsets in it are offsets in `url`.
        let lowercased = String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        let matches = routes.byBase.filter { base, _ in
            guard lowercased.hasPrefix(base) else { return false }
            let next = lowercased.utf8.dropFirst(base.utf8.count).first
            return next == nil || next == UInt8(ascii: "/") || next == UInt8(ascii: "?")
        }
        guard let longest = matches.first?.base.utf8.count else {
            return .failure(
                SigilError(
                    .calloutRefused,
                    "\(url.urlForMessage) is under no named credential's base URL; use callout:NAME/path"))
        }
        let best = matches.filter { $0.base.utf8.count == longest }
        guard best.count == 1 else {
            return .failure(
                SigilError(
                    .calloutRefused,
                    "\(url.urlForMessage) matches named credentials \(best.map(\.name).joined(separator: ", ")); use callout:NAME/path"
                ))
        }
        guard let route = routes.route(named: best[0].name) else {
            return .failure(SigilError(.calloutRefused, "named credential \(best[0].name) is gone"))
        }
        return resolution(route, suffix: UnsafeBufferPointer(rebasing: bytes[longest...]))
    }

    /// The route's base URL followed by `suffix` (what follows NAME or the base URL), unless the
    /// suffix would leave the endpoint.
    private static func resolution(_ route: Routes.Route, suffix: UnsafeBufferPointer<UInt8>) -> Result<
        Resolution, SigilError
    > {
        var base: String
        switch route.base {
        case .success(let url): base = url
        case .failure(let error): return .failure(error)
        }
        if let problem = problem(with: suffix) {
            return .failure(
                SigilError(.calloutRefused, "callout \(route.name): \(problem); the credential is sent only to \(base)")
            )
        }
        // base + suffix in one allocation (both are ASCII by now), with the characters Foundation
        // would percent-encode on the way out encoded here, so the URL signed is the URL sent.
        let encoded = suffix.reduce(0) { $0 + (URLPathRules.mustBeEncoded($1) ? 2 : 0) }
        base.makeContiguousUTF8()
        let url = base.utf8.withContiguousStorageIfAvailable { base in
            String(unsafeUninitializedCapacity: base.count + suffix.count + encoded) { buffer in
                var end = buffer.initialize(fromContentsOf: base)
                if encoded == 0 { return buffer[end...].initialize(fromContentsOf: suffix) }
                let hex = Hex.uppercaseDigits
                for byte in suffix {
                    if URLPathRules.mustBeEncoded(byte) {
                        buffer[end] = UInt8(ascii: "%")
                        buffer[end + 1] = hex.utf8Start[Int(byte >> 4)]
                        buffer[end + 2] = hex.utf8Start[Int(byte & 0x0F)]
                        end += 3
                    } else {
                        buffer[end] = byte
                        end += 1
                    }
                }
                return end
            }
        }!
        return .success(Resolution(route: route, url: url))
    }

    /// Why `suffix` (what follows the base URL) is refused, or `nil`. One pass over the bytes.
    private static func problem(with bytes: UnsafeBufferPointer<UInt8>) -> String? {
        // One pass for the byte rules; the problems are reported in a fixed order below.
        var pathEnd = bytes.count
        var backslash = false
        var fragment = false
        var strayPercent = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte > 0x20 && byte < 0x7F else {
                return "the URL has spaces, control or non-ASCII characters (percent-encode them)"
            }
            switch byte {
            case UInt8(ascii: "\\"): backslash = true
            case UInt8(ascii: "#"): fragment = true
            case UInt8(ascii: "?"): pathEnd = min(pathEnd, index)
            case UInt8(ascii: "%"):
                if !(index + 2 < bytes.count && Hex.value(of: bytes[index + 1]) != nil
                    && Hex.value(of: bytes[index + 2]) != nil)
                {
                    strayPercent = true
                }
            default: break
            }
            index += 1
        }
        if let first = bytes.first, first != UInt8(ascii: "/") && first != UInt8(ascii: "?") {
            return "the path must start with / after the credential's name"
        }
        if bytes.count >= 2 && bytes[0] == UInt8(ascii: "/") && bytes[1] == UInt8(ascii: "/") {
            return "the path starts with //, which would name another host"
        }
        if backslash { return "the URL has a backslash" }
        if fragment { return "the URL has a fragment" }
        // Path segments (after the first "/"), then the path's escapes (URLPathRules).
        var start = 1
        while start <= pathEnd && pathEnd > 0 {
            let end = bytes[start..<pathEnd].firstIndex(of: UInt8(ascii: "/")) ?? pathEnd
            if let problem = URLPathRules.segmentProblem(bytes[start..<end]) { return "the path has \(problem)" }
            start = end + 1
        }
        if strayPercent { return "the URL has a '%' that does not start a percent-encoded byte" }
        if !URLPathRules.escapesDecodeToUTF8(bytes[..<pathEnd]) {
            return "the path has percent-escapes that are not UTF-8 (such as %ff or %c0%ae), which HTTP libraries drop"
        }
        return nil
    }
}

extension SigilError.Code {
    /// A request URL would send a credential outside its named credential's endpoint.
    public static let calloutRefused = Self("callout-refused")
    /// No principal is available to the acting user.
    public static let noPrincipal = Self("no-principal")
    /// A secret the request needs is not stored (for the principal, or for the acting user): set it
    /// with `sigil secret set`.
    public static let missingSecret = Self("missing-secret")
    /// A parameter of a credential is missing or malformed (checked at `sigil apply`; met at signing
    /// only in a catalog written before the check).
    public static let invalidParameter = Self("invalid-parameter")
    /// A stored secret has the wrong shape: a key that is not a key for its algorithm, a
    /// certificate that does not hold the key.
    public static let invalidSecret = Self("invalid-secret")
    /// The credential does not do what was asked (presigning with a JWT credential, say).
    public static let unsupported = Self("unsupported")
}
