import SigilCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A named credential's base URL, parsed strictly (RFC 3986 section 3) and normalised.
///
/// Rules: `https`, or plain `http` only to a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`),
/// for development and tests; a host; an optional port; an optional path that meets
/// ``URLPathRules``; no userinfo, query or fragment.
/// The normalised form has a lowercase scheme and host and no trailing slash.
public struct EndpointURL: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?
    /// Empty, or starting with `/` and not ending with one.
    public let path: String

    public init(parsing text: String) throws(EndpointURLError) {
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw EndpointURLError("has spaces, control or non-ASCII characters (percent-encode them)")
        }
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw EndpointURLError("is not an absolute URL (scheme://host/path)")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw EndpointURLError("has scheme \(scheme); only https is allowed (http for loopback addresses)")
        }
        let afterScheme = text[schemeEnd.upperBound...]
        if afterScheme.contains("?") { throw EndpointURLError("has a query string; a base URL may have a path only") }
        if afterScheme.contains("#") { throw EndpointURLError("has a fragment; a base URL may have a path only") }
        let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        if authority.contains("@") {
            throw EndpointURLError("has user information (user@host); credentials belong in the vault")
        }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw EndpointURLError("has an unterminated IPv6 address")
            }
            host = authority[...close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw EndpointURLError("has characters after its IPv6 address") }
                portText = rest.dropFirst()
            }
            // inet_pton's reading, as the resolver's: "[1:2]" is no address, and a host that is not
            // one would be looked up as a name.
            var address = in6_addr()
            guard inet_pton(AF_INET6, String(host.dropFirst().dropLast()), &address) == 1 else {
                throw EndpointURLError("has an invalid IPv6 address")
            }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            if parts.count == 2 { portText = parts[1] }
            guard !host.isEmpty else { throw EndpointURLError("has no host") }
            guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }),
                !host.hasPrefix("."), !host.hasPrefix("-"), !host.contains("..")
            else {
                throw EndpointURLError("has an invalid host name \"\(host)\"")
            }
            // Digits and dots only: an IPv4 address, written as every resolver reads it (no leading
            // zeros, which some read as octal, and four parts).
            if host.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), Self.canonicalIPv4(host) == nil {
                throw EndpointURLError(
                    "has an invalid IPv4 address \"\(host)\" (four numbers from 0 to 255, without leading zeros)")
            }
        }
        var port: Int?
        if let portText {
            guard let number = Int(portText), portText.allSatisfy(\.isNumber), (1...65535).contains(number) else {
                throw EndpointURLError("has an invalid port \"\(portText)\"")
            }
            port = number
        }
        let normalizedHost = host.lowercased()
        if scheme == "http", !Self.isLoopback(host: normalizedHost) {
            throw EndpointURLError(
                "uses plain http to \(normalizedHost); http is allowed only to loopback addresses, use https")
        }

        var path = String(afterScheme[authorityEnd...])
        while path.hasSuffix("/") { path.removeLast() }
        try Self.checkPath(path)

        self.scheme = scheme
        self.host = normalizedHost
        self.port = port
        self.path = path
    }

    /// Whether `host` (lowercase; an IPv6 address with or without its brackets) is a loopback name
    /// or address: `localhost`, `::1`, or `127.x.y.z` written canonically (`127.0.1.080` is not: a
    /// resolver may read it as a name, or `080` as octal).
    public static func isLoopback(host: String) -> Bool {
        if host == "localhost" || host == "[::1]" || host == "::1" { return true }
        guard let octets = canonicalIPv4(Substring(host)) else { return false }
        return octets[0] == 127
    }

    /// The four octets of `text` when it is a dotted-quad IPv4 address in canonical form.
    static func canonicalIPv4(_ text: Substring) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(part),
                value <= 255,
                String(value) == part
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// RFC 3986 `path-abempty` with dot segments and encoded slashes refused.
    static func checkPath(_ path: String) throws(EndpointURLError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%".utf8)
        guard path.utf8.allSatisfy(allowed.contains) else {
            throw EndpointURLError("has characters in its path that must be percent-encoded")
        }
        for segment in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst() {
            if segment.isEmpty {
                throw EndpointURLError("has an empty path segment (//)")
            }
            if let problem = URLPathRules.segmentProblem(segment) {
                throw EndpointURLError("has \(problem) in its path")
            }
        }
        guard URLPathRules.escapesDecodeToUTF8(path.utf8) else {
            throw EndpointURLError("has percent-escapes in its path that are not UTF-8 (such as %ff)")
        }
        let utf8 = Array(path.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%") {
                guard index + 2 < utf8.count, Hex.value(of: utf8[index + 1]) != nil,
                    Hex.value(of: utf8[index + 2]) != nil
                else {
                    throw EndpointURLError("has a '%' that does not start a percent-encoded byte")
                }
                index += 3
            } else {
                index += 1
            }
        }
    }

    /// `scheme://host[:port]`.
    public var origin: String {
        port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }

    public var description: String { origin + path }
}

/// Why a base URL was refused; the named credential's validation wraps it with the item's name.
public struct EndpointURLError: Error, Sendable, Hashable, CustomStringConvertible {
    public let problem: String

    init(_ problem: String) {
        self.problem = problem
    }

    public var description: String { problem }
}
