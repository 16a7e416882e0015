import Foundation
import SigilModel
import SigilSigning
import SigilTokens
import Synchronization

/// The connect page's OAuth 2.0 authorizations in progress: code flows waiting for their callback,
/// under their `state` (single use, ten minutes, bound to the browser session that started them),
/// and device flows polling the provider in the background.
final class ConnectFlows: Sendable {
    /// How long a `state` is honoured.
    static let codeLifetime: Duration = .seconds(600)

    struct PendingCode: Sendable {
        /// The SHA-256 of the session cookie that started it.
        let sessionID: Data
        let user: String
        let key: IssuedCredentialKey
        let authorization: OAuthLogin.CodeAuthorization
    }

    private let codes = ExpiringCache<String, PendingCode>(capacity: 10_000)
    private let devices = Mutex<[UUID: Task<Void, Never>]>([:])

    /// Keeps `pending` until its callback; `false` when too many are waiting.
    func begin(_ pending: PendingCode) -> Bool {
        codes.insert(pending, for: pending.authorization.state, lifetime: Self.codeLifetime)
    }

    /// The authorization `state` belongs to, once: a second callback with it finds nothing.
    func take(state: String) -> PendingCode? {
        codes.remove(state)
    }

    /// Runs a device flow's polling in the background until it ends (the provider's `expires_in`
    /// bounds it) or the service stops.
    func poll(_ work: @escaping @Sendable () async -> Void) {
        let id = UUID()
        devices.withLock { devices in
            devices[id] = Task { [weak self] in
                await work()
                _ = self?.devices.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    /// Stops every device flow still polling (the service is shutting down).
    func cancelAll() {
        for task in devices.withLock({ Array($0.values) }) { task.cancel() }
    }
}
