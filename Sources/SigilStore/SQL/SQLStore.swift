/// The vault's database: one interface, one implementation per engine (``SQLiteStore`` for a file,
/// ``PostgresStore`` for a `postgres://` URL), chosen by ``VaultLocation``. Everything above it
/// (the vault's tables, sealing, audit, leases) is written once against ``SQLConnection``.
package protocol SQLStore: Sendable {
    /// The database in messages: a file's path, or a URL without its password.
    var location: String { get }
    /// The table that records the applied migrations.
    var migrationsTable: String { get }
    /// What this engine spells differently (the same as its connections').
    var dialect: SQLDialect { get }
    /// The migrations of this engine, oldest first.
    var migrations: [(identifier: String, sql: String)] { get }
    /// Runs `body` in one write transaction; write transactions of every process are serialized,
    /// as SQLite's are. With `rollback`, undoes it afterwards (dry runs).
    func write<T>(rollback: Bool, _ body: (any SQLConnection) throws -> T) throws -> T
    /// Runs `body` on a consistent snapshot.
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// A number that changes whenever any connection, in any process, commits a change: the catalog
    /// cache reads the catalog again when it moves.
    func changeCounter() throws -> Int64
    /// Whether the database answers now (the service's readiness check).
    func ping() throws
    /// After rows were inserted into `table` with their ids (a vault copy): new rows get ids above
    /// every id it holds.
    func continueIdentity(of table: String, _ db: any SQLConnection) throws
    /// After a bulk load (a vault copy): the planner's statistics brought up to date, so that the
    /// first commands do not plan on guesses (best effort).
    func refreshStatistics()
}

extension SQLStore {
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try write(rollback: false, body)
    }
}
