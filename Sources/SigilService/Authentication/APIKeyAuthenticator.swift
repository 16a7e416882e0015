import Foundation
import Hummingbird
import SigilCore
import SigilModel
import SigilStore

/// API keys for applications: `Authorization: Bearer sigil_<id>_<secret>` (RFC 6750's header form),
/// checked against the SHA-256 the vault keeps (the key itself is stored nowhere).
struct APIKeyAuthenticator: Authenticator {
    let name = "api-key"
    let vault: Vault
    let clock: @Sendable () -> Date

    func authenticate(_ request: Request, context: ServiceContext, settings: ServiceSettings) async throws
        -> AuthenticationOutcome
    {
        guard settings.apiKeys.enabled, let header = request.headers[.authorization],
            header.count > 7, header.prefix(7).lowercased() == "bearer "
        else { return .notApplicable }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        // Another kind of bearer token is not ours to judge: the next authenticator may know it.
        guard token.hasPrefix(Vault.apiKeyPrefix) else { return .notApplicable }
        // A key holds 256 random bits: nothing to guess, so no queue; a failing answer still waits
        // as the client address's failures say (the chain adds the address).
        do {
            return .authenticated(user: try vault.user(ofAPIKey: SecretBytes(utf8: token), at: clock()))
        } catch let error as SigilError where error.code == .unauthenticated {
            return .failed(keys: [])
        }
    }
}
