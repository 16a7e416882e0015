import Foundation
public import SigilCore
import SigilModel

/// A signed JWT for another party to verify: the client assertions and JWT bearer grants of
/// OAuth 2.0 (RFC 7523). Claims are strings or whole numbers; the key is a PEM or JWK private key
/// held as secret bytes.
public enum JWTAssertion {
    public enum Claim: Sendable, Hashable {
        case string(String)
        case integer(Int)
    }

    /// `header.claims.signature`, signed with `key` under `algorithm` (`RS256`, `ES256`, ...).
    /// `owner` names the key's holder in errors.
    public static func sign(claims: [String: Claim], key: SecretBytes, algorithm name: String, keyID: String? = nil, owner: String) throws -> String {
        guard let algorithm = JWTAlgorithm(rawValue: name) else {
            throw SigilError(.signingFailed, "\(owner): algorithm \(name.sanitizedForMessage) is not one of \(JWTAlgorithm.allNames)")
        }
        let signingKey: JWTSigningKey
        do {
            signingKey = try JWTSigningKey(key, algorithm: algorithm, owner: owner)
        } catch let error as SigilError {
            throw error
        } catch {
            throw SigilError(.signingFailed, "\(owner): the private key could not be read")
        }
        var header: [String: JSONValue] = ["alg": .string(algorithm.rawValue), "typ": .string("JWT")]
        if let keyID { header["kid"] = .string(keyID) }
        let body = JSONValue.object(claims.mapValues {
            switch $0 {
            case .string(let value): .string(value)
            case .integer(let value): .integer(value)
            }
        })
        let input = Base64URL.encode(JSONValue.object(header).serialized()) + "." + Base64URL.encode(body.serialized())
        return input + "." + Base64URL.encode(try signingKey.sign(Array(input.utf8), algorithm: algorithm))
    }

    /// 16 random bytes, base64url: a `jti`.
    public static func uniqueID() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
