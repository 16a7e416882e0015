import Foundation
import GRDB
import SigilModel
import Synchronization

/// The vault's catalog as last read, so that the signing engine does not read and decode every
/// table on every request.
///
/// A change made through the same ``Vault`` handle drops the copy at once. A change by another
/// handle or process is noticed by SQLite's `data_version` on a connection kept for that purpose
/// (it changes when any other connection commits); the copy is checked against it at most every
/// ``revalidation``, so such a change is seen within that time.
final class CatalogCache: Sendable {
    static let revalidation: Duration = .milliseconds(100)

    private struct Entry {
        var catalog: Catalog
        var dataVersion: Int64
        var checkedAt: ContinuousClock.Instant
    }

    private let entry = Mutex<Entry?>(nil)
    private let probe: Mutex<DatabaseQueue?>
    private let path: String

    init(path: String) {
        self.path = path
        self.probe = Mutex(nil)
    }

    func invalidate() {
        entry.withLock { $0 = nil }
    }

    func value(_ read: () throws -> Catalog) throws -> Catalog {
        let now = ContinuousClock.now
        if let cached = entry.withLock({ $0 }), now - cached.checkedAt < Self.revalidation {
            return cached.catalog
        }
        let version = try dataVersion()
        if let cached = entry.withLock({ $0 }), cached.dataVersion == version {
            entry.withLock { $0?.checkedAt = now }
            return cached.catalog
        }
        // Read after taking the version: a commit in between makes the next check read again.
        let catalog = try read()
        entry.withLock { $0 = Entry(catalog: catalog, dataVersion: version, checkedAt: now) }
        return catalog
    }

    /// `PRAGMA data_version` on the probe connection (opened on first use, read-only).
    private func dataVersion() throws -> Int64 {
        try probe.withLock { probe in
            if probe == nil {
                var configuration = Configuration()
                configuration.readonly = true
                configuration.label = "sigil-vault-version"
                configuration.busyMode = .timeout(15)
                probe = try DatabaseQueue(path: path, configuration: configuration)
            }
            return try probe!.inDatabase { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
        }
    }
}
