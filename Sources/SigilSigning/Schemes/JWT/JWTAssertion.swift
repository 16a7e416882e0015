public import Foundation
public import SigilCore
import SigilModel

/// A signed JWT for another party to verify: the client assertions and JWT bearer grants of
/// OAuth 2.0 (RFC 7523). `iat`, `nbf`, `exp` (after `lifetime` seconds) and a unique `jti` are
/// filled in; the key is a PEM or JWK private key held as secret bytes.
public enum JWTAssertion {
    /// `header.claims.signature`, signed with `key` under `algorithm` (`RS256`, `ES256`, ...).
    /// `claims` are string claims (`iss`, `sub`, `aud`...); `owner` names the key's holder in errors.
    public static func sign(
        claims: [(name: String, value: String)], lifetime: Int, at date: Date, key: SecretBytes, algorithm name: String,
        keyID: String? = nil, owner: String
    ) throws -> String {
        guard let algorithm = JWTAlgorithm(rawValue: name) else {
            throw SigilError(
                .invalidParameter,
                "\(owner): algorithm \(name.sanitizedForMessage) is not one of \(JWTAlgorithm.allNames)")
        }
        let signingKey: JWTSigningKey
        do {
            signingKey = try JWTSigningKey(key, algorithm: algorithm, owner: owner)
        } catch let error as SigilError {
            throw error
        } catch {
            throw SigilError(.invalidSecret, "\(owner): the private key could not be read")
        }
        return try JWTSigner(algorithm: algorithm, key: signingKey, keyID: keyID).compactToken(
            claims: claims, lifetime: lifetime, at: date)
    }
}
