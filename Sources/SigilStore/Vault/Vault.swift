import Crypto
public import Foundation
import GRDB
public import SigilCore
import SigilModel
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open vault: one SQLite file in WAL mode, and the keyring its master key unlocked.
///
/// Every change is one write transaction (`BEGIN IMMEDIATE`) that also appends to the audit chain,
/// so readers in this and other processes see all of a change or none of it. Several processes may
/// open one vault at once; a key added by another process is loaded when a blob first names it.
public final class Vault: Sendable {
    public let path: String
    public let keyring: Keyring
    /// Who the audit log names for this handle's changes.
    public let actor: String
    let database: DatabasePool
    let clock: @Sendable () -> Date
    /// The catalog as last read, for the engine's per-request reads (see ``catalog()``).
    let catalogCache: CatalogCache
    /// The key of the catalog's MACs, derived from the audit key on first use.
    let catalogKeyCache = Mutex<HMAC<SHA256>?>(nil)
    /// The rotation lease this handle's rotation steps are taken under (``fenced(by:)``).
    let rotationLease: RotationLease?

    private init(
        path: String, database: DatabasePool, keyring: Keyring, actor: String, clock: @escaping @Sendable () -> Date,
        catalogCache: CatalogCache? = nil, rotationLease: RotationLease? = nil
    ) {
        self.rotationLease = rotationLease
        self.path = path
        self.database = database
        self.keyring = keyring
        self.actor = actor
        self.clock = clock
        self.catalogCache = catalogCache ?? CatalogCache(path: path)
    }

    /// A handle on the same open vault (database, keys, kept catalog) whose changes the audit log
    /// records as `actor`'s: the service makes one per caller who changes something.
    public func acting(as actor: String) -> Vault {
        Vault(
            path: path, database: database, keyring: keyring, actor: actor, clock: clock, catalogCache: catalogCache,
            rotationLease: rotationLease)
    }

    /// A handle on the same open vault whose rotation steps of `lease.owner` are taken only while
    /// `lease` is the newest one granted (checked in each step's transaction): a holder whose lease
    /// lapsed and was granted to another cannot take a step.
    public func fenced(by lease: RotationLease) -> Vault {
        Vault(
            path: path, database: database, keyring: keyring, actor: actor, clock: clock, catalogCache: catalogCache,
            rotationLease: lease)
    }

    // MARK: Creating and opening

    /// Creates a new vault at `path` (which must not exist), protected by `key`. The file is
    /// created with mode 0600. A passphrase is stretched with Argon2id under fresh `kdfParameters`.
    public static func create(
        at path: String, key: MasterKeySource, kdfParameters: KDFParameters = .generate(),
        actor: String, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws -> Vault {
        try createEmptyFile(path)
        do {
            let database = try openDatabase(path)
            let vaultID = VaultID.random()
            let masterKey = try resolve(key, kdf: key.usesPassphrase ? kdfParameters : nil, path: path)
            let vault = Vault(
                path: path, database: database, keyring: Keyring(vaultID: vaultID, masterKey: masterKey), actor: actor,
                clock: clock)
            try Schema.migrator().migrate(database)
            try database.write { db in
                let now = vault.timestamp()
                var meta = [
                    "vault_id": vaultID.hex, "created_at": now,
                    "master_key_kind": key.usesPassphrase ? "passphrase" : "key",
                ]
                if key.usesPassphrase { meta["kdf"] = try kdfParameters.json() }
                for (name, value) in meta {
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
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            throw error
        }
    }

    /// Opens the vault at `path`, upgrading its schema when it is older than this build's.
    ///
    /// Fails, changing nothing, when the file is not a vault, was written by a newer Sigil, or
    /// `key` does not open it.
    public static func open(
        at path: String, key: MasterKeySource, actor: String, clock: @escaping @Sendable () -> Date = { Date() }
    ) throws -> Vault {
        do {
            return try openChecked(at: path, key: key, actor: actor, clock: clock)
        } catch let error as DatabaseError {
            throw storageError(error, path: path)
        }
    }

    private static func openChecked(
        at path: String, key: MasterKeySource, actor: String, clock: @escaping @Sendable () -> Date
    ) throws -> Vault {
        guard access(path, F_OK) == 0 else {
            throw SigilError(.notAVault, "no vault at \(path); create one with `sigil init`")
        }
        let database = try openDatabase(path)
        // Check the file and the key before the schema is touched: a wrong key changes nothing.
        let (vaultID, meta, wrapped) = try database.read { db in
            guard try db.tableExists("vault_meta"), try db.tableExists("grdb_migrations") else {
                throw SigilError(.notAVault, "\(path) is an SQLite database but not a Sigil vault")
            }
            try Schema.checkNotNewer(db, path: path)
            let meta = try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT key, value FROM vault_meta").map {
                    (($0["key"] as String), ($0["value"] as String))
                })
            guard let hex = meta["vault_id"] else {
                throw SigilError(.notAVault, "\(path) has no vault id; it is not a Sigil vault")
            }
            return (try VaultID(hex: hex), meta, try WrappedKeyRow.fetchAll(db))
        }
        let usesPassphrase = meta["master_key_kind"] == "passphrase"
        if key.usesPassphrase != usesPassphrase {
            throw SigilError(
                .wrongMasterKey,
                usesPassphrase
                    ? "vault \(path) is protected by a passphrase; give it with SIGIL_PASSPHRASE or --passphrase-stdin"
                    : "vault \(path) is protected by a key (a key file or SIGIL_MASTER_KEY), not a passphrase"
            )
        }
        let kdf = try meta["kdf"].map { try KDFParameters(json: $0) }
        let keyring = Keyring(vaultID: vaultID, masterKey: try resolve(key, kdf: kdf, path: path))
        for row in wrapped {
            do {
                try row.install(into: keyring)
            } catch let error as SigilError where error.code == .wrongMasterKey {
                throw SigilError(
                    .wrongMasterKey,
                    "the master key does not open vault \(path): it is the wrong key, or the vault's keys were tampered with"
                )
            }
        }
        let vault = Vault(path: path, database: database, keyring: keyring, actor: actor, clock: clock)
        // A vault made before the catalog was authenticated gets its MACs with the migration that
        // adds them, in the same transaction: the catalog as it stands at the upgrade is trusted.
        try Schema.migrator(completions: [
            "004_catalog_macs": { db in
                try vault.authenticateWholeCatalog(db)
                try vault.audit(
                    "catalog.authenticate", target: "vault \(vaultID.hex)",
                    detail: ["reason": "upgrade to schema version 4"], db)
            },
            // The service's tables start empty; their row-set MACs say so.
            "005_service": { db in try vault.storeRowSetMACs(AuthenticatedTable.service, db) },
            // No rotation or policy yet: the empty tables' row-set MACs say so.
            "006_rotations": { db in try vault.storeRowSetMACs(AuthenticatedTable.rotationTables, db) },
        ]).migrate(database)
        return vault
    }

    /// A handle on the same database with another keyring (after a master-key rotation).
    func replacingKeyring(_ keyring: Keyring) -> Vault {
        Vault(path: path, database: database, keyring: keyring, actor: actor, clock: clock)
    }

    private static func openDatabase(_ path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.label = "sigil-vault"
        // Wait for another process's write instead of failing at once.
        configuration.busyMode = .timeout(15)
        // Sealed blobs must never reach logs or error messages.
        configuration.publicStatementArguments = false
        configuration.prepareDatabase { db in
            // Overwrite deleted content (old secret versions, retired keys) instead of leaving it in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // A committed change survives a power loss.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            return try DatabasePool(path: path, configuration: configuration)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw SigilError(.notAVault, "\(path) is not a Sigil vault (not an SQLite database)")
        }
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
    func write<T>(rollback: Bool = false, catalog: Bool = true, _ body: (Database) throws -> T) throws -> T {
        defer { catalogCache.invalidate() }
        return try mapStorageErrors {
            try database.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    let authentic = catalog ? try tablesWithAuthenticRowSets(db) : []
                    result = try body(db)
                    if catalog && !rollback { try storeRowSetMACs(authentic, db) }
                    return rollback ? .rollback : .commit
                }
                return result!
            }
        }
    }

    /// Runs `body` on a consistent snapshot.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try mapStorageErrors { try database.read(body) }
    }

    private func mapStorageErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw Self.storageError(error, path: path)
        }
    }

    /// An SQLite failure as an error that names the vault and says what to do. The message names
    /// the SQLite error, never statement arguments (they are not public).
    static func storageError(_ error: DatabaseError, path: String) -> SigilError {
        let sqlite = "SQLite: \(error.message ?? "error \(error.resultCode.rawValue)")"
        let meaning: String? =
            switch error.resultCode.primaryResultCode {
            case .SQLITE_CORRUPT: "the file is damaged; restore it from a backup"
            case .SQLITE_NOTADB: "it is not an SQLite database"
            case .SQLITE_CANTOPEN: "the file or its folder cannot be opened (permissions, or a missing folder)"
            case .SQLITE_READONLY, .SQLITE_PERM: "the file or its folder is not writable by this user"
            case .SQLITE_BUSY, .SQLITE_LOCKED: "another process kept it locked for more than 15 seconds"
            case .SQLITE_FULL: "the disk is full"
            case .SQLITE_IOERR: "reading or writing the file failed (the disk, or a network file system)"
            default: nil
            }
        return SigilError(.storage, "vault \(path): " + (meaning.map { "\($0) (\(sqlite))" } ?? sqlite))
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

/// Creates an empty file with mode 0600, failing if anything exists at `path`: the vault file is
/// private from its first byte (SQLite gives its -wal and -shm files the same mode).
private func createEmptyFile(_ path: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
        if errno == EEXIST {
            throw SigilError(.vaultExists, "a file already exists at \(path); Sigil will not overwrite it")
        }
        throw SigilError(.storage, "cannot create vault \(path): \(String(cString: strerror(errno)))")
    }
    close(descriptor)
}
