import Foundation
import GRDB
import SigilCore
import Synchronization

/// The vault in one SQLite file in WAL mode (GRDB's `DatabasePool`): readers in this and other
/// processes see all of a change or none of it; `BEGIN IMMEDIATE` serializes writers.
final class SQLiteStore: SQLStore {
    let path: String
    let pool: DatabasePool
    /// A read-only connection kept for `PRAGMA data_version` (opened on first use).
    private let probe = Mutex<DatabaseQueue?>(nil)

    var location: String { path }
    var migrationsTable: String { "grdb_migrations" }
    var dialect: SQLDialect { SQLiteConnection.dialect }
    var migrations: [(identifier: String, sql: String)] { EmbeddedSchema.sqlite.map { ($0.identifier, $0.sql) } }

    init(path: String) throws {
        self.path = path
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
            // LIKE compares case as PostgreSQL's does (names are case-sensitive).
            try db.execute(sql: "PRAGMA case_sensitive_like = ON")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw SigilError(.notAVault, "\(path) is not a Sigil vault (not an SQLite database)")
        } catch let error as DatabaseError {
            throw Self.storageError(error, path: path)
        }
    }

    func write<T>(rollback: Bool, _ body: (any SQLConnection) throws -> T) throws -> T {
        try mapErrors {
            try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(SQLiteConnection(db))
                    return rollback ? .rollback : .commit
                }
                return result!
            }
        }
    }

    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try mapErrors { try pool.read { db in try body(SQLiteConnection(db)) } }
    }

    func changeCounter() throws -> Int64 {
        try mapErrors {
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

    func ping() throws {
        _ = try read { db in try db.value(Int64.self, sql: "SELECT 1") }
    }

    /// SQLite's AUTOINCREMENT already continues above the largest id inserted.
    func continueIdentity(of table: String, _ db: any SQLConnection) throws {}

    /// SQLite plans Sigil's queries from its indexes alone; nothing to refresh.
    func refreshStatistics() {}

    private func mapErrors<T>(_ body: () throws -> T) throws -> T {
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
            case .SQLITE_CONSTRAINT: "a change broke one of its rules"
            default: nil
            }
        return SigilError(.storage, "vault \(path): " + (meaning.map { "\($0) (\(sqlite))" } ?? sqlite))
    }
}

/// A GRDB connection inside one of ``SQLiteStore``'s transactions. Every statement goes through
/// the connection's statement cache: preparing one costs more than running it, and `apply` runs
/// the same few statements once per item (20,000 users are 200,000 statements).
final class SQLiteConnection: SQLConnection {
    private let db: Database

    init(_ db: Database) { self.db = db }

    static let dialect = SQLDialect(
        jsonText: { column, key in "json_extract(\(column), '$.\(key)')" }, packedRows: nil)
    var dialect: SQLDialect { Self.dialect }

    func execute(sql: String, arguments: SQLArguments) throws {
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
    }

    func rows(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        let columns = statement.columnNames
        return try Row.fetchAll(statement, arguments: StatementArguments(arguments)).map { row in
            SQLRow(columns: columns, values: (0..<columns.count).map { SQLValue(row[$0] as DatabaseValue) })
        }
    }

    func executeScript(_ sql: String) throws {
        try db.execute(sql: sql)
    }

    var changesCount: Int { db.changesCount }

    func tableExists(_ name: String) throws -> Bool {
        try db.tableExists(name)
    }
}

extension StatementArguments {
    init(_ arguments: SQLArguments) {
        self.init(
            arguments.values.map { value -> DatabaseValue in
                switch value {
                case .null: .null
                case .integer(let number): number.databaseValue
                case .real(let number): number.databaseValue
                case .text(let text): text.databaseValue
                case .blob(let data): data.databaseValue
                }
            })
    }
}

extension SQLValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let number): self = .integer(number)
        case .double(let number): self = .real(number)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .blob(data)
        }
    }
}
