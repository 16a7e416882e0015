public import GRDB
public import SigilCore

/// The vault's schema: the migrations of `schema/` applied in order at open, and recorded (in
/// GRDB's `grdb_migrations` table).
public enum Schema {
    /// `(identifier, sql)` of every migration, oldest first, as compiled in.
    public static var migrations: [(identifier: String, sql: String)] {
        EmbeddedSchema.migrations.map { ($0.identifier, $0.sql) }
    }

    /// The version this build writes: the number of the last migration.
    public static var latestVersion: Int { EmbeddedSchema.migrations.count }

    /// A migrator over the embedded migrations. `completions` run after the SQL of the migration
    /// they are keyed by, in its transaction: work that needs the vault's keys (computing the
    /// catalog's MACs when `004_catalog_macs` adds them).
    static func migrator(completions: [String: @Sendable (Database) throws -> Void] = [:]) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in EmbeddedSchema.migrations {
            let completion = completions[migration.identifier]
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: migration.sql)
                try completion?(db)
            }
        }
        return migrator
    }

    /// The version recorded in `db`: the highest migration number applied, 0 for none.
    public static func version(of db: Database) throws -> Int {
        guard try db.tableExists("grdb_migrations") else { return 0 }
        let identifiers = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        return identifiers.compactMap { Int($0.prefix(3)) }.max() ?? 0
    }

    /// Throws when `db` was written by a newer Sigil: it names migrations this build lacks.
    static func checkNotNewer(_ db: Database, path: String) throws {
        if try migrator().hasBeenSuperseded(db) {
            throw SigilError(
                .newerSchema,
                "vault \(path) has schema version \(try version(of: db)); this sigil understands up to version \(latestVersion). Upgrade sigil to open it."
            )
        }
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
    /// The schema version the vault's file records now (the service's readiness check).
    public func schemaVersion() throws -> Int {
        try read { db in try Schema.version(of: db) }
    }
}
