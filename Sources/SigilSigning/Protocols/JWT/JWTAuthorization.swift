import Crypto
import Foundation
import SwiftASN1
import X509
import SigilCore
import SigilModel

/// JWT "sign and send" (RFC 7519): the platform builds and signs a JWT and sends it as
/// `Authorization: Bearer <jwt>` (RFC 6750).
///
/// Parameters (a principal's override its external credential's): `algorithm` (required; HS256,
/// HS384, HS512, RS256, RS384, RS512, PS256, ES256, ES384 or EdDSA), `iss`, `sub`, `aud` (commas
/// make a list), `scope`, `kid`, `expiresIn` (seconds, default 300, at most 86400), and `claims`,
/// a JSON object of further claims. String values may hold merge fields. `iat`, `nbf`, `exp` and
/// `jti` are filled in. Secret `signingKey`: PEM, a JWK, or raw bytes for HMAC. With a PEM
/// certificate in `certificate` (secret or parameter), the header carries `x5t#S256`.
enum JWTAuthorization {
    static let defaultLifetime = 300
    /// The `claims` parameter, parsed once per text (configuration, not secrets).
    static let parsedClaims = Memo<String, JSONValue>(limit: 256)
    static let maximumLifetime = 86_400

    /// Where a parsed signing key is kept: its algorithm and the SHA-256 of its material (never
    /// the material itself).
    struct KeyID: Hashable, Sendable {
        var algorithm: JWTAlgorithm
        var digest: SHA256Digest
    }

    /// Certificates already checked against a key, and their SHA-256 (configuration: a
    /// certificate is public, and the key is named by a digest of its material).
    struct CertificateCheck: Hashable, Sendable {
        var key: KeyID
        var certificate: String
    }
    static let checkedCertificates = Memo<CertificateCheck, [UInt8]>(limit: 256)

    /// The SHA-256 of `certificate`'s first certificate (for `x5t#S256`, RFC 7515 section 4.1.8),
    /// once it is known to hold `key`'s public key: a thumbprint of another key's certificate would
    /// name a certificate that cannot verify the token.
    static func certificateDigest(_ certificate: String, matching key: JWTSigningKey, owner: String) throws(SigilError) -> [UInt8] {
        guard let der = PEM.firstCertificate(in: certificate) else {
            throw SigilError(.signingFailed, "\(owner): certificate is not a PEM certificate")
        }
        guard let parsed = try? Certificate(derEncoded: Array(der)) else {
            throw SigilError(.signingFailed, "\(owner): certificate is not a valid X.509 certificate")
        }
        guard let expected = key.certificatePublicKey else {
            throw SigilError(.signingFailed, "\(owner): an HMAC key has no certificate; remove certificate")
        }
        guard parsed.publicKey == expected else {
            throw SigilError(.signingFailed, "\(owner): certificate \(parsed.subject) holds another public key than the JWT signing key (its x5t#S256 would name a certificate that cannot verify the token)")
        }
        return Array(SHA256.hash(data: der))
    }

    /// Why `key` (with `certificate`, when given) cannot sign with `algorithm`, checked as
    /// signing would: for `apply` and `secret set`, so a bad key fails when it is written.
    static func check(algorithm name: String?, key material: SecretBytes?, certificate: String?, owner: String) throws(SigilError) {
        guard let name else {
            throw SigilError(.signingFailed, "\(owner): parameter algorithm is missing; use one of \(JWTAlgorithm.allNames)")
        }
        guard let algorithm = JWTAlgorithm(rawValue: name) else {
            throw SigilError(.signingFailed, "\(owner): algorithm \(name.sanitizedForMessage) is not one of \(JWTAlgorithm.allNames)")
        }
        guard let material else { return }
        let key: JWTSigningKey
        do { key = try JWTSigningKey(material, algorithm: algorithm, owner: owner) } catch let error as SigilError { throw error } catch {
            throw SigilError(.signingFailed, "\(owner): the JWT signing key could not be read")
        }
        if let certificate { _ = try certificateDigest(certificate, matching: key, owner: owner) }
    }

    static func token(_ context: CredentialContext, at date: Date, keys: Memo<KeyID, JWTSigningKey>, templates: Memo<String, MergeTemplate>) throws -> String {
        let owner = "external credential \(context.external.name), principal \(context.reference)"
        guard let algorithmName = context.parameter("algorithm") else {
            throw SigilError(.signingFailed, "\(owner): parameter algorithm is missing; use one of \(JWTAlgorithm.allNames)")
        }
        guard let algorithm = JWTAlgorithm(rawValue: algorithmName) else {
            throw SigilError(.signingFailed, "\(owner): algorithm \(algorithmName.sanitizedForMessage) is not one of \(JWTAlgorithm.allNames)")
        }
        let material = try context.requireSecret("signingKey", for: "JWT signing")
        // Parsing a PEM RSA key costs as much as signing; keep parsed keys, found by a digest of the
        // material (never the material itself) and the algorithm.
        let keyID = KeyID(algorithm: algorithm, digest: material.withUnsafeBytes { SHA256.hash(data: $0) })
        let key = try keys.value(for: keyID) { () throws(SigilError) in
            do { return try JWTSigningKey(material, algorithm: algorithm, owner: owner) } catch let error as SigilError { throw error } catch {
                throw SigilError(.signingFailed, "\(owner): the JWT signing key could not be read")
            }
        }
        let resolver = MergeResolver(context: context, authorization: nil)
        func render(_ value: String, _ name: String) throws -> String {
            do {
                return try templates.value(for: value) { () throws(MergeFieldError) in try MergeTemplate(parsing: value) }
                    .render(resolver.resolve).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            } catch let error as MergeFieldError {
                throw SigilError(.signingFailed, "\(owner), parameter \(name): merge field \(error)")
            }
        }

        var lifetime = defaultLifetime
        if let text = context.parameter("expiresIn") {
            guard let seconds = Int(text), (1...maximumLifetime).contains(seconds) else {
                throw SigilError(.signingFailed, "\(owner): expiresIn must be a number of seconds from 1 to \(maximumLifetime)")
            }
            lifetime = seconds
        }
        var claims: [String: JSONValue] = [:]
        if let text = context.parameter("claims") {
            let parsed = try? parsedClaims.value(for: text) { () throws(SigilError) in
                guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                    throw SigilError(.signingFailed, "not JSON")
                }
                return value
            }
            guard let parsed, case .object(let object) = parsed else {
                throw SigilError(.signingFailed, "\(owner): parameter claims is not a JSON object")
            }
            for (name, value) in object {
                guard !["iat", "nbf", "exp", "jti"].contains(name) else {
                    throw SigilError(.signingFailed, "\(owner): claims may not set \(name); Sigil fills it in")
                }
                if case .string(let text) = value {
                    claims[name] = .string(try render(text, "claims.\(name)"))
                } else {
                    claims[name] = value
                }
            }
        }
        for name in ["iss", "sub", "scope"] {
            if let value = context.parameter(name) { claims[name] = .string(try render(value, name)) }
        }
        if let audience = context.parameter("aud") {
            let audiences = try audience.split(separator: ",").map { try render(String($0.trimmingSpaces()), "aud") }
            claims["aud"] = audiences.count == 1 ? .string(audiences[0]) : .array(audiences.map(JSONValue.string))
        }
        var thumbprint: String?
        if let certificate = try context.secret("certificate").map({ $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }) ?? context.parameter("certificate") {
            let digest = try checkedCertificates.value(for: CertificateCheck(key: keyID, certificate: certificate)) { () throws(SigilError) in
                try certificateDigest(certificate, matching: key, owner: owner)
            }
            thumbprint = Base64URL.encode(digest)
        }
        return try JWTSigner(algorithm: algorithm, key: key, keyID: context.parameter("kid"), certificateThumbprint: thumbprint)
            .compactToken(claims: claims.map { (name: $0.key, value: $0.value) }, lifetime: lifetime, at: date)
    }
}

/// Minimal PEM reading for certificates (RFC 7468).
enum PEM {
    /// The DER bytes of the first `CERTIFICATE` block.
    static func firstCertificate(in text: String) -> Data? {
        guard let begin = text.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = text.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<text.endIndex)
        else { return nil }
        let base64 = text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(base64))
    }
}

/// A JSON value, for JWT headers and claims (`JSONEncoder` writes it with sorted keys).
enum JSONValue: Codable, Sendable {
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (Foundation's `trimmingCharacters` bridges
    /// through NSString, which costs microseconds per call).
    func trimmingSpaces() -> Substring {
        var trimmed = self
        while let first = trimmed.first, first == " " || first == "\t" { trimmed = trimmed.dropFirst() }
        while let last = trimmed.last, last == " " || last == "\t" { trimmed = trimmed.dropLast() }
        return trimmed
    }
}
