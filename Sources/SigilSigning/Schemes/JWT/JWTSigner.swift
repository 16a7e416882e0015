import Crypto
public import Foundation
public import SigilCore
import Synchronization

/// Builds and signs compact JWS tokens (RFC 7515 section 7.1) with a parsed key, with `iat`,
/// `nbf`, `exp` and `jti` filled in.
///
/// The header is constant per signer (algorithm, `kid`, `x5t#S256`), so its base64url is written
/// once, when the signer is made. Per token, the claims' JSON goes to a stack buffer and the token
/// (`header.claims.signature`) straight into the returned `String`'s storage: one allocation for
/// the token, none for the JSON or the base64url.
///
/// The engine goes through ``JWTScheme``, which reads the parameters, renders merge fields
/// and memoizes parsed keys; this is the part that runs once per token whatever the credential.
/// It is exposed (as SPI) so the benchmarks can measure JWT signing itself beside swift-crypto's
/// raw signature.
@_spi(Benchmarking)
public struct JWTSigner: Sendable {
    let algorithm: JWTAlgorithm
    let key: JWTSigningKey
    /// base64url of the header's JSON.
    let encodedHeader: [UInt8]

    /// - Parameters:
    ///   - keyID: the header's `kid`.
    ///   - certificateThumbprint: the header's `x5t#S256`.
    init(algorithm: JWTAlgorithm, key: JWTSigningKey, keyID: String? = nil, certificateThumbprint: String? = nil) {
        self.algorithm = algorithm
        self.key = key
        if keyID == nil, certificateThumbprint == nil, let header = Self.plainHeaders[algorithm] {
            encodedHeader = header
        } else {
            encodedHeader = Self.encodedHeader(
                algorithm: algorithm, keyID: keyID, certificateThumbprint: certificateThumbprint)
        }
    }

    /// Parses `material` (PEM, a JWK, or raw bytes for HMAC) as the engine does.
    public init(algorithm: JWTAlgorithm, key material: SecretBytes) throws {
        self.init(algorithm: algorithm, key: try JWTSigningKey(material, algorithm: algorithm, owner: "JWT signer"))
    }

    /// A token with the header `alg` and `typ` and the given string claims.
    public func token(claims: [(name: String, value: String)], lifetime: Int = 300, at date: Date) throws -> String {
        try compactToken(claims: claims, lifetime: lifetime, at: date)
    }

    /// `base64url(header) . base64url(claims) . base64url(signature)`.
    ///
    /// - Parameter claims: names unique, none of `iat`, `nbf`, `exp` or `jti` (the caller checks).
    func compactToken<Value: JWTClaimValue>(claims: [(name: String, value: Value)], lifetime: Int, at date: Date) throws
        -> String
    {
        let now = Int(date.timeIntervalSince1970)
        let jti = TokenID.next()
        var jsonBound = 2 + Self.filledClaimsBound
        for claim in claims { jsonBound += 2 + JSON.stringBound(claim.name) + claim.value.jsonBound }

        // The claims' JSON in a temporary buffer (on the stack unless the claims are large), then
        // the token into the String's own storage, sized for the longest signature of the key.
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: jsonBound) { buffer in
            var json = ByteWriter(buffer)
            writeClaims(claims, now: now, lifetime: lifetime, jti: jti, to: &json)
            let claimsJSON = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[..<json.count]))
            let capacity =
                encodedHeader.count + 1 + Base64URL.encodedCount(json.count) + 1
                + Base64URL.encodedCount(key.signatureByteCount)
            return try String(unsafeUninitializedCapacity: capacity) { buffer in
                var token = ByteWriter(buffer)
                token.write(encodedHeader)
                token.write(UInt8(ascii: "."))
                token.writeBase64URL(claimsJSON)
                let signingInput = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[..<token.count]))
                let signature = try key.signature(for: signingInput, algorithm: algorithm)
                token.write(UInt8(ascii: "."))
                signature.withUnsafeBytes { token.writeBase64URL($0) }
                return token.count
            }
        }
    }

    /// The claims and Sigil's four (`exp`, `iat`, `jti`, `nbf`, in that order), merged by name.
    /// Members are written sorted by name, bytewise (RFC 7515 asks for no order; a stable one makes
    /// tokens easy to compare). No local functions capture the writer (captured variables would be
    /// checked for exclusive access at run time, on every write).
    private func writeClaims<Value: JWTClaimValue>(
        _ claims: [(name: String, value: Value)], now: Int, lifetime: Int, jti: (UInt64, UInt64),
        to json: inout ByteWriter
    ) {
        let filled = FilledClaims(now: now, lifetime: lifetime, jti: jti)
        json.write(UInt8(ascii: "{"))
        var next = 0  // the next of Sigil's claims to write
        // Sorted through a temporary index buffer (insertion sort: claims are few), not a sorted
        // copy of the claims.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: claims.count) { order in
            for index in claims.indices {
                var position = index
                while position > 0, JSON.precedes(claims[index].name, claims[order[position - 1]].name) {
                    order[position] = order[position - 1]
                    position -= 1
                }
                order[position] = index
            }
            for index in order {
                let claim = claims[index]
                next = filled.write(from: next, before: claim.name, to: &json)
                if json.count > 1 { json.write(UInt8(ascii: ",")) }
                json.writeJSONString(claim.name)
                json.write(UInt8(ascii: ":"))
                claim.value.writeJSON(to: &json)
            }
        }
        _ = filled.write(from: next, before: nil, to: &json)
        json.write(UInt8(ascii: "}"))
    }

    /// Sigil's four claims, `exp`, `iat`, `jti`, `nbf` (sorted).
    private struct FilledClaims {
        let now: Int
        let lifetime: Int
        let jti: (UInt64, UInt64)

        /// Writes those from `next` on that sort before `name` (all of them for nil); returns the
        /// next one left.
        func write(from next: Int, before name: String?, to json: inout ByteWriter) -> Int {
            var next = next
            while next < 4 {
                if let name, !Self.precedes(next, name) { break }
                if json.count > 1 { json.write(UInt8(ascii: ",")) }
                switch next {
                case 0:
                    json.write(#""exp":"# as StaticString)
                    json.writeInteger(now + lifetime)
                case 1:
                    json.write(#""iat":"# as StaticString)
                    json.writeInteger(now)
                case 2:
                    json.write(#""jti":""# as StaticString)
                    withUnsafeBytes(of: jti) { json.writeBase64URL($0) }
                    json.write(UInt8(ascii: "\""))
                default:
                    json.write(#""nbf":"# as StaticString)
                    json.writeInteger(now)
                }
                next += 1
            }
            return next
        }

        /// Whether claim `index` sorts before `name`: decided by the first byte unless they share it.
        static func precedes(_ index: Int, _ name: String) -> Bool {
            let filled: StaticString =
                switch index {
                case 0: "exp"
                case 1: "iat"
                case 2: "jti"
                default: "nbf"
                }
            let bytes = UnsafeBufferPointer(start: filled.utf8Start, count: filled.utf8CodeUnitCount)
            let precedes = name.utf8.withContiguousStorageIfAvailable { name in
                guard let first = name.first else { return false }
                return bytes[0] != first ? bytes[0] < first : bytes.lexicographicallyPrecedes(name)
            }
            return precedes ?? bytes.lexicographicallyPrecedes(name.utf8)
        }
    }

    /// The most Sigil's four claims take: `,"exp":` and 20 characters of integer (27), the same
    /// for `iat` and `nbf`, and `,"jti":"` with 22 characters of base64url and a quote (31).
    private static let filledClaimsBound = 3 * 27 + 31

    /// base64url of `{"alg":...,"kid":...,"typ":"JWT","x5t#S256":...}` (members sorted by name).
    static func encodedHeader(algorithm: JWTAlgorithm, keyID: String?, certificateThumbprint: String?) -> [UInt8] {
        let bound =
            64 + JSON.stringBound(algorithm.rawValue) + (keyID.map(JSON.stringBound) ?? 0)
            + (certificateThumbprint.map(JSON.stringBound) ?? 0)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer in
            var json = ByteWriter(buffer)
            json.write(#"{"alg":"# as StaticString)
            json.writeJSONString(algorithm.rawValue)
            if let keyID {
                json.write(#","kid":"# as StaticString)
                json.writeJSONString(keyID)
            }
            json.write(#","typ":"JWT""# as StaticString)
            if let certificateThumbprint {
                json.write(#","x5t#S256":"# as StaticString)
                json.writeJSONString(certificateThumbprint)
            }
            json.write(UInt8(ascii: "}"))
            let headerJSON = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[..<json.count]))
            return [UInt8](unsafeUninitializedCapacity: Base64URL.encodedCount(json.count)) { encoded, count in
                var writer = ByteWriter(encoded)
                writer.writeBase64URL(headerJSON)
                count = writer.count
            }
        }
    }

    /// The headers without `kid` or `x5t#S256`, one per algorithm.
    private static let plainHeaders = Dictionary(
        uniqueKeysWithValues: JWTAlgorithm.allCases.map {
            ($0, encodedHeader(algorithm: $0, keyID: nil, certificateThumbprint: nil))
        })
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
                (
                    bytes.loadUnaligned(fromByteOffset: pool.used, as: UInt64.self),
                    bytes.loadUnaligned(fromByteOffset: pool.used + 8, as: UInt64.self)
                )
            }
        }
    }
}
