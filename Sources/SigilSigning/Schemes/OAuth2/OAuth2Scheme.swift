package import Foundation
package import SigilCore
package import SigilModel

/// OAuth 2.0 (RFC 6749), sending the access token as a bearer token (RFC 6750):
/// `Authorization: Bearer <access token>`. The token is issued by the provider under the
/// principal's ``OAuth2Settings``; the engine's issuer (`SigilTokens`) obtains, caches and refreshes
/// it, so that decorating only reads it.
package struct OAuth2Scheme: AuthorizationScheme {
    package static let authProtocol = AuthProtocol.oauth2
    package static let secretsGoToResource = false

    package let settings: OAuth2Settings

    package init(_ parameters: SchemeParameters) throws(SettingIssue) {
        settings = try OAuth2Settings(parameters)
    }

    package var issuance: IssuedCredential.Kind? { .oauth2 }

    /// The private key of `private_key_jwt` client authentication (RFC 7523 section 2.2) and of
    /// JWT bearer assertions (section 2.1), read as signing reads it. SAML assertions are checked
    /// by their signer (RSA only).
    package func checkSecrets(_ secret: (String) throws -> SecretBytes?) throws -> [SettingIssue] {
        guard settings.clientAuthentication == .privateKeyJWT || settings.grant == .jwtBearer,
            let material = try secret("privateKey")
        else { return [] }
        do { _ = try JWTSigningKey(material, algorithm: settings.assertionAlgorithm, owner: "") } catch let error
            as SigilError
        {
            return [SettingIssue(secret: "privateKey", error.reason)]
        } catch {
            return [
                SettingIssue(
                    secret: "privateKey", "could not be read as a key for \(settings.assertionAlgorithm.rawValue)")
            ]
        }
        return []
    }

    package func authorization(_ context: CredentialContext, at date: Date, caches: SchemeCaches) throws -> String? {
        // The access token the issuer obtained (the engine asks it before decorating).
        try context.requireSecret("accessToken", for: "OAuth 2.0").withUnsafeBytes { Self.bearer($0) }
    }

    /// `Bearer TOKEN`, made in one allocation (invalid UTF-8 in the token is replaced, as
    /// `String(decoding:)` would).
    static func bearer(_ token: UnsafeRawBufferPointer) -> String {
        let prefix: StaticString = "Bearer "
        return String(unsafeUninitializedCapacity: prefix.utf8CodeUnitCount + token.count) { buffer in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.copyMemory(from: UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
            UnsafeMutableRawBufferPointer(rebasing: raw[prefix.utf8CodeUnitCount...]).copyMemory(from: token)
            return buffer.count
        }
    }
}
