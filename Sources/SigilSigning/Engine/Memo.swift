import Synchronization

/// A small thread-safe memo of values that are costly to compute and never change for their key:
/// parsed merge-field templates (JWT claims), parsed signing keys. Only successful results are
/// kept; past `limit` entries it starts over, which bounds its memory whatever the catalog does.
final class Memo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    private let limit: Int

    init(limit: Int = 1024) {
        self.limit = limit
    }

    func value<Failure: Error>(for key: Key, compute: () throws(Failure) -> Value) throws(Failure) -> Value {
        if let cached = entries.withLock({ $0[key] }) { return cached }
        let value = try compute()
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll() }
            entries[key] = value
        }
        return value
    }
}
