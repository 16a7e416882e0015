import Crypto
public import Foundation
public import SigilCore
import Synchronization

/// Builds and signs compact JWS tokens (RFC 7515 section 7.1) with a parsed key: the header and
/// claims are written as JSON, base64url-encoded and signed in one byte buffer, with `iat`, `nbf`,
/// `exp` and `jti` filled in.
///
/// The engine goes through ``JWTAuthorization``, which reads the parameters, renders merge fields
/// and memoizes parsed keys; this is the part that runs once per token whatever the credential.
/// It is exposed (as SPI) so the benchmarks can measure JWT signing itself beside swift-crypto's
/// raw signature.
@_spi(Benchmarking)
public struct JWTSigner: Sendable {
    let algorithm: JWTAlgorithm
    let key: JWTSigningKey

    init(algorithm: JWTAlgorithm, key: JWTSigningKey) {
        self.algorithm = algorithm
        self.key = key
    }

    /// Parses `material` (PEM, a JWK, or raw bytes for HMAC) as the engine does.
    public init(algorithm: JWTAlgorithm, key material: SecretBytes) throws {
        self.init(algorithm: algorithm, key: try JWTSigningKey(material, algorithm: algorithm, owner: "JWT signer"))
    }

    /// A token with the header `alg` and `typ` and the given string claims.
    public func token(claims: [(name: String, value: String)], lifetime: Int = 300, at date: Date) throws -> String {
        try token(keyID: nil, certificateThumbprint: nil, claims: claims.map { (name: $0.name, value: .string($0.value)) }, lifetime: lifetime, at: date)
    }

    /// `base64url(header) . base64url(claims) . base64url(signature)`.
    ///
    /// - Parameters:
    ///   - keyID: the header's `kid`.
    ///   - certificateThumbprint: the header's `x5t#S256`.
    ///   - claims: names unique, none of `iat`, `nbf`, `exp` or `jti` (the caller checks).
    func token(keyID: String?, certificateThumbprint: String?, claims: [(name: String, value: JSONValue)], lifetime: Int, at date: Date) throws -> String {
        let now = Int(date.timeIntervalSince1970)
        let jti = TokenID.next()

        // The JSON of both parts goes to `json`, then base64url into `output`, which holds the
        // signing input and then the signature: two buffers whatever the claims. Members are
        // written sorted by name (RFC 7515 asks for no order; a stable one makes tokens easy to
        // compare).
        var json: [UInt8] = []
        json.reserveCapacity(256)
        json.append(UInt8(ascii: "{"))
        JSONValue.writeMember("alg", to: &json) { JSONValue.writeString(algorithm.rawValue, to: &$0) }
        if let keyID { JSONValue.writeMember("kid", to: &json) { JSONValue.writeString(keyID, to: &$0) } }
        JSONValue.writeMember("typ", to: &json) { JSONValue.writeString("JWT", to: &$0) }
        if let certificateThumbprint { JSONValue.writeMember("x5t#S256", to: &json) { JSONValue.writeString(certificateThumbprint, to: &$0) } }
        json.append(UInt8(ascii: "}"))
        let headerEnd = json.count
        json.append(UInt8(ascii: "{"))
        writeClaims(claims, now: now, lifetime: lifetime, jti: jti, to: &json)
        json.append(UInt8(ascii: "}"))

        var output: [UInt8] = []
        output.reserveCapacity(Base64URL.encodedCount(headerEnd) + Base64URL.encodedCount(json.count - headerEnd) + Base64URL.encodedCount(key.signatureByteCount) + 2)
        json.withUnsafeBytes { json in
            Base64URL.append(UnsafeRawBufferPointer(rebasing: json[..<headerEnd]), to: &output)
            output.append(UInt8(ascii: "."))
            Base64URL.append(UnsafeRawBufferPointer(rebasing: json[headerEnd...]), to: &output)
        }
        let signature = try output.withUnsafeBytes { try key.signature(for: $0, algorithm: algorithm) }
        output.append(UInt8(ascii: "."))
        signature.withUnsafeBytes { Base64URL.append($0, to: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    /// The claims and Sigil's four (`exp`, `iat`, `jti`, `nbf`, in that order), merged by name.
    private func writeClaims(_ claims: [(name: String, value: JSONValue)], now: Int, lifetime: Int, jti: (UInt64, UInt64), to output: inout [UInt8]) {
        let sorted = claims.count < 2 ? claims : claims.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var next = 0  // the next of Sigil's claims to write
        func writeFilled(before name: String?) {
            while next < Self.filledNames.count, name.map({ Self.filledNames[next].utf8.lexicographicallyPrecedes($0.utf8) }) ?? true {
                JSONValue.writeMember(Self.filledNames[next], to: &output) { output in
                    switch next {
                    case 0: JSONValue.writeInteger(now + lifetime, to: &output)
                    case 2:
                        output.append(UInt8(ascii: "\""))
                        withUnsafeBytes(of: jti) { Base64URL.append($0, to: &output) }
                        output.append(UInt8(ascii: "\""))
                    default: JSONValue.writeInteger(now, to: &output)
                    }
                }
                next += 1
            }
        }
        for claim in sorted {
            writeFilled(before: claim.name)
            JSONValue.writeMember(claim.name, to: &output) { claim.value.write(to: &$0) }
        }
        writeFilled(before: nil)
    }

    /// `exp`, `iat`, `jti`, `nbf`: sorted, and in the order ``writeClaims`` writes their values.
    private static let filledNames = ["exp", "iat", "jti", "nbf"]
}

/// `jti` values: unique, not secret (each is public once its token is sent). Random bytes come
/// from the system 4 KiB at a time, one `arc4random_buf` call per 256 ids, rather than two system
/// calls per token. (A process that forked without exec would share the pool; Sigil does not.)
enum TokenID {
    private struct Pool {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var used = 4096
    }

    private static let pool = Mutex(Pool())

    /// 16 random bytes.
    static func next() -> (UInt64, UInt64) {
        pool.withLock { pool in
            if pool.used == pool.bytes.count {
                pool.bytes.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                pool.used = 0
            }
            defer { pool.used += 16 }
            return pool.bytes.withUnsafeBytes { bytes in
                (bytes.loadUnaligned(fromByteOffset: pool.used, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: pool.used + 8, as: UInt64.self))
            }
        }
    }
}
