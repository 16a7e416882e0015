import Crypto
import Foundation
import Hummingbird
import SigilCore
import SigilModel
import SigilStore
import Synchronization

/// API keys for applications: `Authorization: Bearer sigil_<id>_<secret>` (RFC 6750's header form),
/// checked against the SHA-256 the vault keeps (the key itself is stored nowhere). A key found good
/// is remembered, by its SHA-256, for as long as the vault's catalog snapshot stays the same object:
/// creating, revoking or changing any key (or anything else in the catalog) makes a new snapshot,
/// so a revoked key is refused as soon as the service sees the change (at once for its own writes,
/// within 100 ms for another process's); its expiry is checked on every use.
struct APIKeyAuthenticator: Authenticator {
    let name = "api-key"
    let vault: Vault
    let verified = VerifiedKeys()
    let clock: @Sendable () -> Date

    func authenticate(_ request: Request, context: ServiceContext, settings: ServiceSettings) async throws
        -> AuthenticationOutcome
    {
        guard settings.apiKeys.enabled, let header = request.headers[.authorization],
            header.count > 7, header.prefix(7).lowercased() == "bearer "
        else { return .notApplicable }
        // RFC 6750 section 2.1: "Bearer" 1*SP b64token; blanks around the token are forgiven.
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var bytes = header.utf8.dropFirst(7)
        while let first = bytes.first, isBlank(first) { bytes.removeFirst() }
        while let last = bytes.last, isBlank(last) { bytes.removeLast() }
        var token = String(Substring(bytes))
        // Another kind of bearer token is not ours to judge: the next authenticator may know it.
        guard token.hasPrefix(Vault.apiKeyPrefix) else { return .notApplicable }
        // A key holds 256 random bits: nothing to guess, so no queue; a failing answer still waits
        // as the client address's failures say (the chain adds the address).
        let now = clock()
        let snapshot = try vault.snapshot()
        // The key is already in the request's (unlocked) memory; only a key not yet verified is
        // copied into locked memory for the vault.
        let digest = token.withUTF8 { Data(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
        if let holder = verified.holder(digest, under: snapshot) {
            guard holder.expiresAt.map({ Int64(now.timeIntervalSince1970) < $0 }) ?? true else {
                return .failed(keys: [])
            }
            return .authenticated(user: holder.user)
        }
        do {
            let holder = try vault.apiKeyHolder(SecretBytes(utf8: token), at: now)
            verified.insert(digest, holder, under: snapshot)
            return .authenticated(user: holder.user)
        } catch let error as SigilError where error.code == .unauthenticated {
            return .failed(keys: [])
        }
    }
}

/// Keys found good under one catalog snapshot, by their SHA-256 (never the key).
final class VerifiedKeys: Sendable {
    static let capacity = 10_000
    private let state = Mutex<(snapshot: CatalogSnapshot?, keys: [Data: (user: String, expiresAt: Int64?)])>((nil, [:]))

    func holder(_ digest: Data, under snapshot: CatalogSnapshot) -> (user: String, expiresAt: Int64?)? {
        state.withLock { state in state.snapshot === snapshot ? state.keys[digest] : nil }
    }

    func insert(_ digest: Data, _ holder: (user: String, expiresAt: Int64?), under snapshot: CatalogSnapshot) {
        state.withLock { state in
            if state.snapshot !== snapshot { state = (snapshot, [:]) }
            if state.keys.count < Self.capacity { state.keys[digest] = holder }
        }
    }
}
