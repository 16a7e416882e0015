import Foundation
import GRDB
import SigilModel
import Synchronization

/// The vault's catalog as last read, so that the signing engine does not read and decode every
/// table on every request.
///
/// A change made through the same ``Vault`` handle marks the copy stale at once. A change by
/// another handle or process is noticed by SQLite's `data_version` on a connection kept for that
/// purpose (it changes when any other connection commits); the copy is checked against it at most
/// every ``revalidation``, so such a change is seen within that time.
///
/// The users' live authorizations of per-user principals are read with it. A catalog read again and
/// found equal to the kept one, authorizations included (most writes are tokens, secrets and audit
/// entries), keeps the same ``CatalogSnapshot`` object, so what readers worked out from it stays
/// valid.
final class CatalogCache: Sendable {
    static let revalidation: Duration = .milliseconds(100)

    private struct Entry {
        var snapshot: CatalogSnapshot
        /// The secrets table's row-set MAC, read with the snapshot.
        var secretsVersion: [UInt8]
        var dataVersion: Int64
        var checkedAt: ContinuousClock.Instant
        /// A write through this handle happened since the read: read again before use.
        var stale: Bool
    }

    private let entry = Mutex<Entry?>(nil)
    private let probe: Mutex<DatabaseQueue?>
    private let path: String

    init(path: String) {
        self.path = path
        self.probe = Mutex(nil)
    }

    func invalidate() {
        entry.withLock { $0?.stale = true }
    }

    /// The kept snapshot, the same object until the catalog changes, with the secrets' version;
    /// `read` reads both anew.
    func value(_ read: () throws -> (CatalogSnapshot, [UInt8])) throws -> (CatalogSnapshot, [UInt8]) {
        let now = ContinuousClock.now
        if let recent = entry.withLock({ entry in
            entry.flatMap {
                !$0.stale && now - $0.checkedAt < Self.revalidation ? ($0.snapshot, $0.secretsVersion) : nil
            }
        }) {
            return recent
        }
        let version = try dataVersion()
        let kept = entry.withLock { entry -> (CatalogSnapshot, [UInt8])? in
            guard let current = entry, !current.stale, current.dataVersion == version else { return nil }
            entry?.checkedAt = now
            return (current.snapshot, current.secretsVersion)
        }
        if let kept { return kept }
        // Read after taking the version: a commit in between makes the next check read again.
        let (read, secrets) = try read()
        return entry.withLock { entry in
            let snapshot = entry.flatMap { $0.snapshot.sameContent(as: read) ? $0.snapshot : nil } ?? read
            entry = Entry(
                snapshot: snapshot, secretsVersion: secrets, dataVersion: version, checkedAt: now, stale: false)
            return (snapshot, secrets)
        }
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
