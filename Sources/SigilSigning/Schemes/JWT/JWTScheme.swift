import Crypto
import Foundation
import SigilCore
import SigilModel
import SwiftASN1
import X509

/// JWT "sign and send", RFC 7519 with JWS (RFC 7515): the platform builds and signs a JWT and
/// sends it as `Authorization: Bearer <jwt>` (RFC 6750).
///
/// Parameters (a principal's override its external credential's): `algorithm` (required; HS256,
/// HS384, HS512, RS256, RS384, RS512, PS256, ES256, ES384 or EdDSA), `iss`, `sub`, `aud` (commas
/// make a list), `scope`, `kid`, `expiresIn` (seconds, default 300, at most 86400), and `claims`,
/// a JSON object of further claims. String values may hold merge fields. `iat`, `nbf`, `exp` and
/// `jti` are filled in. Secret `signingKey`: PEM, a JWK, or raw bytes for HMAC. With a PEM
/// certificate in `certificate` (secret or parameter), the header carries `x5t#S256`.
struct JWTScheme: AuthorizationScheme {
    static let authProtocol = AuthProtocol.jwt
    static let secretsGoToResource = false
    static let defaultLifetime = 300
    static let maximumLifetime = 86_400

    /// A claim whose value is a template (merge fields filled in per request) or fixed JSON.
    enum Claim: Sendable {
        case template(MergeTemplate)
        case templates([MergeTemplate])
        case value(JSONValue)
    }

    let algorithm: JWTAlgorithm
    let lifetime: Int
    /// The claims in the order they are written (sorted by name, as JSONEncoder would).
    let claims: [(name: String, claim: Claim)]
    let keyID: String?
    /// A certificate given as a parameter (a secret of the same name takes its place).
    let certificate: String?

    init(_ parameters: SchemeParameters) throws(SettingIssue) {
        let name = try parameters.required("algorithm", example: "ES256")
        guard let algorithm = JWTAlgorithm(rawValue: name) else {
            throw SettingIssue(
                parameter: "algorithm", "\(name.sanitizedForMessage) is not one of \(JWTAlgorithm.allNames)")
        }
        self.algorithm = algorithm
        lifetime = try parameters.integer("expiresIn", default: Self.defaultLifetime, range: 1...Self.maximumLifetime)
        func template(_ text: String, _ parameter: String) throws(SettingIssue) -> MergeTemplate {
            do throws(MergeFieldError) { return try MergeTemplate(parsing: text) } catch {
                throw SettingIssue(parameter: parameter, "merge field \(error)")
            }
        }
        var claims: [String: Claim] = [:]
        if let text = parameters["claims"] {
            guard let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)),
                case .object(let object) = parsed
            else {
                throw SettingIssue(parameter: "claims", "is not a JSON object")
            }
            for (name, value) in object {
                guard !["iat", "nbf", "exp", "jti"].contains(name) else {
                    throw SettingIssue(
                        parameter: "claims", "may not set \(name.sanitizedForMessage); Sigil fills it in")
                }
                if case .string(let text) = value {
                    claims[name] = .template(try template(text, "claims"))
                } else {
                    claims[name] = .value(value)
                }
            }
        }
        for name in ["iss", "sub", "scope"] {
            if let value = parameters[name] { claims[name] = .template(try template(value, name)) }
        }
        if let audience = parameters["aud"] {
            var audiences: [MergeTemplate] = []
            for part in audience.split(separator: ",") {
                audiences.append(try template(String(part.trimmingSpaces()), "aud"))
            }
            claims["aud"] = audiences.count == 1 ? .template(audiences[0]) : .templates(audiences)
        }
        self.claims = claims.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        keyID = parameters["kid"]
        certificate = parameters["certificate"]
    }

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
    static func certificateDigest(_ certificate: String, matching key: JWTSigningKey, owner: String) throws(SigilError)
        -> [UInt8]
    {
        let owner = owner.isEmpty ? "" : "\(owner): "
        guard let der = PEM.firstCertificate(in: certificate) else {
            throw SigilError(.invalidSecret, "\(owner)certificate is not a PEM certificate")
        }
        guard let parsed = try? Certificate(derEncoded: Array(der)) else {
            throw SigilError(.invalidSecret, "\(owner)certificate is not a valid X.509 certificate")
        }
        guard let expected = key.certificatePublicKey else {
            throw SigilError(.invalidSecret, "\(owner)an HMAC key has no certificate; remove certificate")
        }
        guard parsed.publicKey == expected else {
            throw SigilError(
                .invalidSecret,
                "\(owner)certificate \(parsed.subject) holds another public key than the JWT signing key (its x5t#S256 would name a certificate that cannot verify the token)"
            )
        }
        return Array(SHA256.hash(data: der))
    }

    /// The key and certificate, read as signing reads them, so that a bad key fails when it is
    /// written (`sigil apply`, `sigil secret set`).
    func checkSecrets(_ secret: (String) throws -> SecretBytes?) throws -> [SettingIssue] {
        guard let material = try secret("signingKey") else { return [] }
        let key: JWTSigningKey
        do { key = try JWTSigningKey(material, algorithm: algorithm, owner: "") } catch let error as SigilError {
            return [SettingIssue(secret: "signingKey", error.reason)]
        } catch {
            return [SettingIssue(secret: "signingKey", "could not be read as a key for \(algorithm.rawValue)")]
        }
        let certificate =
            try secret("certificate").map { $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
            ?? self.certificate
        guard let certificate else { return [] }
        do { _ = try Self.certificateDigest(certificate, matching: key, owner: "") } catch {
            // Named after the key: whichever of the two was written, the pair does not fit.
            return [SettingIssue(secret: "signingKey", error.reason)]
        }
        return []
    }

    func authorization(_ context: CredentialContext, at date: Date, caches: SchemeCaches) throws -> String? {
        "Bearer " + (try token(context, at: date, keys: caches.signingKeys))
    }

    func token(_ context: CredentialContext, at date: Date, keys: Memo<KeyID, JWTSigningKey>) throws -> String {
        let owner = "external credential \(context.external.name), principal \(context.reference)"
        let material = try context.requireSecret("signingKey", for: "JWT signing")
        // Parsing a PEM RSA key costs as much as signing; keep parsed keys, found by a digest of the
        // material (never the material itself) and the algorithm.
        let cacheKey = KeyID(algorithm: algorithm, digest: material.withUnsafeBytes { SHA256.hash(data: $0) })
        let key = try keys.value(for: cacheKey) { () throws(SigilError) in
            do { return try JWTSigningKey(material, algorithm: algorithm, owner: owner) } catch let error as SigilError
            { throw error } catch {
                throw SigilError(.invalidSecret, "\(owner): the JWT signing key could not be read")
            }
        }
        let resolver = MergeResolver(context: context, authorization: nil)
        func render(_ template: MergeTemplate, _ name: String) throws -> String {
            do {
                return try template.render(resolver.resolve).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            } catch let error as MergeFieldError {
                throw SigilError(.invalidRequest, "\(owner), parameter \(name): merge field \(error)")
            }
        }
        var claims: [(name: String, value: JSONValue)] = []
        claims.reserveCapacity(self.claims.count)
        for (name, claim) in self.claims {
            switch claim {
            case .template(let template): claims.append((name, .string(try render(template, name))))
            case .templates(let templates):
                claims.append((name, .array(try templates.map { .string(try render($0, name)) })))
            case .value(let value): claims.append((name, value))
            }
        }
        var thumbprint: String?
        if let certificate = try context.secret("certificate").map({
            $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }) ?? certificate {
            let digest = try Self.checkedCertificates.value(
                for: CertificateCheck(key: cacheKey, certificate: certificate)
            ) { () throws(SigilError) in
                try Self.certificateDigest(certificate, matching: key, owner: owner)
            }
            thumbprint = Base64URL.encode(digest)
        }
        return try JWTSigner(algorithm: algorithm, key: key, keyID: keyID, certificateThumbprint: thumbprint)
            .compactToken(claims: claims, lifetime: lifetime, at: date)
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
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
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
