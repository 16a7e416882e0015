import Crypto
public import Foundation
public import SigilCore
import SigilModel
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open vault: its database (one SQLite file in WAL mode, or a PostgreSQL database that several
/// replicas share) and the keyring its master key unlocked.
///
/// Every change is one write transaction (serialized across processes) that also appends to the
/// audit chain, so readers in this and other processes see all of a change or none of it. Several
/// processes may open one vault at once; a key added by another process is loaded when a blob first
/// names it.
public final class Vault: Sendable {
    /// Where the vault is: a file's path, or a `postgres://` URL without its password.
    public let path: String
    public let keyring: Keyring
    /// Who the audit log names for this handle's changes.
    public let actor: String
    let store: any SQLStore
    let clock: @Sendable () -> Date
    /// The catalog as last read, for the engine's per-request reads (see ``catalog()``).
    let catalogCache: CatalogCache
    /// The key of the catalog's MACs, derived from the audit key on first use.
    let catalogKeyCache = Mutex<HMAC<SHA256>?>(nil)
    /// The rotation lease this handle's rotation steps are taken under (``fenced(by:)``).
    let rotationLease: RotationLease?
    /// How this handle reads the catalog for a request (``CatalogLoading``).
    public let catalogLoading: CatalogLoading

    /// How a handle reads the catalog for the signing engine's requests.
    public enum CatalogLoading: Sendable {
        /// The whole catalog, read once and kept until it changes: for a process that makes many
        /// requests (the service, a library user).
        case whole
        /// Only what each request needs (``CatalogScope``), through indexes, each row and its
        /// bucket checked: for a process that makes one request (`sigil sign`), whose time the
        /// whole catalog would dominate.
        case perRequest
    }

    private init(
        store: any SQLStore, keyring: Keyring, actor: String, clock: @escaping @Sendable () -> Date,
        catalogCache: CatalogCache? = nil, rotationLease: RotationLease? = nil, catalogLoading: CatalogLoading = .whole
    ) {
        self.rotationLease = rotationLease
        self.catalogLoading = catalogLoading
        self.path = store.location
        self.store = store
        self.keyring = keyring
        self.actor = actor
        self.clock = clock
        self.catalogCache = catalogCache ?? CatalogCache(store: store)
    }

    /// A handle on the same open vault (database, keys, kept catalog) whose changes the audit log
    /// records as `actor`'s: the service makes one per caller who changes something.
    public func acting(as actor: String) -> Vault {
        Vault(
            store: store, keyring: keyring, actor: actor, clock: clock, catalogCache: catalogCache,
            rotationLease: rotationLease, catalogLoading: catalogLoading)
    }

    /// A handle on the same open vault that reads the catalog for requests as `loading` says.
    public func loadingCatalog(_ loading: CatalogLoading) -> Vault {
        Vault(
            store: store, keyring: keyring, actor: actor, clock: clock, catalogCache: catalogCache,
            rotationLease: rotationLease, catalogLoading: loading)
    }

    /// A handle on the same open vault whose rotation steps of `lease.owner` are taken only while
    /// `lease` is the newest one granted (checked in each step's transaction): a holder whose lease
    /// lapsed and was granted to another cannot take a step.
    public func fenced(by lease: RotationLease) -> Vault {
        Vault(
            store: store, keyring: keyring, actor: actor, clock: clock, catalogCache: catalogCache,
            rotationLease: lease, catalogLoading: catalogLoading)
    }

    // MARK: Creating and opening

    /// Creates a new vault at `path`, protected by `key`: a file (which must not exist, created
    /// with mode 0600), or a `postgres://` URL naming a database that holds no vault yet. A
    /// passphrase is stretched with Argon2id under fresh `kdfParameters`.
    public static func create(
        at path: String, key: MasterKeySource, kdfParameters: KDFParameters = .generate(),
        actor: String, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws -> Vault {
        let location = try VaultLocation(path)
        let store = try location.create()
        do {
            let vaultID = VaultID.random()
            let masterKey = try resolve(key, kdf: key.usesPassphrase ? kdfParameters : nil, path: store.location)
            let vault = Vault(
                store: store, keyring: Keyring(vaultID: vaultID, masterKey: masterKey), actor: actor, clock: clock)
            try Schema.migrate(store)
            try store.write { db in
                let now = vault.timestamp()
                var meta = [
                    "vault_id": vaultID.hex, "created_at": now,
                    "master_key_kind": key.usesPassphrase ? "passphrase" : "key",
                ]
                if key.usesPassphrase { meta["kdf"] = try kdfParameters.json() }
                for (name, value) in meta.sorted(by: { $0.key < $1.key }) {
                    try db.execute(sql: "INSERT INTO vault_meta (key, value) VALUES (?, ?)", arguments: [name, value])
                }
                _ = try vault.insertWrappedKey(purpose: "data", db)
                _ = try vault.insertWrappedKey(purpose: "audit", db)
                try vault.authenticateWholeCatalog(db)
                try vault.audit(
                    "vault.create", target: "vault \(vaultID.hex)",
                    detail: ["schemaVersion": "\(Schema.latestVersion)"], db)
            }
            return vault
        } catch {
            // Leave nothing half-made behind.
            location.removeHalfMade(store)
            throw error
        }
    }

    /// Opens the vault at `path` (a file, or a `postgres://` URL), upgrading its schema when it is
    /// older than this build's.
    ///
    /// Fails, changing nothing, when it is not a vault, was written by a newer Sigil, or `key` does
    /// not open it.
    public static func open(
        at path: String, key: MasterKeySource, actor: String, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws -> Vault {
        let store = try VaultLocation(path).open()
        let location = store.location
        // Check the database and the key before the schema is touched: a wrong key changes nothing.
        let (vaultID, meta, wrapped, migrations) = try store.read { db in
            guard try db.tableExists("vault_meta"), try db.tableExists(store.migrationsTable) else {
                throw SigilError(.notAVault, "\(location) is a database but not a Sigil vault")
            }
            let migrations = try Schema.checkNotNewer(db, store: store)
            let meta = try Dictionary(
                uniqueKeysWithValues: db.rows(sql: "SELECT key, value FROM vault_meta").map {
                    (($0["key"] as String), ($0["value"] as String))
                })
            guard let hex = meta["vault_id"] else {
                throw SigilError(.notAVault, "\(location) has no vault id; it is not a Sigil vault")
            }
            return (try VaultID(hex: hex), meta, try WrappedKeyRow.fetchAll(db), migrations)
        }
        let usesPassphrase = meta["master_key_kind"] == "passphrase"
        if key.usesPassphrase != usesPassphrase {
            throw SigilError(
                .wrongMasterKey,
                usesPassphrase
                    ? "vault \(location) is protected by a passphrase; give it with SIGIL_PASSPHRASE or --passphrase-stdin"
                    : "vault \(location) is protected by a key (a key file or SIGIL_MASTER_KEY), not a passphrase"
            )
        }
        let kdf = try meta["kdf"].map { try KDFParameters(json: $0) }
        let keyring = Keyring(vaultID: vaultID, masterKey: try resolve(key, kdf: kdf, path: location))
        for row in wrapped {
            do {
                try row.install(into: keyring)
            } catch let error as SigilError where error.code == .wrongMasterKey {
                throw SigilError(
                    .wrongMasterKey,
                    "the master key does not open vault \(location): it is the wrong key, or the vault's keys were tampered with"
                )
            }
        }
        let vault = Vault(store: store, keyring: keyring, actor: actor, clock: clock)
        if let audit = wrapped.first(where: { $0.purpose == "audit" && $0.state == "active" }) {
            try vault.keepCatalogKey(auditKeyID: audit.id)
        }
        // A vault made before the catalog was authenticated gets its MACs with the migration that
        // adds them, in the same transaction: the catalog as it stands at the upgrade is trusted.
        try Schema.migrate(
            store, recorded: migrations,
            completions: [
                "004_catalog_macs": { db in
                    try vault.authenticateWholeCatalog(db)
                    try vault.audit(
                        "catalog.authenticate", target: "vault \(vaultID.hex)",
                        detail: ["reason": "upgrade to schema version 4"], db)
                },
                // The service's tables start empty; their row-set MACs say so.
                "005_service": { db in try vault.storeLegacyRowSetMACs(AuthenticatedTable.service, db) },
                // No rotation or policy yet: the empty tables' row-set MACs say so.
                "006_rotations": { db in try vault.storeLegacyRowSetMACs(AuthenticatedTable.rotationTables, db) },
                // Row sets checked a bucket at a time; a table whose old MAC fails goes on failing.
                "008_catalog_buckets": { db in try vault.convertRowSetMACsToBuckets(db) },
            ])
        return vault
    }

    /// A handle on the same database with another keyring (after a master-key rotation).
    func replacingKeyring(_ keyring: Keyring) -> Vault {
        Vault(store: store, keyring: keyring, actor: actor, clock: clock)
    }

    private static func resolve(_ source: MasterKeySource, kdf: KDFParameters?, path: String) throws(SigilError)
        -> MasterKey
    {
        switch source {
        case .keyFile(let keyPath):
            return try MasterKey.read(keyFile: keyPath)
        case .key(let key):
            return key
        case .passphrase(let passphrase):
            guard let kdf else {
                throw SigilError(
                    .notAVault, "vault \(path) is marked as passphrase-protected but has no key-derivation parameters")
            }
            return try MasterKey.derive(passphrase: passphrase, parameters: kdf)
        }
    }

    // MARK: Transactions

    /// Runs `body` in one write transaction; with `rollback`, undoes it afterwards (dry runs).
    ///
    /// With `catalog` (the default), the transaction may change the catalog: the tables whose row
    /// sets authenticate at its start get their row-set MACs recomputed at its end (`body`
    /// authenticates each row it writes). Key operations and issued-credential bookkeeping, which
    /// change no catalog table, pass `false` and skip that work.
    func write<T>(rollback: Bool = false, catalog: Bool = true, _ body: (any SQLConnection) throws -> T) throws -> T {
        defer { catalogCache.invalidate() }
        return try store.write(rollback: rollback) { db in
            let authentic = catalog ? try authenticRowSets(db) : [:]
            let result = try body(db)
            if catalog && !rollback { try storeRowSetMACs(authentic, db) }
            return result
        }
    }

    /// Runs `body` on a consistent snapshot.
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try store.read(body)
    }

    func timestamp() -> String {
        clock().formatted(.iso8601)
    }
}

extension KDFParameters {
    func json() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    init(json: String) throws {
        do {
            self = try JSONDecoder().decode(KDFParameters.self, from: Data(json.utf8))
        } catch {
            throw SigilError(.notAVault, "the vault's key-derivation parameters are unreadable")
        }
    }
}
