import Synchronization

/// A map whose entries end after their lifetime, bounded to `capacity` entries (when full, the
/// expired ones are dropped; if it is still full, a new entry is not kept). The service's short-lived
/// memories: verified passwords, proved platform sessions, SAML requests, assertions and sessions.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let capacity: Int
    private let entries = Mutex<[Key: (value: Value, until: ContinuousClock.Instant)]>([:])

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The live value of `key`, if any.
    func value(for key: Key) -> Value? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.until > now else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    /// Keeps `value` for `lifetime`; `false` when the cache is full of live entries.
    @discardableResult
    func insert(_ value: Value, for key: Key, lifetime: Duration) -> Bool {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            if entries.count >= capacity && entries[key] == nil { entries = entries.filter { $0.value.until > now } }
            guard entries.count < capacity || entries[key] != nil else { return false }
            entries[key] = (value, now + lifetime)
            return true
        }
    }

    /// Removes `key` and returns its value when it was live.
    func remove(_ key: Key) -> Value? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries.removeValue(forKey: key), entry.until > now else { return nil }
            return entry.value
        }
    }
}
