import Crypto
public import Foundation
public import SigilCore

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
        try token(header: [], claims: claims.map { (name: $0.name, value: .string($0.value)) }, lifetime: lifetime, at: date)
    }

    /// `base64url(header) . base64url(claims) . base64url(signature)`.
    ///
    /// - Parameters:
    ///   - header: members besides `alg` and `typ` (`kid`, `x5t#S256`), names unique.
    ///   - claims: names unique, none of `iat`, `nbf`, `exp` or `jti` (the caller checks).
    func token(header: [(name: String, value: JSONValue)], claims: [(name: String, value: JSONValue)], lifetime: Int, at date: Date) throws -> String {
        let now = Int(date.timeIntervalSince1970)
        // A unique id, not a secret: 16 bytes of the system's random generator, no locked memory.
        var generator = SystemRandomNumberGenerator()
        let jti = (generator.next() as UInt64, generator.next() as UInt64)
        let filled: [(name: String, value: FilledClaim)] = [("exp", .integer(now + lifetime)), ("iat", .integer(now)), ("jti", .id(jti)), ("nbf", .integer(now))]

        // The JSON of both parts goes to `json`, then base64url into `output`, which holds the
        // signing input and then the signature: two buffers whatever the claims.
        var json: [UInt8] = []
        json.reserveCapacity(256)
        json.append(UInt8(ascii: "{"))
        let standard: [(name: String, value: JSONValue)] = [("alg", .string(algorithm.rawValue)), ("typ", .string("JWT"))]
        writeMembers(standard + header, filled: [], to: &json)
        json.append(UInt8(ascii: "}"))
        let headerEnd = json.count
        json.append(UInt8(ascii: "{"))
        writeMembers(claims, filled: filled, to: &json)
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

    /// A claim Sigil fills in, written without building a `JSONValue`.
    enum FilledClaim {
        case integer(Int)
        /// `jti`: 16 random bytes, base64url.
        case id((UInt64, UInt64))
    }

    /// `"name":value,...` sorted by name bytewise (RFC 7515 does not ask for an order; a stable one
    /// makes tokens easy to compare). `filled` is already sorted.
    private func writeMembers(_ members: [(name: String, value: JSONValue)], filled: [(name: String, value: FilledClaim)], to output: inout [UInt8]) {
        let sorted = members.count < 2 ? members : members.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var next = 0  // the next filled claim to write
        var first = true
        func separate() {
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
        }
        func writeFilled(before name: String?) {
            while next < filled.count, name.map({ filled[next].name.utf8.lexicographicallyPrecedes($0.utf8) }) ?? true {
                separate()
                JSONValue.writeString(filled[next].name, to: &output)
                output.append(UInt8(ascii: ":"))
                switch filled[next].value {
                case .integer(let value): JSONValue.writeInteger(value, to: &output)
                case .id(let (high, low)):
                    output.append(UInt8(ascii: "\""))
                    withUnsafeBytes(of: (high, low)) { Base64URL.append($0, to: &output) }
                    output.append(UInt8(ascii: "\""))
                }
                next += 1
            }
        }
        for member in sorted {
            writeFilled(before: member.name)
            separate()
            JSONValue.writeString(member.name, to: &output)
            output.append(UInt8(ascii: ":"))
            member.value.write(to: &output)
        }
        writeFilled(before: nil)
    }
}
