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
        // One pass removes what signing replaces (botocore's _modify_request_before_signing).
        let hadDate = request.headers.contains { ASCII.equalsIgnoringCase($0.name, "date") }
        let replacesContentHash = isS3 || request.payloadHash == Self.unsignedPayload
        request.headers.removeAll { header in
            ASCII.equalsIgnoringCase(header.name, "authorization") || ASCII.equalsIgnoringCase(header.name, "x-amz-date")
                || (hadDate && ASCII.equalsIgnoringCase(header.name, "date"))
                || (credentials.sessionToken != nil && ASCII.equalsIgnoringCase(header.name, "x-amz-security-token"))
                || (replacesContentHash && ASCII.equalsIgnoringCase(header.name, "x-amz-content-sha256"))
        }
        if hadDate {
            request.headers.append(("Date", time.httpDate))
        } else {
            request.headers.append(("X-Amz-Date", time.timestamp))
        }
        if let token = credentials.sessionToken {
            request.headers.append(("X-Amz-Security-Token", token))
        }
        let url = SigV4URL(request.url)
        // A request target is never empty (RFC 9112 section 3.2.1): sign and send "/".
        if url.pathWasEmpty { request.url = url.description }
        if replacesContentHash {
            request.headers.append(("X-Amz-Content-SHA256", request.payloadHash))
        }
        // A payload hash the caller put in the header is the one signed (botocore's rule).
        let payloadHash = request.headers.first { ASCII.equalsIgnoringCase($0.name, "x-amz-content-sha256") }?.value ?? request.payloadHash

        let headers = Self.headersToSign(request.headers, url: url)
        var canonical: [UInt8] = []
        canonical.reserveCapacity(512 + url.path.utf8.count * 3 + url.query.utf8.count + headers.byteCount)
        appendCanonicalRequest(to: &canonical, method: request.method, url: url, query: url.query, headers: headers, payloadHash: payloadHash)
        let toSign = stringToSign(canonicalRequest: canonical, time: time)
        let signature = self.signature(stringToSign: toSign, time: time)
        if let trace {
            trace.step("SigV4 canonical request", "\n" + String(decoding: canonical, as: UTF8.self))
            trace.step("SigV4 string to sign", "\n" + String(decoding: toSign, as: UTF8.self))
        }
        var authorization: [UInt8] = []
        authorization.reserveCapacity(160 + headers.signed.count)
        authorization += Self.algorithmBytes
        authorization += Array(" Credential=".utf8)
        authorization += credentials.accessKeyID.utf8
        authorization.append(UInt8(ascii: "/"))
        appendScope(to: &authorization, time: time)
        authorization += Array(", SignedHeaders=".utf8)
        authorization += headers.signed
        authorization += Array(", Signature=".utf8)
        authorization += signature
        request.headers.append(("Authorization", String(decoding: authorization, as: UTF8.self)))
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
        var scope: [UInt8] = []
        appendScope(to: &scope, time: time)
        var auth: [(String, String)] = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/" + String(decoding: scope, as: UTF8.self)),
            ("X-Amz-Date", time.timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", String(decoding: headers.signed, as: UTF8.self)),
        ]
        if let token = credentials.sessionToken { auth.append(("X-Amz-Security-Token", token)) }
        var query = QueryEncoding.encode(parameters)
        query += (query.isEmpty ? "" : "&") + QueryEncoding.encode(auth)
        let payloadHash = isS3 ? Self.unsignedPayload : request.payloadHash
        var canonical: [UInt8] = []
        appendCanonicalRequest(to: &canonical, method: request.method, url: url, query: query, headers: headers, payloadHash: payloadHash)
        let signature = self.signature(stringToSign: stringToSign(canonicalRequest: canonical, time: time), time: time)
        return "\(url.scheme)://\(url.authority)\(url.path)?\(query)&X-Amz-Signature=" + String(decoding: signature, as: UTF8.self)
    }

    // MARK: Task 1: the canonical request

    /// `method \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash`.
    func appendCanonicalRequest(to buffer: inout [UInt8], method: String, url: SigV4URL, query: String, headers: CanonicalHeaders, payloadHash: String) {
        for byte in method.utf8 { buffer.append(ASCII.upper(byte)) }
        buffer.append(0x0A)
        appendCanonicalURI(to: &buffer, url.path)
        buffer.append(0x0A)
        Self.appendCanonicalQuery(to: &buffer, query)
        buffer.append(0x0A)
        buffer += headers.canonical
        buffer.append(0x0A)
        buffer.append(0x0A)
        buffer += headers.signed
        buffer.append(0x0A)
        buffer += payloadHash.utf8
    }

    /// S3: the path as given. Others: dot segments and empty segments removed (RFC 3986 section
    /// 5.2.4), then every byte but unreserved characters and `/` percent-encoded, which encodes an
    /// already encoded path a second time, as the specification asks.
    func appendCanonicalURI(to buffer: inout [UInt8], _ path: String) {
        if isS3 {
            buffer += path.utf8
            return
        }
        let bytes = Array(path.utf8)
        var segments: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
            let length = end - start
            if length == 1 && bytes[start] == UInt8(ascii: ".") {
                // "." names the current segment.
            } else if length == 2 && bytes[start] == UInt8(ascii: ".") && bytes[start + 1] == UInt8(ascii: ".") {
                _ = segments.popLast()
            } else if length > 0 {
                segments.append(start..<end)
            }
            start = end + 1
        }
        if bytes.first == UInt8(ascii: "/") { buffer.append(UInt8(ascii: "/")) }
        for (index, segment) in segments.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "/")) }
            PercentEncoding.append(bytes[segment], to: &buffer)
        }
        if bytes.last == UInt8(ascii: "/") && !segments.isEmpty {
            buffer.append(UInt8(ascii: "/"))
        }
    }

    /// The query's `key=value` pairs as written, sorted by key then value (bytewise).
    static func appendCanonicalQuery(to buffer: inout [UInt8], _ query: String) {
        guard !query.isEmpty else { return }
        let bytes = Array(query.utf8)
        var pairs: [(key: Range<Int>, value: Range<Int>)] = []
        var start = 0
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.count
            if let equals = bytes[start..<end].firstIndex(of: UInt8(ascii: "=")) {
                pairs.append((start..<equals, (equals + 1)..<end))
            } else {
                pairs.append((start..<end, end..<end))
            }
            start = end + 1
        }
        pairs.sort { left, right in
            let leftKey = bytes[left.key], rightKey = bytes[right.key]
            if leftKey.elementsEqual(rightKey) { return bytes[left.value].lexicographicallyPrecedes(bytes[right.value]) }
            return leftKey.lexicographicallyPrecedes(rightKey)
        }
        for (index, pair) in pairs.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "&")) }
            buffer += bytes[pair.key]
            buffer.append(UInt8(ascii: "="))
            buffer += bytes[pair.value]
        }
    }

    struct CanonicalHeaders {
        /// `name:value` lines joined by `\n` (no trailing newline).
        var canonical: [UInt8]
        /// `name;name;...`.
        var signed: [UInt8]
        var byteCount: Int { canonical.count + signed.count }
    }

    /// Lowercased names, sorted; values trimmed with runs of white space folded to one space; a
    /// repeated name's values joined with `,` in order. `host` comes from the URL when absent.
    ///
    /// Works on one flat byte buffer: each name is lowercased and each value trimmed into it as the
    /// headers are read, and entries are sorted by index, so a request costs a few allocations
    /// whatever its number of headers.
    static func headersToSign(_ headers: [(name: String, value: String)], url: SigV4URL) -> CanonicalHeaders {
        // Names and trimmed values never grow, so one buffer of the summed lengths holds them all.
        let capacity = headers.reduce(hostName.count + url.hostHeader.utf8.count) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(capacity, 1))
        defer { storage.deallocate() }
        var used = 0
        var entries: [(name: Range<Int>, value: Range<Int>, order: Int)] = []
        entries.reserveCapacity(headers.count + 1)
        var hasHost = false
        for (order, header) in headers.enumerated() {
            let nameStart = used
            used += ASCII.lowercase(header.name, writingTo: storage + used)
            let name = UnsafeBufferPointer(start: storage + nameStart, count: used - nameStart)
            if isUnsigned(name) {
                used = nameStart
                continue
            }
            if name.elementsEqual(hostName) { hasHost = true }
            let valueStart = used
            used += trimAll(header.value, writingTo: storage + used)
            entries.append((nameStart..<valueStart, valueStart..<used, order))
        }
        if !hasHost {
            let nameStart = used
            for byte in hostName { storage[used] = byte; used += 1 }
            let valueStart = used
            for byte in url.hostHeader.utf8 { storage[used] = byte; used += 1 }
            entries.append((nameStart..<valueStart, valueStart..<used, headers.count))
        }
        func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: storage + range.lowerBound, count: range.count)
        }
        func compare(_ left: Range<Int>, _ right: Range<Int>) -> Int32 {
            let common = min(left.count, right.count)
            let result = common == 0 ? 0 : memcmp(storage + left.lowerBound, storage + right.lowerBound, common)
            return result != 0 ? result : Int32(left.count - right.count)
        }
        entries.sort { left, right in
            let order = compare(left.name, right.name)
            return order != 0 ? order < 0 : left.order < right.order
        }
        var canonical: [UInt8] = []
        var signed: [UInt8] = []
        canonical.reserveCapacity(used + entries.count * 2)
        signed.reserveCapacity(entries.reduce(0) { $0 + $1.name.count + 1 })
        for (index, entry) in entries.enumerated() {
            if index > 0, compare(entry.name, entries[index - 1].name) == 0 {
                canonical.append(UInt8(ascii: ","))
                canonical.append(contentsOf: bytes(entry.value))
                continue
            }
            if index > 0 {
                canonical.append(0x0A)
                signed.append(UInt8(ascii: ";"))
            }
            canonical.append(contentsOf: bytes(entry.name))
            canonical.append(UInt8(ascii: ":"))
            canonical.append(contentsOf: bytes(entry.value))
            signed.append(contentsOf: bytes(entry.name))
        }
        return CanonicalHeaders(canonical: canonical, signed: signed)
    }

    private static let hostName = Array("host".utf8)
    private static let unsignedHeaderBytes: [[UInt8]] = unsignedHeaders.map { Array($0.utf8) }

    static func isUnsigned(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        // The list's names are 2 to 19 bytes long; most headers are ruled out by length alone.
        unsignedHeaderBytes.contains { $0.count == name.count && $0.elementsEqual(name) }
    }

    /// `' '.join(value.split())`: no leading or trailing white space, runs folded to one space,
    /// with Python's `str.split()` idea of white space.
    ///
    /// Writes the trimmed value at `output` (room for `value.utf8.count` bytes); returns its length.
    static func trimAll(_ value: String, writingTo output: UnsafeMutablePointer<UInt8>) -> Int {
        if let count = value.utf8.withContiguousStorageIfAvailable({ trimASCII($0, writingTo: output) }), let count {
            return count
        }
        if let count = trimASCII(Array(value.utf8), writingTo: output) { return count }
        // Non-ASCII: Unicode white space counts too (U+0085, U+00A0, U+2000...).
        var words: [String] = []
        var current = ""
        for scalar in value.unicodeScalars {
            if isPythonWhitespace(scalar) {
                if !current.isEmpty { words.append(current); current = "" }
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        var count = 0
        for byte in words.joined(separator: " ").utf8 { output[count] = byte; count += 1 }
        return count
    }

    /// The ASCII case of ``trimAll(_:writingTo:)``; `nil` when the value has a non-ASCII byte.
    @inline(__always)
    static func trimASCII(_ bytes: some Collection<UInt8>, writingTo output: UnsafeMutablePointer<UInt8>) -> Int? {
        var count = 0
        var pendingSpace = false
        for byte in bytes {
            if byte >= 0x80 { return nil }
            if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) || (byte >= 0x1C && byte <= 0x1F) {
                pendingSpace = count > 0
            } else {
                if pendingSpace { output[count] = 0x20; count += 1; pendingSpace = false }
                output[count] = byte
                count += 1
            }
        }
        return count
    }

    /// `str.isspace()`: these ASCII controls as well as Unicode's white space.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    // MARK: Task 2: the string to sign

    static let algorithmBytes = Array(algorithm.utf8)
    static let terminator = Array("aws4_request".utf8)

    /// `day/region/service/aws4_request`.
    func appendScope(to buffer: inout [UInt8], time: AmzTime) {
        buffer += time.day
        buffer.append(UInt8(ascii: "/"))
        buffer += region.utf8
        buffer.append(UInt8(ascii: "/"))
        buffer += service.utf8
        buffer.append(UInt8(ascii: "/"))
        buffer += Self.terminator
    }

    func stringToSign(canonicalRequest: [UInt8], time: AmzTime) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(160)
        buffer += Self.algorithmBytes
        buffer.append(0x0A)
        buffer += time.timestampBytes
        buffer.append(0x0A)
        appendScope(to: &buffer, time: time)
        buffer.append(0x0A)
        Hex.append(SHA256.hash(data: canonicalRequest), to: &buffer)
        return buffer
    }

    // MARK: Tasks 3 and 4: the signing key and the signature

    func signature(stringToSign: [UInt8], time: AmzTime) -> [UInt8] {
        // A copy of the cached, already keyed HMAC: the key's pads are not recomputed per request.
        var mac = keyCache.keyedMAC(credentials: credentials, day: time.day, region: region, service: service)
        mac.update(data: stringToSign)
        var output: [UInt8] = []
        output.reserveCapacity(64)
        Hex.append(mac.finalize(), to: &output)
        return output
    }
}

/// ASCII case helpers that never allocate.
enum ASCII {
    @inline(__always) static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    /// Writes `text`'s UTF-8 with ASCII letters lowercased at `output`; returns the byte count.
    static func lowercase(_ text: String, writingTo output: UnsafeMutablePointer<UInt8>) -> Int {
        if let count = text.utf8.withContiguousStorageIfAvailable({ bytes -> Int in
            for index in 0..<bytes.count { output[index] = lower(bytes[index]) }
            return bytes.count
        }) {
            return count
        }
        var count = 0
        for byte in text.utf8 { output[count] = lower(byte); count += 1 }
        return count
    }
    @inline(__always) static func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte & 0xDF : byte }

    /// Whether `name` equals the lowercase ASCII `lowercase`, ignoring case.
    static func equalsIgnoringCase(_ name: String, _ lowercase: StaticString) -> Bool {
        guard name.utf8.count == lowercase.utf8CodeUnitCount else { return false }
        let target = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        var utf8 = name.utf8.makeIterator()
        for expected in target {
            guard let byte = utf8.next(), lower(byte) == expected else { return false }
        }
        return utf8.next() == nil
    }
}

/// Derived signing keys (`HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service),
/// "aws4_request")`), cached per access key, day, region and service. An entry remembers the
/// secret it came from, so a rotated secret under the same access key id is never served a stale
/// key. Lookups do not allocate.
public final class SigningKeyCache: Sendable {
    public static let shared = SigningKeyCache()

    private struct Entry {
        var accessKeyID: String
        var day: [UInt8]
        var region: String
        var service: String
        var secret: SecretBytes
        /// HMAC-SHA256 keyed with the derived signing key, before any data.
        var mac: HMAC<SHA256>
    }

    private let entries = Mutex<[Entry]>([])
    private let limit = 64

    public init() {}

    func keyedMAC(credentials: SigV4Signer.Credentials, day: [UInt8], region: String, service: String) -> HMAC<SHA256> {
        let found = entries.withLock { entries in
            entries.first { $0.day == day && $0.service == service && $0.region == region && $0.accessKeyID == credentials.accessKeyID }
        }
        if let found, found.secret == credentials.secretAccessKey {
            return found.mac
        }
        let seed = SecretBytes(utf8: "AWS4").appending(credentials.secretAccessKey)
        var key = seed.withUnsafeBytes { SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: day, using: SymmetricKey(data: $0))) }
        for part in [region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        let mac = HMAC<SHA256>(key: key)
        let entry = Entry(accessKeyID: credentials.accessKeyID, day: day, region: region, service: service, secret: credentials.secretAccessKey, mac: mac)
        entries.withLock { entries in
            entries.removeAll { $0.day == day && $0.service == service && $0.region == region && $0.accessKeyID == credentials.accessKeyID }
            if entries.count >= limit { entries.removeFirst() }
            entries.append(entry)
        }
        return mac
    }
}

/// The signing instant in SigV4's forms.
struct AmzTime {
    /// `YYYYMMDDTHHMMSSZ`.
    let timestampBytes: [UInt8]
    private let parts: tm

    var timestamp: String { String(decoding: timestampBytes, as: UTF8.self) }
    /// `YYYYMMDD`.
    var day: [UInt8] { Array(timestampBytes[0..<8]) }

    init(_ date: Date) {
        var time = time_t(floor(date.timeIntervalSince1970))
        var parts = tm()
        gmtime_r(&time, &parts)
        self.parts = parts
        var bytes = [UInt8](repeating: 0, count: 16)
        func put(_ value: Int32, _ digits: Int, at offset: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(parts.tm_year + 1900, 4, at: 0)
        put(parts.tm_mon + 1, 2, at: 4)
        put(parts.tm_mday, 2, at: 6)
        bytes[8] = UInt8(ascii: "T")
        put(parts.tm_hour, 2, at: 9)
        put(parts.tm_min, 2, at: 11)
        put(parts.tm_sec, 2, at: 13)
        bytes[15] = UInt8(ascii: "Z")
        timestampBytes = bytes
    }

    /// The `Date` header botocore writes (`email.utils.formatdate`): RFC 2822 with `-0000`.
    var httpDate: String {
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) -0000"
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
        let bytes = Array(url.utf8)
        var index = 0
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.count > colon + 2,
           bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") {
            scheme = String(decoding: bytes[..<colon].map(ASCII.lower), as: UTF8.self)
            index = colon + 3
        } else {
            scheme = "https"
        }
        let authorityEnd = bytes[index...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.count
        authority = String(decoding: bytes[index..<authorityEnd], as: UTF8.self)
        let question = bytes[authorityEnd...].firstIndex(of: UInt8(ascii: "?"))
        path = String(decoding: bytes[authorityEnd..<(question ?? bytes.count)], as: UTF8.self)
        query = question.map { String(decoding: bytes[($0 + 1)...], as: UTF8.self) } ?? ""
        pathWasEmpty = path.isEmpty
        if path.isEmpty { path = "/" }
    }

    /// Whether the URL had no path (the signer then sends "/").
    var pathWasEmpty = false

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
