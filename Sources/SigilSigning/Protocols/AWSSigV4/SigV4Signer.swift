import Crypto
public import Foundation
public import SigilCore
import Synchronization

/// AWS Signature Version 4, one function per stage of the specification ("Create a signed AWS API
/// request", AWS IAM User Guide), with the clock injected so tests are exact.
///
/// Which headers are signed is a policy shared with botocore (`botocore.auth`), so a request
/// signed by Sigil and by botocore carries the same signature: every header present, lowercased,
/// except hop-by-hop and proxy headers and `user-agent`/`x-amzn-trace-id` (``unsignedHeaders``),
/// plus `host` from the URL when absent. S3 (`s3*` services) signs the path exactly as given and
/// sends `x-amz-content-sha256`; other services remove dot segments and empty segments and encode
/// the path a second time.
public struct SigV4Signer: Sendable {
    public struct Credentials: Sendable {
        public var accessKeyID: String
        public var secretAccessKey: SecretBytes
        public var sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: SecretBytes, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    /// A request as the signer sees it.
    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var headers: [(name: String, value: String)]
        /// Lowercase hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        public var payloadHash: String

        public init(method: String, url: String, headers: [(name: String, value: String)], payloadHash: String) {
            self.method = method
            self.url = url
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// botocore's `SIGNED_HEADERS_BLACKLIST`.
    public static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let algorithm = "AWS4-HMAC-SHA256"

    public let credentials: Credentials
    public let region: String
    public let service: String
    let keyCache: SigningKeyCache

    public init(credentials: Credentials, region: String, service: String, keyCache: SigningKeyCache = .shared) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.keyCache = keyCache
    }

    var isS3: Bool { service.hasPrefix("s3") }

    // MARK: Signing with headers

    /// Adds `X-Amz-Date` (or rewrites `Date`), `X-Amz-Security-Token`, `X-Amz-Content-SHA256` (S3,
    /// or an unsigned payload) and `Authorization` to `request`.
    public func sign(_ request: Request, at date: Date, trace: SigningTrace? = nil) -> Request {
        var request = request
        let time = AmzTime(date)
        request.headers.removeAll { $0.name.lowercased() == "authorization" }
        if let index = request.headers.firstIndex(where: { $0.name.lowercased() == "date" }) {
            request.headers.remove(at: index)
            request.headers.removeAll { $0.name.lowercased() == "date" || $0.name.lowercased() == "x-amz-date" }
            request.headers.append(("Date", time.httpDate))
        } else {
            request.headers.removeAll { $0.name.lowercased() == "x-amz-date" }
            request.headers.append(("X-Amz-Date", time.timestamp))
        }
        if let token = credentials.sessionToken {
            request.headers.removeAll { $0.name.lowercased() == "x-amz-security-token" }
            request.headers.append(("X-Amz-Security-Token", token))
        }
        let url = SigV4URL(request.url)
        // A request target is never empty (RFC 9112 section 3.2.1): sign and send "/".
        request.url = url.description
        if isS3 || request.payloadHash == Self.unsignedPayload {
            request.headers.removeAll { $0.name.lowercased() == "x-amz-content-sha256" }
            request.headers.append(("X-Amz-Content-SHA256", request.payloadHash))
        }
        // A payload hash the caller put in the header is the one signed (botocore's rule).
        let payloadHash = request.headers.first { $0.name.lowercased() == "x-amz-content-sha256" }?.value ?? request.payloadHash
        let headers = Self.headersToSign(request.headers, url: url)
        let canonical = canonicalRequest(method: request.method, url: url, query: Self.canonicalQuery(url.query), headers: headers, payloadHash: payloadHash)
        let toSign = stringToSign(canonicalRequest: canonical, time: time)
        let signature = self.signature(stringToSign: toSign, time: time)
        trace?.step("SigV4 canonical request", "\n" + canonical)
        trace?.step("SigV4 string to sign", "\n" + toSign)
        request.headers.append(("Authorization", "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(time)), SignedHeaders=\(headers.signed), Signature=\(signature)"))
        trace?.step("header Authorization", request.headers[request.headers.count - 1].value)
        return request
    }

    // MARK: Presigned URLs (query-string signing)

    /// The URL with the signature in its query (`X-Amz-Algorithm` ... `X-Amz-Signature`), valid for
    /// `expires` seconds (1 to 604800). The existing query is decoded (`+` as a space) and
    /// re-encoded, operation parameters first, as botocore does; unlike botocore, a repeated key
    /// keeps all its values.
    public func presign(_ request: Request, at date: Date, expires: Int) throws -> String {
        guard (1...604_800).contains(expires) else {
            throw SigilError(.signingFailed, "a presigned URL expires after 1 to 604800 seconds (7 days), not \(expires)")
        }
        let time = AmzTime(date)
        let url = SigV4URL(request.url)
        let headers = Self.headersToSign(request.headers, url: url)
        let parameters = QueryEncoding.decodeForm(url.query)
        var auth: [(String, String)] = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(time))"),
            ("X-Amz-Date", time.timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", headers.signed),
        ]
        if let token = credentials.sessionToken { auth.append(("X-Amz-Security-Token", token)) }
        var query = QueryEncoding.encode(parameters)
        query += (query.isEmpty ? "" : "&") + QueryEncoding.encode(auth)
        let payloadHash = isS3 ? Self.unsignedPayload : request.payloadHash
        let canonical = canonicalRequest(method: request.method, url: url, query: Self.canonicalQuery(query), headers: headers, payloadHash: payloadHash)
        let signature = self.signature(stringToSign: stringToSign(canonicalRequest: canonical, time: time), time: time)
        return "\(url.scheme)://\(url.authority)\(url.path)?\(query)&X-Amz-Signature=\(signature)"
    }

    // MARK: Task 1: the canonical request

    /// `method \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash`.
    func canonicalRequest(method: String, url: SigV4URL, query: String, headers: CanonicalHeaders, payloadHash: String) -> String {
        [method.uppercased(), canonicalURI(url.path), query, headers.canonical + "\n", headers.signed, payloadHash].joined(separator: "\n")
    }

    /// S3: the path as given. Others: dot segments and empty segments removed (RFC 3986 section
    /// 5.2.4), then every byte but unreserved characters and `/` percent-encoded, which encodes an
    /// already encoded path a second time, as the specification asks.
    func canonicalURI(_ path: String) -> String {
        if isS3 { return path }
        guard !path.isEmpty else { return "/" }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." { _ = segments.popLast() } else { segments.append(segment) }
        }
        var normalized = (path.hasPrefix("/") ? "/" : "") + segments.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { normalized += "/" }
        return String(decoding: PercentEncoding.encode(normalized.utf8, keepingSlash: true), as: UTF8.self)
    }

    /// The query's `key=value` pairs as written, sorted by key then value (bytewise).
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> (Substring, Substring) in
            guard let equals = pair.firstIndex(of: "=") else { return (pair, "") }
            return (pair[..<equals], pair[pair.index(after: equals)...])
        }
        return pairs.sorted { left, right in
            left.0 == right.0 ? left.1.utf8.lexicographicallyPrecedes(right.1.utf8) : left.0.utf8.lexicographicallyPrecedes(right.0.utf8)
        }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    struct CanonicalHeaders {
        var canonical: String
        var signed: String
    }

    /// Lowercased names, sorted; values trimmed with runs of white space folded to one space; a
    /// repeated name's values joined with `,` in order. `host` comes from the URL when absent.
    static func headersToSign(_ headers: [(name: String, value: String)], url: SigV4URL) -> CanonicalHeaders {
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            guard !unsignedHeaders.contains(name) else { continue }
            values[name, default: []].append(trimAll(header.value))
        }
        if values["host"] == nil { values["host"] = [url.hostHeader] }
        let names = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return CanonicalHeaders(
            canonical: names.map { "\($0):\(values[$0]!.joined(separator: ","))" }.joined(separator: "\n"),
            signed: names.joined(separator: ";")
        )
    }

    /// `' '.join(value.split())`: no leading or trailing white space, runs folded to one space,
    /// with Python's `str.split()` idea of white space.
    static func trimAll(_ value: String) -> String {
        var words: [Substring.UnicodeScalarView] = []
        var current = Substring.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            if isPythonWhitespace(scalar) {
                if !current.isEmpty { words.append(current); current = Substring.UnicodeScalarView() }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words.map { String($0) }.joined(separator: " ")
    }

    /// `str.isspace()`: these ASCII controls as well as Unicode's white space.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    // MARK: Task 2: the string to sign

    func scope(_ time: AmzTime) -> String {
        "\(time.day)/\(region)/\(service)/aws4_request"
    }

    func stringToSign(canonicalRequest: String, time: AmzTime) -> String {
        "\(Self.algorithm)\n\(time.timestamp)\n\(scope(time))\n\(Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8))))"
    }

    // MARK: Tasks 3 and 4: the signing key and the signature

    func signature(stringToSign: String, time: AmzTime) -> String {
        let key = keyCache.key(credentials: credentials, day: time.day, region: region, service: service)
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }
}

/// Derived signing keys (`HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service),
/// "aws4_request")`), cached per access key, day, region and service. An entry remembers the
/// secret it came from, so a rotated secret under the same access key id is never served a stale
/// key.
public final class SigningKeyCache: Sendable {
    public static let shared = SigningKeyCache()

    private struct Entry {
        var secret: SecretBytes
        var key: SymmetricKey
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let limit = 256

    public init() {}

    func key(credentials: SigV4Signer.Credentials, day: String, region: String, service: String) -> SymmetricKey {
        let id = "\(credentials.accessKeyID)/\(day)/\(region)/\(service)"
        if let entry = entries.withLock({ $0[id] }), entry.secret == credentials.secretAccessKey {
            return entry.key
        }
        let seed = SecretBytes(utf8: "AWS4").appending(credentials.secretAccessKey)
        var key = seed.withUnsafeBytes { SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(day.utf8), using: SymmetricKey(data: $0))) }
        for part in [region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll() }
            entries[id] = Entry(secret: credentials.secretAccessKey, key: key)
        }
        return key
    }
}

/// The signing instant in SigV4's two forms.
struct AmzTime {
    /// `YYYYMMDDTHHMMSSZ`.
    let timestamp: String
    /// `YYYYMMDD`.
    var day: String { String(timestamp.prefix(8)) }
    /// The `Date` header botocore writes (`email.utils.formatdate`): RFC 2822 with `-0000`.
    let httpDate: String

    init(_ date: Date) {
        var time = time_t(floor(date.timeIntervalSince1970))
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = "\(parts.tm_year + 1900)"
        timestamp = "\(year)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        httpDate = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(year) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) -0000"
    }
}

/// The parts of an absolute URL that SigV4 reads. The engine only hands it URLs it built from a
/// validated base URL.
struct SigV4URL {
    var scheme: String
    /// `host[:port]` as written.
    var authority: String
    var path: String
    var query: String

    /// The URL, with `/` for an empty path.
    var description: String { "\(scheme)://\(authority)\(path)" + (query.isEmpty ? "" : "?\(query)") }

    init(_ url: String) {
        let afterScheme = url.firstRange(of: "://").map { url[$0.upperBound...] } ?? url[...]
        scheme = url.firstRange(of: "://").map { String(url[..<$0.lowerBound]).lowercased() } ?? "https"
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
        authority = String(afterScheme[..<authorityEnd])
        let rest = afterScheme[authorityEnd...]
        if let question = rest.firstIndex(of: "?") {
            path = String(rest[..<question])
            query = String(rest[rest.index(after: question)...])
        } else {
            path = String(rest)
            query = ""
        }
        if path.isEmpty { path = "/" }
    }

    /// The `host` header value: lowercase, without a default port (botocore's `_host_from_url`).
    var hostHeader: String {
        let lower = authority.lowercased()
        let defaultPort = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nil
        if let defaultPort, lower.hasSuffix(defaultPort) { return String(lower.dropLast(defaultPort.count)) }
        return lower
    }
}

/// Query strings the way botocore's presigner reads and writes them.
enum QueryEncoding {
    /// `parse_qs(query, keep_blank_values=True)` order-preserving: `+` is a space, escapes decoded.
    static func decodeForm(_ query: String) -> [(String, String)] {
        guard !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                      let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `key=value&...`, every byte but `A-Z a-z 0-9 - . _ ~` percent-encoded.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { String(decoding: PercentEncoding.encode($0.0.utf8), as: UTF8.self) + "=" + String(decoding: PercentEncoding.encode($0.1.utf8), as: UTF8.self) }
            .joined(separator: "&")
    }
}
