import Foundation
import SigilCore

/// HTTP Basic authentication (RFC 7617): `Basic base64(user-id ":" password)`.
///
/// The user-id is the principal's `username` parameter (or secret); the password its `password`
/// secret. RFC 7617 section 2: a user-id containing a colon cannot be sent, so it is refused.
enum BasicAuthorization {
    static func value(_ context: CredentialContext) throws -> SecretBytes {
        let username = try context.parameter("username").map { SecretBytes(utf8: $0, lockingMemory: false) }
            ?? context.requireSecret("username", for: "Basic authentication")
        let password = try context.requireSecret("password", for: "Basic authentication")
        if username.withUnsafeBytes({ $0.contains(UInt8(ascii: ":")) }) {
            throw SigilError(.signingFailed, "Basic authentication: the username of principal \(context.reference) contains ':', which RFC 7617 does not allow")
        }
        // These live for one request (the header becomes a String): wiped, not locked.
        let credentials = username.appending(SecretBytes(utf8: ":", lockingMemory: false), lockingMemory: false).appending(password, lockingMemory: false)
        return credentials.withUnsafeBytes { bytes in
            var encoded = Array("Basic ".utf8) + Array(Data(bytes).base64EncodedString().utf8)
            defer { encoded.wipe() }
            return SecretBytes(copying: encoded, lockingMemory: false)
        }
    }
}
