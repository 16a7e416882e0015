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
    private static func callout(_ bytes: UnsafeBufferPointer<UInt8>, in routes: Routes) -> Result<Resolution, SigilError>? {
        // "callout:" is 8 bytes: one unaligned 64-bit load compares it.
        let prefix: StaticString = "callout:"
        guard bytes.count >= 8,
              UnsafeRawPointer(bytes.baseAddress!).loadUnaligned(as: UInt64.self) == UnsafeRawPointer(prefix.utf8Start).loadUnaligned(as: UInt64.self)
        else { return nil }
        let end = bytes[8...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.endIndex
        let name = String(decoding: bytes[8..<end], as: UTF8.self)
        guard let route = routes.byName[name] else {
            return .failure(SigilError(.calloutRefused, "callout \(name.sanitizedForMessage): no named credential is called \(name.sanitizedForMessage)"))
        }
        return resolution(route, suffix: UnsafeBufferPointer(rebasing: bytes[end...]))
    }

    /// An absolute URL: the named credential with the longest base URL that contains it.
    private static func absolute(_ bytes: UnsafeBufferPointer<UInt8>, _ url: String, in routes: Routes) -> Result<Resolution, SigilError> {
        // ASCII case only, so byte offsets in it are offsets in `url`.
        let lowercased = String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        let matches = routes.byBase.filter { base, _ in
            guard lowercased.hasPrefix(base) else { return false }
            let next = lowercased.utf8.dropFirst(base.utf8.count).first
            return next == nil || next == UInt8(ascii: "/") || next == UInt8(ascii: "?")
        }
        guard let longest = matches.first?.base.utf8.count else {
            return .failure(SigilError(.calloutRefused, "\(url.sanitizedForMessage) is under no named credential's base URL; use callout:NAME/path"))
        }
        let best = matches.filter { $0.base.utf8.count == longest }
        guard best.count == 1 else {
            return .failure(SigilError(.calloutRefused, "\(url.sanitizedForMessage) matches named credentials \(best.map(\.route.namedCredential.name).joined(separator: ", ")); use callout:NAME/path"))
        }
        return resolution(best[0].route, suffix: UnsafeBufferPointer(rebasing: bytes[longest...]))
    }

    /// The route's base URL followed by `suffix` (what follows NAME or the base URL), unless the
    /// suffix would leave the endpoint.
    private static func resolution(_ route: Routes.Route, suffix: UnsafeBufferPointer<UInt8>) -> Result<Resolution, SigilError> {
        let base: String
        switch route.base {
        case .success(let url): base = url
        case .failure(let error): return .failure(error)
        }
        if let problem = problem(with: suffix) {
            return .failure(SigilError(.calloutRefused, "callout \(route.name): \(problem); the credential is sent only to \(base)"))
        }
        // base + suffix in one allocation (both are ASCII by now).
        let url = base.utf8.withContiguousStorageIfAvailable { base in
            String(unsafeUninitializedCapacity: base.count + suffix.count) { buffer in
                buffer[buffer.initialize(fromContentsOf: base)...].initialize(fromContentsOf: suffix)
            }
        } ?? base + String(decoding: suffix, as: UTF8.self)
        return .success(Resolution(route: route, url: url))
    }

    /// Why `suffix` (what follows the base URL) is refused, or `nil`. One pass over the bytes.
    private static func problem(with bytes: UnsafeBufferPointer<UInt8>) -> String? {
        // One pass for the byte rules; the problems are reported in a fixed order below.
        var pathEnd = bytes.count
        var backslash = false, fragment = false, strayPercent = false
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
                if !(index + 2 < bytes.count && isHex(bytes[index + 1]) && isHex(bytes[index + 2])) { strayPercent = true }
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
        if strayPercent { return "the URL has a '%' that does not start a percent-encoded byte" }
        return nil
    }

    /// Whether a segment is `.` or `..`, written plainly or as `%2e` (any case).
    private static func isDotSegment(_ segment: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
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
    private static func containsEncoded(_ segment: Slice<UnsafeBufferPointer<UInt8>>, _ byte: UInt8) -> Bool {
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
