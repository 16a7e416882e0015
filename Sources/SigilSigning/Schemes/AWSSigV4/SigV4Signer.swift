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
        // One pass removes what signing replaces (botocore's _modify_request_before_signing), into an
        // array with room for the headers signing adds.
        let hadDate = request.headers.contains { ASCII.equalsIgnoringCase($0.name, "date") }
        let replacesContentHash = isS3 || request.payloadHash == Self.unsignedPayload
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 4)
        for header in request.headers
        where !Self.isReplaced(header.name, date: hadDate, token: credentials.sessionToken != nil, contentHash: replacesContentHash) {
            headers.append(header)
        }
        if hadDate {
            headers.append(("Date", time.httpDate))
        } else {
            headers.append(("X-Amz-Date", time.timestamp))
        }
        if let token = credentials.sessionToken {
            headers.append(("X-Amz-Security-Token", token))
        }
        let url = SigV4URL(request.url)
        // A request target is never empty (RFC 9112 section 3.2.1): sign and send "/".
        if url.pathWasEmpty { request.url = url.description }
        if replacesContentHash {
            headers.append(("X-Amz-Content-SHA256", request.payloadHash))
        }
        // A payload hash the caller put in the header is the one signed (botocore's rule).
        let payloadHash = headers.first { ASCII.equalsIgnoringCase($0.name, "x-amz-content-sha256") }?.value ?? request.payloadHash

        let canonicalHeaders = CanonicalHeaders(headers, url: url)
        let canonical = url.withQuery { query in
            canonicalRequest(method: request.method, url: url, query: query, headers: canonicalHeaders, payloadHash: payloadHash)
        }
        let authorization = canonicalHeaders.withSignedNames { signedNames in
            let prefix: StaticString = "AWS4-HMAC-SHA256 Credential="
            let signedHeaders: StaticString = ", SignedHeaders="
            let signatureLabel: StaticString = ", Signature="
            let capacity = prefix.utf8CodeUnitCount + credentials.accessKeyID.utf8.count + 1 + scopeByteCount
                + signedHeaders.utf8CodeUnitCount + signedNames.count + signatureLabel.utf8CodeUnitCount + 64
            return String(unsafeUninitializedCapacity: capacity) { buffer in
                var writer = ByteWriter(buffer)
                writer.write(prefix)
                writer.write(credentials.accessKeyID)
                writer.write(UInt8(ascii: "/"))
                writeScope(to: &writer, time: time)
                writer.write(signedHeaders)
                writer.write(signedNames)
                writer.write(signatureLabel)
                writeSignature(to: &writer, canonicalRequest: canonical, time: time, trace: trace)
                return writer.count
            }
        }
        headers.append(("Authorization", authorization))
        request.headers = headers
        if let trace, let signature = authorization.firstRange(of: ", Signature=") {
            // The signature is made with the secret key: shown by fingerprint.
            trace.step("header Authorization", [
                .text(String(authorization[..<signature.upperBound])), .secret(SecretBytes(utf8: String(authorization[signature.upperBound...]), lockingMemory: false)),
            ])
        }
        return request
    }

    /// Whether signing replaces the header `name` (botocore's `_modify_request_before_signing`);
    /// most names are ruled out by their length.
    static func isReplaced(_ name: String, date: Bool, token: Bool, contentHash: Bool) -> Bool {
        switch name.utf8.count {
        case 4: date && ASCII.equalsIgnoringCase(name, "date")
        case 10: ASCII.equalsIgnoringCase(name, "x-amz-date")
        case 13: ASCII.equalsIgnoringCase(name, "authorization")
        case 20: (token && ASCII.equalsIgnoringCase(name, "x-amz-security-token")) || (contentHash && ASCII.equalsIgnoringCase(name, "x-amz-content-sha256"))
        default: false
        }
    }

    // MARK: Presigned URLs (query-string signing)

    /// The URL with the signature in its query (`X-Amz-Algorithm` ... `X-Amz-Signature`), valid for
    /// `expires` seconds (1 to 604800). The existing query is decoded (`+` as a space) and
    /// re-encoded, operation parameters first, as botocore does; unlike botocore, a repeated key
    /// keeps all its values.
    public func presign(_ request: Request, at date: Date, expires: Int) throws -> String {
        guard (1...604_800).contains(expires) else {
            throw SigilError(.invalidRequest, "a presigned URL expires after 1 to 604800 seconds (7 days), not \(expires)")
        }
        let time = AmzTime(date)
        let url = SigV4URL(request.url)
        let headers = CanonicalHeaders(request.headers, url: url)
        let parameters = QueryEncoding.decodeForm(url.query)
        let scope = [UInt8](unsafeUninitializedCapacity: scopeByteCount) { buffer, count in
            var writer = ByteWriter(buffer)
            writeScope(to: &writer, time: time)
            count = writer.count
        }
        var auth: [(String, String)] = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/" + String(decoding: scope, as: UTF8.self)),
            ("X-Amz-Date", time.timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", headers.withSignedNames { String(decoding: $0, as: UTF8.self) }),
        ]
        if let token = credentials.sessionToken { auth.append(("X-Amz-Security-Token", token)) }
        var query = QueryEncoding.encode(parameters)
        query += (query.isEmpty ? "" : "&") + QueryEncoding.encode(auth)
        let payloadHash = isS3 ? Self.unsignedPayload : request.payloadHash
        let canonical = Array(query.utf8).withUnsafeBufferPointer { query in
            canonicalRequest(method: request.method, url: url, query: query, headers: headers, payloadHash: payloadHash)
        }
        let signature = [UInt8](unsafeUninitializedCapacity: 64) { buffer, count in
            var writer = ByteWriter(buffer)
            writeSignature(to: &writer, canonicalRequest: canonical, time: time, trace: nil)
            count = writer.count
        }
        return "\(url.scheme)://\(url.authority)\(url.path)?\(query)&X-Amz-Signature=" + String(decoding: signature, as: UTF8.self)
    }

    // MARK: Task 1: the canonical request

    /// `method \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash`,
    /// written into one buffer sized from its parts.
    func canonicalRequest(method: String, url: SigV4URL, query: UnsafeBufferPointer<UInt8>, headers: CanonicalHeaders, payloadHash: String) -> [UInt8] {
        url.withPath { path in
            // Encoding at most triples the path (one byte to "%XX"); "/" stands for an empty path.
            let capacity = method.utf8.count + 1 + max(path.count * 3, 1) + 1 + query.count + 1
                + headers.canonicalByteCount + 2 + headers.signedByteCount + 1 + payloadHash.utf8.count
            return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                var writer = ByteWriter(buffer)
                for byte in method.utf8 { writer.write(ASCII.upper(byte)) }
                writer.write(0x0A)
                writeCanonicalURI(path, to: &writer)
                writer.write(0x0A)
                Self.writeCanonicalQuery(query, to: &writer)
                writer.write(0x0A)
                headers.writeCanonical(to: &writer)
                writer.write(0x0A)
                writer.write(0x0A)
                headers.withSignedNames { writer.write($0) }
                writer.write(0x0A)
                writer.write(payloadHash)
                count = writer.count
            }
        }
    }

    /// S3: the path as given. Others: dot segments and empty segments removed (RFC 3986 section
    /// 5.2.4), then every byte but unreserved characters and `/` percent-encoded, which encodes an
    /// already encoded path a second time, as the specification asks. An empty path is `/`.
    func writeCanonicalURI(_ path: UnsafeBufferPointer<UInt8>, to writer: inout ByteWriter) {
        if path.isEmpty {
            writer.write(UInt8(ascii: "/"))
            return
        }
        if isS3 {
            writer.write(path)
            return
        }
        var segments: [Range<Int>] = []
        var start = 0
        while start < path.count {
            var end = start
            while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
            let length = end - start
            if length == 1 && path[start] == UInt8(ascii: ".") {
                // "." names the current segment.
            } else if length == 2 && path[start] == UInt8(ascii: ".") && path[start + 1] == UInt8(ascii: ".") {
                _ = segments.popLast()
            } else if length > 0 {
                segments.append(start..<end)
            }
            start = end + 1
        }
        if path.first == UInt8(ascii: "/") { writer.write(UInt8(ascii: "/")) }
        for (index, segment) in segments.enumerated() {
            if index > 0 { writer.write(UInt8(ascii: "/")) }
            for byte in path[segment] { writer.writePercentEncoded(byte) }
        }
        if path.last == UInt8(ascii: "/") && !segments.isEmpty {
            writer.write(UInt8(ascii: "/"))
        }
    }

    /// The query's `key=value` pairs as written, sorted by key then value (bytewise).
    static func writeCanonicalQuery(_ query: UnsafeBufferPointer<UInt8>, to writer: inout ByteWriter) {
        guard !query.isEmpty else { return }
        var pairs: [(key: Range<Int>, value: Range<Int>)] = []
        pairs.reserveCapacity(16)
        var start = 0
        while start <= query.count {
            var end = start
            var equals: Int?
            while end < query.count && query[end] != UInt8(ascii: "&") {
                if equals == nil && query[end] == UInt8(ascii: "=") { equals = end }
                end += 1
            }
            if let equals {
                pairs.append((start..<equals, (equals + 1)..<end))
            } else {
                pairs.append((start..<end, end..<end))
            }
            start = end + 1
        }
        pairs.sort { left, right in
            let order = ASCII.compare(query, left.key, right.key)
            return order != 0 ? order < 0 : ASCII.compare(query, left.value, right.value) < 0
        }
        for (index, pair) in pairs.enumerated() {
            if index > 0 { writer.write(UInt8(ascii: "&")) }
            writer.write(UnsafeBufferPointer(rebasing: query[pair.key]))
            writer.write(UInt8(ascii: "="))
            writer.write(UnsafeBufferPointer(rebasing: query[pair.value]))
        }
    }

    /// The signed headers: lowercased names, sorted; values trimmed with runs of white space folded
    /// to one space; a repeated name's values joined with `,` in order. `host` comes from the URL
    /// when absent.
    ///
    /// Works on one flat byte buffer: each name is lowercased and each value trimmed into it as the
    /// headers are read, and entries are sorted by index, so a request costs a few allocations
    /// whatever its number of headers.
    struct CanonicalHeaders {
        struct Entry {
            var name: Range<Int>
            var value: Range<Int>
            var order: Int
            /// The same name as the entry before: only `,value` is written.
            var continuesPrevious = false
        }

        /// Lowercased names and trimmed values, back to back.
        private let storage: [UInt8]
        /// Sorted by name, then by order of appearance.
        private let entries: [Entry]
        /// `name:value` lines joined by `\n` (no trailing newline).
        let canonicalByteCount: Int
        /// `name;name;...`.
        let signedByteCount: Int

        init(_ headers: [(name: String, value: String)], url: SigV4URL) {
            // Names and trimmed values never grow, so the summed lengths hold them all.
            let capacity = headers.reduce(SigV4Signer.hostName.count + url.authorityRange.count) { $0 + $1.name.utf8.count + $1.value.utf8.count }
            var entries: [Entry] = []
            entries.reserveCapacity(headers.count + 1)
            let storage = [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, used in
                let base = buffer.baseAddress!
                used = 0
                var hasHost = false
                for (order, header) in headers.enumerated() {
                    let nameStart = used
                    used += ASCII.lowercase(header.name, writingTo: base + used)
                    let name = UnsafeBufferPointer(start: base + nameStart, count: used - nameStart)
                    if SigV4Signer.isUnsigned(name) {
                        used = nameStart
                        continue
                    }
                    if name.elementsEqual(SigV4Signer.hostName) { hasHost = true }
                    let valueStart = used
                    used += SigV4Signer.trimAll(header.value, writingTo: base + used)
                    entries.append(Entry(name: nameStart..<valueStart, value: valueStart..<used, order: order))
                }
                if !hasHost {
                    let nameStart = used
                    for byte in SigV4Signer.hostName { base[used] = byte; used += 1 }
                    let valueStart = used
                    used += url.writeHostHeader(to: base + used)
                    entries.append(Entry(name: nameStart..<valueStart, value: valueStart..<used, order: headers.count))
                }
            }
            var canonical = 0
            var signed = 0
            storage.withUnsafeBufferPointer { storage in
                entries.sort { left, right in
                    let order = ASCII.compare(storage, left.name, right.name)
                    return order != 0 ? order < 0 : left.order < right.order
                }
                for index in entries.indices {
                    if index > 0 && ASCII.compare(storage, entries[index].name, entries[index - 1].name) == 0 {
                        entries[index].continuesPrevious = true
                        canonical += 1 + entries[index].value.count
                        continue
                    }
                    let separator = index > 0 ? 1 : 0
                    canonical += separator + entries[index].name.count + 1 + entries[index].value.count
                    signed += separator + entries[index].name.count
                }
            }
            self.storage = storage
            self.entries = entries
            canonicalByteCount = canonical
            signedByteCount = signed
        }

        func writeCanonical(to writer: inout ByteWriter) {
            storage.withUnsafeBufferPointer { storage in
                for (index, entry) in entries.enumerated() {
                    if entry.continuesPrevious {
                        writer.write(UInt8(ascii: ","))
                    } else {
                        if index > 0 { writer.write(0x0A) }
                        writer.write(UnsafeBufferPointer(rebasing: storage[entry.name]))
                        writer.write(UInt8(ascii: ":"))
                    }
                    writer.write(UnsafeBufferPointer(rebasing: storage[entry.value]))
                }
            }
        }

        /// Calls `body` with `name;name;...`.
        func withSignedNames<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
            storage.withUnsafeBufferPointer { storage in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(signedByteCount, 1)) { buffer in
                    var writer = ByteWriter(buffer)
                    for entry in entries where !entry.continuesPrevious {
                        if writer.count > 0 { writer.write(UInt8(ascii: ";")) }
                        writer.write(UnsafeBufferPointer(rebasing: storage[entry.name]))
                    }
                    return body(UnsafeBufferPointer(rebasing: buffer[..<writer.count]))
                }
            }
        }
    }

    private static let hostName = Array("host".utf8)
    private static let unsignedHeaderBytes: [[UInt8]] = unsignedHeaders.map { Array($0.utf8) }

    static func isUnsigned(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        // The list's names are 2, 6, 7, 10, 15, 17, 18 or 19 bytes long; most headers are ruled out
        // by length alone.
        switch name.count {
        case 2, 6, 7, 10, 15, 17, 18, 19: unsignedHeaderBytes.contains { $0.count == name.count && $0.elementsEqual(name) }
        default: false
        }
    }

    /// `' '.join(value.split())`: no leading or trailing white space, runs folded to one space,
    /// with Python's `str.split()` idea of white space.
    ///
    /// Writes the trimmed value at `output` (room for `value.utf8.count` bytes); returns its length.
    static func trimAll(_ value: String, writingTo output: UnsafeMutablePointer<UInt8>) -> Int {
        if let count = value.utf8.withContiguousStorageIfAvailable({ trimASCII($0, writingTo: output) }), let count {
            return count
        }
        if let count = Array(value.utf8).withUnsafeBufferPointer({ trimASCII($0, writingTo: output) }) { return count }
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
    static func trimASCII(_ bytes: UnsafeBufferPointer<UInt8>, writingTo output: UnsafeMutablePointer<UInt8>) -> Int? {
        // Most values are printable ASCII with single spaces inside: copied as they are.
        if let first = bytes.first, let last = bytes.last, first > 0x20, last > 0x20, let base = bytes.baseAddress {
            var plain = true
            var afterSpace = false
            for byte in bytes {
                if byte &- 0x21 <= 0x5E {  // "!"..."~"
                    afterSpace = false
                } else if byte == 0x20 && !afterSpace {
                    afterSpace = true
                } else {
                    // Other white space, a run of spaces, a control or non-ASCII byte.
                    plain = false
                    break
                }
            }
            if plain {
                output.update(from: base, count: bytes.count)
                return bytes.count
            }
        }
        var count = 0
        var pendingSpace = false
        for byte in bytes {
            if byte > 0x20 {
                // Printable (or not ASCII): the common case, one comparison.
                if byte >= 0x80 { return nil }
            } else if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) || byte >= 0x1C {
                pendingSpace = count > 0
                continue
            }
            if pendingSpace { output[count] = 0x20; count += 1; pendingSpace = false }
            output[count] = byte
            count += 1
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

    /// `day/region/service/aws4_request`.
    var scopeByteCount: Int { 8 + 1 + region.utf8.count + 1 + service.utf8.count + 1 + 12 }

    func writeScope(to writer: inout ByteWriter, time: AmzTime) {
        time.withDay { writer.write($0) }
        writer.write(UInt8(ascii: "/"))
        writer.write(region)
        writer.write(UInt8(ascii: "/"))
        writer.write(service)
        writer.write("/aws4_request" as StaticString)
    }

    // MARK: Tasks 3 and 4: the signing key and the signature

    /// Hashes the canonical request, builds the string to sign
    /// (`algorithm \n timestamp \n scope \n hex(SHA-256(canonical request))`) on the stack, and
    /// writes the hex HMAC of it with the cached signing key.
    func writeSignature(to writer: inout ByteWriter, canonicalRequest: [UInt8], time: AmzTime, trace: SigningTrace?) {
        var hasher = SHA256()
        canonicalRequest.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        let digest = hasher.finalize()
        let capacity = Self.algorithm.utf8.count + 1 + 16 + 1 + scopeByteCount + 1 + 64
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var toSign = ByteWriter(buffer)
            toSign.write(Self.algorithm)
            toSign.write(0x0A)
            toSign.write(time.timestampBytes)
            toSign.write(0x0A)
            writeScope(to: &toSign, time: time)
            toSign.write(0x0A)
            digest.withUnsafeBytes { toSign.writeHex($0) }
            let stringToSign = UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[..<toSign.count])
            if let trace {
                trace.canonicalRequest(String(decoding: canonicalRequest, as: UTF8.self))
                trace.step("SigV4 string to sign", "\n" + String(decoding: stringToSign, as: UTF8.self))
            }
            // A copy of the cached, already keyed HMAC: the key's pads are not recomputed per request.
            var mac = time.withDay { keyCache.keyedMAC(credentials: credentials, day: $0, region: region, service: service) }
            mac.update(data: stringToSign)
            mac.finalize().withUnsafeBytes { writer.writeHex($0) }
        }
    }
}

/// Writes bytes into memory sized by the caller. Every write checks the bound (a precondition), so
/// an undersized buffer stops the process rather than overflowing; there is no per-write
/// uniqueness or growth check as with `Array.append`.
struct ByteWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        precondition(count < buffer.count, "ByteWriter: buffer too small")
        buffer[count] = byte
        count += 1
    }

    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        precondition(bytes.count <= buffer.count - count, "ByteWriter: buffer too small")
        (buffer.baseAddress! + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write($0) }
    }

    mutating func write(_ text: StaticString) {
        write(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func write(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ write($0) }) == nil {
            for byte in text.utf8 { write(byte) }
        }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"
    private static let upperHexDigits: StaticString = "0123456789ABCDEF"

    /// Lowercase hexadecimal.
    mutating func writeHex(_ bytes: UnsafeRawBufferPointer) {
        let digits = Self.hexDigits.utf8Start
        for byte in bytes {
            write(digits[Int(byte >> 4)])
            write(digits[Int(byte & 0x0F)])
        }
    }

    /// The byte itself when unreserved (`A-Z a-z 0-9 - . _ ~`), else `%XX`.
    mutating func writePercentEncoded(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            write(byte)
        default:
            let digits = Self.upperHexDigits.utf8Start
            write(UInt8(ascii: "%"))
            write(digits[Int(byte >> 4)])
            write(digits[Int(byte & 0x0F)])
        }
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

    /// Bytewise order of two ranges of `bytes` (memcmp, then the shorter first): negative, zero or
    /// positive.
    static func compare(_ bytes: UnsafeBufferPointer<UInt8>, _ left: Range<Int>, _ right: Range<Int>) -> Int {
        let common = min(left.count, right.count)
        if common > 0, let base = bytes.baseAddress {
            let order = memcmp(base + left.lowerBound, base + right.lowerBound, common)
            if order != 0 { return Int(order) }
        }
        return left.count - right.count
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

    func keyedMAC(credentials: SigV4Signer.Credentials, day: UnsafeBufferPointer<UInt8>, region: String, service: String) -> HMAC<SHA256> {
        let cached = entries.withLock { entries -> HMAC<SHA256>? in
            // Only the keyed MAC leaves the lock; the entry itself is not copied.
            guard let index = entries.firstIndex(where: { $0.day.elementsEqual(day) && $0.service == service && $0.region == region && $0.accessKeyID == credentials.accessKeyID }),
                  entries[index].secret == credentials.secretAccessKey
            else { return nil }
            return entries[index].mac
        }
        if let cached { return cached }
        let seed = SecretBytes(utf8: "AWS4").appending(credentials.secretAccessKey)
        var key = seed.withUnsafeBytes { SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: day, using: SymmetricKey(data: $0))) }
        for part in [region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        let mac = HMAC<SHA256>(key: key)
        let entry = Entry(accessKeyID: credentials.accessKeyID, day: Array(day), region: region, service: service, secret: credentials.secretAccessKey, mac: mac)
        entries.withLock { entries in
            entries.removeAll { $0.day.elementsEqual(day) && $0.service == service && $0.region == region && $0.accessKeyID == credentials.accessKeyID }
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
    private let year: Int, month: Int, dayOfMonth: Int, hour: Int, minute: Int, second: Int
    /// 0 is Sunday.
    private let weekday: Int

    var timestamp: String { String(decoding: timestampBytes, as: UTF8.self) }
    /// Calls `body` with `YYYYMMDD`.
    func withDay<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        timestampBytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<8])) }
    }

    init(_ date: Date) {
        // UTC calendar fields by arithmetic rather than gmtime_r, which takes glibc's time zone lock
        // and reads TZ on every call. Days to civil date: Howard Hinnant's `civil_from_days`
        // (proleptic Gregorian, eras of 400 years), https://howardhinnant.github.io/date_algorithms.html
        let seconds = Int(floor(date.timeIntervalSince1970))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        hour = secondOfDay / 3600
        minute = secondOfDay % 3600 / 60
        second = secondOfDay % 60
        weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday
        let shifted = days + 719_468  // days since 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365, from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0...11, from March
        dayOfMonth = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        var bytes = [UInt8](repeating: 0, count: 16)
        func put(_ value: Int, _ digits: Int, at offset: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(year, 4, at: 0)
        put(month, 2, at: 4)
        put(dayOfMonth, 2, at: 6)
        bytes[8] = UInt8(ascii: "T")
        put(hour, 2, at: 9)
        put(minute, 2, at: 11)
        put(second, 2, at: 13)
        bytes[15] = UInt8(ascii: "Z")
        timestampBytes = bytes
    }

    /// The `Date` header botocore writes (`email.utils.formatdate`): RFC 2822 with `-0000`.
    var httpDate: String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(days[weekday]), \(two(dayOfMonth)) \(months[month - 1]) \(year) \(two(hour)):\(two(minute)):\(two(second)) -0000"
    }
}

/// The parts of an absolute URL that SigV4 reads, as ranges of its bytes. The engine only hands it
/// URLs it built from a validated base URL.
struct SigV4URL {
    /// The URL's UTF-8.
    private let bytes: [UInt8]
    /// Before `://`; `nil` when the URL has none (then `https`).
    private let schemeRange: Range<Int>?
    /// `host[:port]` as written.
    let authorityRange: Range<Int>
    /// Empty when the URL has no path (the signer then sends and signs "/").
    private let pathRange: Range<Int>
    /// After `?`.
    private let queryRange: Range<Int>

    init(_ url: String) {
        bytes = Array(url.utf8)
        var index = 0
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.count > colon + 2,
           bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") {
            schemeRange = 0..<colon
            index = colon + 3
        } else {
            schemeRange = nil
        }
        let authorityEnd = bytes[index...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.count
        authorityRange = index..<authorityEnd
        let question = bytes[authorityEnd...].firstIndex(of: UInt8(ascii: "?"))
        pathRange = authorityEnd..<(question ?? bytes.count)
        let end = bytes.count
        queryRange = question.map { ($0 + 1)..<end } ?? end..<end
    }

    /// Whether the URL had no path (the signer then sends "/").
    var pathWasEmpty: Bool { pathRange.isEmpty }

    var scheme: String { schemeRange.map { String(decoding: bytes[$0].map(ASCII.lower), as: UTF8.self) } ?? "https" }
    var authority: String { String(decoding: bytes[authorityRange], as: UTF8.self) }
    /// `/` for an empty path.
    var path: String { pathRange.isEmpty ? "/" : String(decoding: bytes[pathRange], as: UTF8.self) }
    var query: String { String(decoding: bytes[queryRange], as: UTF8.self) }

    /// The URL, with `/` for an empty path.
    var description: String { "\(scheme)://\(authority)\(path)" + (queryRange.isEmpty ? "" : "?\(query)") }

    /// Whether the scheme is `name` (lowercase), ignoring case.
    private func schemeIs(_ name: StaticString) -> Bool {
        guard let schemeRange, schemeRange.count == name.utf8CodeUnitCount else { return false }
        return zip(bytes[schemeRange], UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)).allSatisfy { ASCII.lower($0) == $1 }
    }

    /// Calls `body` with the path as written (empty when absent).
    func withPath<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[pathRange])) }
    }

    /// Calls `body` with the query as written (empty when absent).
    func withQuery<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[queryRange])) }
    }

    /// Writes the `host` header value at `output` (room for the authority's length): lowercase,
    /// without a default port (botocore's `_host_from_url`). Returns its length.
    func writeHostHeader(to output: UnsafeMutablePointer<UInt8>) -> Int {
        var count = 0
        for byte in bytes[authorityRange] {
            output[count] = ASCII.lower(byte)
            count += 1
        }
        let host = UnsafeBufferPointer(start: output, count: count)
        let defaultPort: StaticString? = schemeRange == nil || schemeIs("https") ? ":443" : schemeIs("http") ? ":80" : nil
        if let defaultPort, count >= defaultPort.utf8CodeUnitCount,
           host.suffix(defaultPort.utf8CodeUnitCount).elementsEqual(UnsafeBufferPointer(start: defaultPort.utf8Start, count: defaultPort.utf8CodeUnitCount)) {
            count -= defaultPort.utf8CodeUnitCount
        }
        return count
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
