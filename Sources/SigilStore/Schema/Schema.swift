public import SigilCore

/// The vault's schema: the migrations of `schema/ENGINE/` applied in order at open, each in its
/// own write transaction, and recorded by identifier in the store's migrations table. Both engines
/// hold the same numbered migrations, so a version means the same tables on both.
public enum Schema {
    /// `(identifier, sql)` of every migration of `engine` (`sqlite` or `postgres`), oldest first,
    /// as compiled in.
    public static func migrations(engine: String) -> [(identifier: String, sql: String)] {
        (engine == "postgres" ? EmbeddedSchema.postgres : EmbeddedSchema.sqlite).map { ($0.identifier, $0.sql) }
    }

    /// The version this build writes: the number of the last migration.
    public static var latestVersion: Int { EmbeddedSchema.sqlite.count }

    /// Work that needs the vault's keys, run after the SQL of the migration it is keyed by, in its
    /// transaction (computing the catalog's MACs when `004_catalog_macs` adds them).
    typealias Completions = [String: (any SQLConnection) throws -> Void]

    /// Applies the migrations `store` has not recorded, oldest first. Each runs in a write
    /// transaction that checks again that it is not recorded, so two processes opening an old vault
    /// at once apply it once.
    /// A vault whose migrations are all recorded (every open but the first after an upgrade) is
    /// checked by one read (none when the caller read them already, as `recorded`): no write
    /// transaction, no lock, no notification to other replicas.
    static func migrate(_ store: any SQLStore, recorded: Set<String>? = nil, completions: Completions = [:]) throws {
        let table = store.migrationsTable
        let recorded =
            try recorded
            ?? store.read { db in
                try db.tableExists(table) ? Set(try db.values(String.self, sql: "SELECT identifier FROM \(table)")) : []
            }
        for migration in store.migrations where !recorded.contains(migration.identifier) {
            try store.write { db in
                try db.executeScript("CREATE TABLE IF NOT EXISTS \(table) (identifier TEXT NOT NULL PRIMARY KEY)")
                guard
                    try db.value(
                        String.self, sql: "SELECT identifier FROM \(table) WHERE identifier = ?",
                        arguments: [migration.identifier]) == nil
                else { return }
                try db.executeScript(migration.sql)
                try completions[migration.identifier]?(db)
                try db.execute(sql: "INSERT INTO \(table) (identifier) VALUES (?)", arguments: [migration.identifier])
            }
        }
    }

    /// The version recorded in `db`: the highest migration number applied, 0 for none.
    static func version(of db: any SQLConnection, table: String) throws -> Int {
        guard try db.tableExists(table) else { return 0 }
        let identifiers = try db.values(String.self, sql: "SELECT identifier FROM \(table)")
        return identifiers.compactMap { Int($0.prefix(3)) }.max() ?? 0
    }

    /// Throws when `db` was written by a newer Sigil: it records migrations this build lacks.
    /// Returns the recorded migrations.
    @discardableResult
    static func checkNotNewer(_ db: any SQLConnection, store: any SQLStore) throws -> Set<String> {
        let known = Set(store.migrations.map(\.identifier))
        let recorded = Set(try db.values(String.self, sql: "SELECT identifier FROM \(store.migrationsTable)"))
        if recorded.contains(where: { !known.contains($0) }) {
            throw SigilError(
                .newerSchema,
                "vault \(store.location) has schema version \(try version(of: db, table: store.migrationsTable)); this sigil understands up to version \(latestVersion). Upgrade sigil to open it."
            )
        }
        return recorded
    }
}

extension SigilError.Code {
    /// The vault was written by a newer version of Sigil.
    public static let newerSchema = Self("newer-schema")
    /// The file is not a Sigil vault, or does not exist.
    public static let notAVault = Self("not-a-vault")
    /// A vault already exists where one was to be created.
    public static let vaultExists = Self("vault-exists")
    /// The database reported an error (locked, disk full, corrupt).
    public static let storage = Self("storage")
}

extension Vault {
    /// The schema version the vault's database records now (the service's readiness check).
    public func schemaVersion() throws -> Int {
        try read { db in try Schema.version(of: db, table: store.migrationsTable) }
    }
}
