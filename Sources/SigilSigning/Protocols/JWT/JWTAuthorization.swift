import Crypto
import Foundation
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
    static let maximumLifetime = 86_400

    static func token(_ context: CredentialContext, at date: Date) throws -> String {
        let owner = "external credential \(context.external.name), principal \(context.reference)"
        guard let algorithmName = context.parameter("algorithm") else {
            throw SigilError(.signingFailed, "\(owner): parameter algorithm is missing; use one of \(JWTAlgorithm.allNames)")
        }
        guard let algorithm = JWTAlgorithm(rawValue: algorithmName) else {
            throw SigilError(.signingFailed, "\(owner): algorithm \(algorithmName.sanitizedForMessage) is not one of \(JWTAlgorithm.allNames)")
        }
        let key = try JWTSigningKey(context.requireSecret("signingKey", for: "JWT signing"), algorithm: algorithm, owner: owner)
        let resolver = MergeResolver(context: context, authorization: nil)
        func render(_ value: String, _ name: String) throws -> String {
            do {
                return try MergeTemplate(parsing: value).render(resolver.resolve).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
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
        var claims: [String: Any] = [:]
        if let text = context.parameter("claims") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw SigilError(.signingFailed, "\(owner): parameter claims is not a JSON object")
            }
            for (name, value) in object {
                guard !["iat", "nbf", "exp", "jti"].contains(name) else {
                    throw SigilError(.signingFailed, "\(owner): claims may not set \(name); Sigil fills it in")
                }
                claims[name] = try (value as? String).map { try render($0, "claims.\(name)") } ?? value
            }
        }
        for name in ["iss", "sub", "scope"] {
            if let value = context.parameter(name) { claims[name] = try render(value, name) }
        }
        if let audience = context.parameter("aud") {
            let audiences = try audience.split(separator: ",").map { try render($0.trimmingCharacters(in: .whitespaces), "aud") }
            claims["aud"] = audiences.count == 1 ? audiences[0] : audiences
        }
        let now = Int(date.timeIntervalSince1970)
        claims["iat"] = now
        claims["nbf"] = now
        claims["exp"] = now + lifetime
        claims["jti"] = Base64URL.encode(SecretBytes.random(count: 16).withUnsafeBytes { Array($0) })

        var header: [String: Any] = ["alg": algorithm.rawValue, "typ": "JWT"]
        if let kid = context.parameter("kid") { header["kid"] = kid }
        if let certificate = try context.secret("certificate").map({ $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }) ?? context.parameter("certificate") {
            guard let der = PEM.firstCertificate(in: certificate) else {
                throw SigilError(.signingFailed, "\(owner): certificate is not a PEM certificate")
            }
            header["x5t#S256"] = Base64URL.encode(SHA256.hash(data: der))
        }
        let encodedHeader = Base64URL.encode(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes]))
        let encodedClaims = Base64URL.encode(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes]))
        let signingInput = Array("\(encodedHeader).\(encodedClaims)".utf8)
        return "\(encodedHeader).\(encodedClaims).\(Base64URL.encode(try key.sign(signingInput, algorithm: algorithm)))"
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
