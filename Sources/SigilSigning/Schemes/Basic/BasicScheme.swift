import Foundation
import SigilCore
import SigilModel

/// HTTP Basic authentication, RFC 7617: `Authorization: Basic base64(user-id ":" password)`.
///
/// Parameter `username` (or a secret of that name, per user); secret `password`. RFC 7617
/// section 2: a user-id containing a colon cannot be sent, so it is refused, at `apply` for a
/// parameter and at `secret set` for a secret.
struct BasicScheme: AuthorizationScheme {
    static let authProtocol = AuthProtocol.basic
    static let secretsGoToResource = true

    /// The user-id when it is a parameter (else the principal's `username` secret).
    let username: String?

    init(_ parameters: SchemeParameters) throws(SettingIssue) {
        username = parameters["username"]
        if let username, username.contains(":") {
            throw SettingIssue(parameter: "username", "contains ':', which RFC 7617 does not allow in a user-id")
        }
    }

    /// The user's password, and their user-id unless the principal sets it as a parameter.
    func userSecretFields(mergeFields: [String]) -> [String]? {
        username == nil ? ["username", "password"] : ["password"]
    }

    func checkSecrets(_ secret: (String) throws -> SecretBytes?) throws -> [SettingIssue] {
        guard username == nil, let stored = try secret("username"),
            stored.withUnsafeBytes({ $0.contains(UInt8(ascii: ":")) })
        else { return [] }
        return [SettingIssue(secret: "username", "contains ':', which RFC 7617 does not allow in a user-id")]
    }

    func authorization(_ context: CredentialContext, at date: Date, caches: SchemeCaches) throws -> String? {
        // The value depends on the principal's secrets alone: worked out once for as long as they
        // are kept (then in locked memory, as they are; the request's header is a String either way).
        let value = try context.binding.derived.value(for: context) { try credentials(context) }
        return value.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// `Basic base64(user-id ":" password)`.
    private func credentials(_ context: CredentialContext) throws -> SecretBytes {
        let username =
            try self.username.map { SecretBytes(utf8: $0, lockingMemory: false) }
            ?? context.requireSecret("username", for: "Basic authentication")
        let password = try context.requireSecret("password", for: "Basic authentication")
        if username.withUnsafeBytes({ $0.contains(UInt8(ascii: ":")) }) {
            throw SigilError(
                .invalidSecret,
                "Basic authentication: the username of principal \(context.reference) contains ':', which RFC 7617 does not allow"
            )
        }
        let credentials = username.appending(SecretBytes(utf8: ":", lockingMemory: false), lockingMemory: false)
            .appending(password, lockingMemory: false)
        return credentials.withUnsafeBytes { bytes in
            var encoded = Array(("Basic " + Data(bytes).base64EncodedString()).utf8)
            defer { encoded.wipe() }
            return SecretBytes(copying: encoded, lockingMemory: context.keepsSecrets)
        }
    }
}
