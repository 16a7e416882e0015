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
        where !Self.isReplaced(
            header.name, date: hadDate, token: credentials.sessionToken != nil, contentHash: replacesContentHash)
        {
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
        let payloadHash =
            headers.first { ASCII.equalsIgnoringCase($0.name, "x-amz-content-sha256") }?.value ?? request.payloadHash

        let canonicalHeaders = CanonicalHeaders(headers, url: url)
        let canonical = url.withQuery { query in
            canonicalRequest(
                method: request.method, url: url, query: query, headers: canonicalHeaders, payloadHash: payloadHash)
        }
        let authorization = canonicalHeaders.withSignedNames { signedNames in
            let prefix: StaticString = "AWS4-HMAC-SHA256 Credential="
            let signedHeaders: StaticString = ", SignedHeaders="
            let signatureLabel: StaticString = ", Signature="
            let capacity =
                prefix.utf8CodeUnitCount + credentials.accessKeyID.utf8.count + 1 + scopeByteCount
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
            trace.step(
                "header Authorization",
                [
                    .text(String(authorization[..<signature.upperBound])),
                    .secret(SecretBytes(utf8: String(authorization[signature.upperBound...]), lockingMemory: false)),
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
        case 20:
            (token && ASCII.equalsIgnoringCase(name, "x-amz-security-token"))
                || (contentHash && ASCII.equalsIgnoringCase(name, "x-amz-content-sha256"))
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
            throw SigilError(
                .invalidRequest, "a presigned URL expires after 1 to 604800 seconds (7 days), not \(expires)")
        }
        let time = AmzTime(date)
        let url = SigV4URL(request.url)
        // The caller's headers are signed (whoever uses the URL sends them), except the form
        // content type that HTTP clients add on their own: when the first Content-Type is that,
        // none is signed (botocore's SigV4QueryAuth._modify_request_before_signing).
        let dropsContentType =
            request.headers.first { ASCII.equalsIgnoringCase($0.name, "content-type") }?.value
            == "application/x-www-form-urlencoded; charset=utf-8"
        let headers = CanonicalHeaders(
            dropsContentType
                ? request.headers.filter { !ASCII.equalsIgnoringCase($0.name, "content-type") } : request.headers,
            url: url)
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
        return "\(url.scheme)://\(url.authority)\(url.path)?\(query)&X-Amz-Signature="
            + String(decoding: signature, as: UTF8.self)
    }
}
