import SigilCore
import Synchronization

/// Secrets read once and kept for later requests: unsealed values (`SecretBytes`: locked, wiped
/// when released), used only under the source's secrets version they were read under and for less
/// than the engine's ``SigningEngine/preparedSecretLifetime``. A principal's binding keeps its
/// secrets in one; a route keeps its client identity's key in another.
final class KeptSecrets<Value: Sendable>: Sendable {
    private struct Entry {
        let version: [UInt8]
        let readAt: ContinuousClock.Instant
        let value: Value
    }

    private let entry = Mutex<Entry?>(nil)

    /// The kept value, when it was read under `version` less than `lifetime` before `now`; a stale
    /// or expired value is released (and wiped) here.
    func value(version: [UInt8], now: ContinuousClock.Instant, lifetime: Duration) -> Value? {
        entry.withLock { entry in
            guard let kept = entry else { return nil }
            guard kept.version == version, now - kept.readAt < lifetime else {
                entry = nil
                return nil
            }
            return kept.value
        }
    }

    func keep(_ value: Value, version: [UInt8], readAt: ContinuousClock.Instant) {
        entry.withLock { $0 = Entry(version: version, readAt: readAt, value: value) }
    }

    func drop() {
        entry.withLock { $0 = nil }
    }

    /// The kept value, or `read()`'s, kept when the request carries a secrets version and the engine
    /// keeps secrets at all (``CredentialContext/keepsSecrets``).
    func value(for context: CredentialContext, read: () throws -> Value) rethrows -> Value {
        guard context.keepsSecrets, let version = context.secretsVersion else { return try read() }
        let now = ContinuousClock.now
        if let kept = value(version: version, now: now, lifetime: context.preparedLifetime) { return kept }
        let value = try read()
        keep(value, version: version, readAt: now)
        return value
    }
}
