import Foundation
import SigilModel
import Synchronization

/// The vault's catalog as last read, so that the signing engine does not read and decode every
/// table on every request.
///
/// A change made through the same ``Vault`` handle marks the copy stale at once. A change by
/// another handle or process is noticed by the store's change counter (SQLite's `data_version` on a
/// connection kept for that purpose, PostgreSQL's notifications), which moves when any other
/// connection commits; the copy is checked against it at most every ``revalidation``, so such a
/// change is seen within that time (on PostgreSQL, plus the notification's delivery).
///
/// The users' live authorizations of per-user principals are read with it. A moved counter first
/// compares the catalog's version (a digest of its row-set MACs, which every change of the catalog
/// changes); most commits are tokens, secrets and audit entries, which leave it as it is, and then
/// the kept ``CatalogSnapshot`` object stays, so what readers worked out from it stays valid.
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
    /// Held while the whole catalog is read.
    private let reading = Mutex<Void>(())
    private let store: any SQLStore

    init(store: any SQLStore) {
        self.store = store
    }

    func invalidate() {
        entry.withLock { $0?.stale = true }
    }

    /// The kept snapshot, the same object until the catalog changes, with the secrets' version.
    ///
    /// When the store's change counter moved (any commit: audit entries, tokens, secrets) or this
    /// handle wrote, `versions` reads the catalog's and the secrets' versions (digests of the
    /// row-set MACs, one small read); only a changed catalog version makes `read` read the catalog
    /// anew. So a service whose own audit entries and tokens commit many times a second never
    /// re-reads an unchanged catalog.
    func value(
        versions: () throws -> (catalog: [UInt8], secrets: [UInt8]),
        read: () throws -> (CatalogSnapshot, [UInt8])
    ) throws -> (CatalogSnapshot, [UInt8]) {
        let now = ContinuousClock.now
        if let recent = entry.withLock({ entry in
            entry.flatMap {
                !$0.stale && now - $0.checkedAt < Self.revalidation ? ($0.snapshot, $0.secretsVersion) : nil
            }
        }) {
            return recent
        }
        let counter = try store.changeCounter()
        let kept = entry.withLock { entry -> (CatalogSnapshot, [UInt8])? in
            guard let current = entry, !current.stale, current.dataVersion == counter else { return nil }
            entry?.checkedAt = now
            return (current.snapshot, current.secretsVersion)
        }
        if let kept { return kept }
        // Versions and catalog are read after taking the counter: a commit in between makes the
        // next check look again.
        if entry.withLock({ $0 != nil }) {
            let (catalog, secrets) = try versions()
            let unchanged = entry.withLock { entry -> CatalogSnapshot? in
                guard let current = entry, current.snapshot.version == catalog else { return nil }
                entry = Entry(
                    snapshot: current.snapshot, secretsVersion: secrets, dataVersion: counter, checkedAt: now,
                    stale: false)
                return current.snapshot
            }
            if let unchanged { return (unchanged, secrets) }
        }
        // One whole read at a time: callers that arrive while one is under way wait for it and
        // take its result when it read at least as late as they looked (a large catalog costs
        // seconds and tens of megabytes per read; several at once only multiply both).
        return try reading.withLock { _ in
            if let fresh = entry.withLock({ entry -> (CatalogSnapshot, [UInt8])? in
                guard let current = entry, !current.stale, current.dataVersion == counter else { return nil }
                return (current.snapshot, current.secretsVersion)
            }) {
                return fresh
            }
            let (read, secrets) = try read()
            return entry.withLock { entry in
                let snapshot = entry.flatMap { $0.snapshot.sameContent(as: read) ? $0.snapshot : nil } ?? read
                entry = Entry(
                    snapshot: snapshot, secretsVersion: secrets, dataVersion: counter, checkedAt: now, stale: false)
                return (snapshot, secrets)
            }
        }
    }
}
