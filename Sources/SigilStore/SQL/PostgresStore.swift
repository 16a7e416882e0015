import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
public import SigilCore
import SigilModel
import Synchronization

/// The vault in a PostgreSQL database that several Sigil processes (replicas) share, through
/// PostgresNIO.
///
/// The store's callers are synchronous (as GRDB is); each statement waits for PostgresNIO's future
/// on a thread of its own. PostgresNIO's event loop is a thread of this store's own, never one that
/// runs the vault's callers, so the wait cannot block the loop it waits for.
///
/// - Write transactions are serialized across every replica, as SQLite serializes writers: each
///   takes one transaction-scoped advisory lock first (waiting up to 15 seconds, as SQLite's busy
///   timeout does), so the audit chain grows one entry at a time and a read-then-write never
///   races another replica. Each also sends `NOTIFY sigil_vault`, delivered after its commit.
/// - Reads run in `REPEATABLE READ READ ONLY` transactions: one consistent snapshot, as SQLite's
///   WAL readers have.
/// - The change counter (the catalog cache's `data_version`) counts the notifications a
///   listening connection receives; while that connection is down, every call returns a new value,
///   so caches read again instead of trusting a stale copy.
final class PostgresStore: SQLStore {
    let url: PostgresURL
    var location: String { url.redacted }
    var migrationsTable: String { "schema_migrations" }
    var dialect: SQLDialect { PostgresSession.dialect }
    var migrations: [(identifier: String, sql: String)] { EmbeddedSchema.postgres.map { ($0.identifier, $0.sql) } }

    /// One event-loop thread for every PostgreSQL store of the process.
    private static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// Statements and their arguments (sealed blobs) must never reach logs.
    private static let logger = Logger(label: "sigil.vault.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    /// The key of the advisory lock that serializes write transactions ("sigil" and 1).
    static let writeLockKey: Int64 = 0x7369_6769_6c00_0001
    /// Connections kept open between transactions.
    private static let idleLimit = 8

    private let idle = Mutex<[PostgresConnection]>([])
    private let nextID = Atomic<Int>(1)
    private let listener = Mutex<Listener>(Listener())
    private let notifications = NotificationCount()
    private let tlsContext: NIOSSLContext?

    private struct Listener {
        var connection: PostgresConnection?
        /// Moves on every call while no listener is connected.
        var disconnectedTicks: Int64 = 0
    }

    init(url: PostgresURL) throws {
        self.url = url
        switch url.tls {
        case .disable: tlsContext = nil
        case .require:
            do {
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.minimumTLSVersion = .tlsv12
                tlsContext = try NIOSSLContext(configuration: configuration)
            } catch {
                throw SigilError(.storage, "vault \(url.redacted): cannot set up TLS: \(error)")
            }
        }
        // Fail at open, with a clear message, when the database cannot be reached.
        let connection = try connect()
        release(connection)
    }

    deinit {
        for connection in idle.withLock({ $0 }) { close(connection) }
        if let connection = listener.withLock({ $0.connection }) { close(connection) }
    }

    // MARK: Transactions

    func write<T>(rollback: Bool, _ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction(
            begin: [
                "BEGIN ISOLATION LEVEL READ COMMITTED", "SET LOCAL lock_timeout = '15s'",
                "SELECT pg_advisory_xact_lock(\(Self.writeLockKey))",
            ],
            end: rollback ? "ROLLBACK" : "COMMIT", notify: !rollback, body)
    }

    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction(begin: ["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"], end: "COMMIT", notify: false, body)
    }

    private func transaction<T>(
        begin: [String], end: String, notify: Bool, _ body: (any SQLConnection) throws -> T
    ) throws -> T {
        var connection = try checkOut()
        let session = PostgresSession(connection: connection, store: self)
        do {
            try session.simple(begin[0])
        } catch  where connection.isClosed || Self.isConnectionLoss(error) {
            // A kept connection the server dropped (a restart): nothing ran yet; try a new one once.
            close(connection)
            connection = try connect()
            session.connection = connection
            try session.simple(begin[0])
        }
        do {
            for statement in begin.dropFirst() { try session.simple(statement) }
            let result = try body(session)
            if notify { try session.simple("NOTIFY sigil_vault") }
            try session.simple(end)
            release(connection)
            return result
        } catch {
            if !connection.isClosed, (try? session.simple("ROLLBACK")) != nil {
                release(connection)
            } else {
                close(connection)
            }
            throw error
        }
    }

    func changeCounter() throws -> Int64 {
        listener.withLock { listener in
            if let connection = listener.connection, !connection.isClosed {
                return notifications.value.load(ordering: .acquiring)
            }
            listener.connection = nil
            listener.disconnectedTicks += 1
            // A value no earlier call returned: while disconnected, nothing is known unchanged.
            let ticks = -listener.disconnectedTicks
            do {
                let connection = try connect()
                connection.addListener(channel: "sigil_vault") { [notifications] _, _ in
                    notifications.value.add(1, ordering: .releasing)
                }
                _ = try wait { connection.simpleQuery("LISTEN sigil_vault") }
                listener.connection = connection
                // Anything committed before LISTEN took effect is unseen: count it as a change.
                notifications.value.add(1, ordering: .releasing)
                return notifications.value.load(ordering: .acquiring)
            } catch {
                return ticks
            }
        }
    }

    /// The key of the advisory lock that serializes key operations ("sigil" and 2).
    static let keyOperationLockKey: Int64 = 0x7369_6769_6c00_0002

    /// Runs `body` holding the session-level advisory lock `key` on a connection of its own,
    /// waiting up to `timeout` seconds for another holder (then throwing `busy`). The server
    /// releases the lock when the connection ends, even when its process was killed.
    func withSessionLock<T>(_ key: Int64, timeout: Double, busy: SigilError, _ body: () throws -> T) throws -> T {
        let connection = try connect()
        defer { close(connection) }
        let session = PostgresSession(connection: connection, store: self)
        var waited = 0.0
        while try session.value(Int64.self, sql: "SELECT CASE WHEN pg_try_advisory_lock(\(key)) THEN 1 ELSE 0 END") != 1
        {
            guard waited < timeout else { throw busy }
            usleep(50_000)
            waited += 0.05
        }
        defer {
            _ = try? session.value(Int64.self, sql: "SELECT CASE WHEN pg_advisory_unlock(\(key)) THEN 1 ELSE 0 END")
        }
        return try body()
    }

    func ping() throws {
        _ = try read { db in try db.value(Int64.self, sql: "SELECT 1") }
    }

    /// Moves the identity sequence of `table`'s `id` past its largest id (rows copied with their ids
    /// leave it where it was). Tables whose id Sigil assigns itself have no sequence.
    func continueIdentity(of table: String, _ db: any SQLConnection) throws {
        guard
            try db.value(
                String.self, sql: "SELECT pg_get_serial_sequence(CAST(? AS TEXT), 'id')", arguments: [table]) != nil
        else { return }
        try db.execute(
            sql: "SELECT setval(pg_get_serial_sequence(CAST(? AS TEXT), 'id'), (SELECT max(id) FROM \(table)))",
            arguments: [table])
    }

    /// `ANALYZE`: a database just filled by a copy has no statistics until autovacuum's next pass,
    /// and the planner's guesses for it can be a hundred times slower (a per-request read took
    /// 200 ms instead of 2).
    func refreshStatistics() {
        guard let connection = try? connect() else { return }
        defer { close(connection) }
        _ = try? wait { connection.simpleQuery("ANALYZE") }
    }

    /// Drops what a failed `create` made: the tables, functions and migrations table of this
    /// engine's migrations (the database held no vault before).
    func dropEverything() {
        let sql = migrations.map(\.sql).joined(separator: "\n")
        func names(_ pattern: String) -> [String] {
            let regex = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
            return regex.matches(in: sql, range: NSRange(sql.startIndex..., in: sql)).compactMap {
                Range($0.range(at: 1), in: sql).map { String(sql[$0]) }
            }
        }
        var statements = names(#"CREATE TABLE (?:IF NOT EXISTS )?(\w+)"#).map { "DROP TABLE IF EXISTS \($0) CASCADE" }
        statements += names(#"CREATE (?:OR REPLACE )?FUNCTION (\w+)"#).map { "DROP FUNCTION IF EXISTS \($0) CASCADE" }
        statements.append("DROP TABLE IF EXISTS \(migrationsTable)")
        guard let connection = try? connect() else { return }
        _ = try? wait { connection.simpleQuery(statements.joined(separator: "; ")) }
        close(connection)
    }

    // MARK: Connections

    private func checkOut() throws -> PostgresConnection {
        while let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isClosed { return connection }
        }
        return try connect()
    }

    private func release(_ connection: PostgresConnection) {
        let kept = idle.withLock { idle in
            guard idle.count < Self.idleLimit, !connection.isClosed else { return false }
            idle.append(connection)
            return true
        }
        if !kept { close(connection) }
    }

    /// Closes `connection` and waits for it (PostgresNIO requires a connection closed before it goes).
    func close(_ connection: PostgresConnection) {
        let closed: EventLoopFuture<Void> = connection.close()
        try? closed.wait()
    }

    func connect() throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: tlsContext.map { .require($0) } ?? .disable)
        configuration.options.connectTimeout = .seconds(10)
        // Sigil's statements each read a handful of rows: compiling one (PostgreSQL's JIT, which a
        // high cost estimate turns on) costs tens of milliseconds and never pays back. Set in the
        // startup message, so no round trip.
        configuration.options.additionalStartupParameters = [("jit", "off")]
        let id = nextID.add(1, ordering: .relaxed).newValue
        do {
            return try PostgresConnection.connect(
                on: Self.eventLoops.next(), configuration: configuration, id: id, logger: Self.logger
            ).wait()
        } catch {
            throw storageError(error, connecting: true)
        }
    }

    func wait<T: Sendable>(_ operation: () -> EventLoopFuture<T>) throws -> T {
        do {
            return try operation().wait()
        } catch {
            throw storageError(error, connecting: false)
        }
    }

    static func isConnectionLoss(_ error: any Error) -> Bool {
        if let error = error as? SigilError { return error.code == .storageUnavailable }
        guard let error = error as? PSQLError else { return false }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown].contains(
            error.code)
    }

    /// A PostgreSQL failure as an error that names the vault (without its password) and says what
    /// happened. Only the server's message and SQLSTATE are shown: never statement arguments,
    /// and not the server's detail field, which may quote a row's values.
    func storageError(_ error: any Error, connecting: Bool) -> SigilError {
        if let error = error as? SigilError { return error }
        // PostgresNIO's current error, and the older one its simple-query path throws.
        var server: (state: String, message: String)?
        var lost = "\(type(of: error))"
        if let error = error as? PSQLError {
            lost = "\(error.code)"
            server = error.serverInfo.map { ($0[.sqlState] ?? "", $0[.message] ?? "error") }
        } else if let error = error as? PostgresError {
            switch error {
            case .server(let info): server = (info.fields[.sqlState] ?? "", info.fields[.message] ?? "error")
            case .protocol: lost = "protocol error"
            case .connectionClosed: lost = "connection closed"
            }
        }
        guard let (state, message) = server else {
            let what =
                connecting
                ? "cannot connect to PostgreSQL at \(url.host):\(url.port)" : "the connection to PostgreSQL was lost"
            return SigilError(.storageUnavailable, "vault \(location): \(what) (\(lost))")
        }
        let meaning: String? =
            switch state {
            case "55P03": "another replica kept the vault locked for more than 15 seconds"
            case "28P01", "28000": "PostgreSQL refused the vault URL's user or password"
            case "3D000": "the database does not exist; create it first (createdb)"
            case "42P01": "a table is missing: this database is not a Sigil vault, or was changed by hand"
            case "40001", "40P01": "a concurrent change conflicted with this one; try again"
            case "53100": "the database server's disk is full"
            default: state.hasPrefix("08") || state.hasPrefix("57P") ? "the connection to PostgreSQL was lost" : nil
            }
        let text = "PostgreSQL \(state): \(message.sanitizedForMessage)"
        let code: SigilError.Code = state.hasPrefix("08") || state.hasPrefix("57P") ? .storageUnavailable : .storage
        return SigilError(code, "vault \(location): " + (meaning.map { "\($0) (\(text))" } ?? text))
    }
}

/// The notifications a listening connection received (shared with its handler).
private final class NotificationCount: Sendable {
    let value = Atomic<Int64>(0)
}

/// One checked-out connection inside a ``PostgresStore`` transaction.
final class PostgresSession: SQLConnection {
    var connection: PostgresConnection
    let store: PostgresStore
    private(set) var changesCount = 0

    init(connection: PostgresConnection, store: PostgresStore) {
        self.connection = connection
        self.store = store
    }

    static let dialect = SQLDialect(
        jsonText: { column, key in "(\(column)::jsonb ->> '\(key)')" },
        packedRows: SQLDialect.postgresPackedRows)
    var dialect: SQLDialect { Self.dialect }

    func simple(_ sql: String) throws {
        let connection = connection
        _ = try store.wait { connection.simpleQuery(sql) }
    }

    func execute(sql: String, arguments: SQLArguments) throws {
        _ = try rows(sql: sql, arguments: arguments)
    }

    func rows(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        var binds = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let number): binds.append(number)
            case .real(let number): binds.append(number)
            case .text(let text): binds.append(text)
            case .blob(let data): binds.append(ByteBuffer(bytes: data))
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numberedPlaceholders(sql), binds: binds)
        let connection = connection
        let result = try store.wait { connection.query(query, logger: Self.logger) }
        changesCount = result.metadata.rows ?? 0
        return try result.rows.map { row in
            var columns: [String] = []
            var values: [SQLValue] = []
            for cell in row {
                columns.append(cell.columnName)
                values.append(try Self.value(of: cell))
            }
            return SQLRow(columns: columns, values: values)
        }
    }

    /// Runs each statement of `sql` in turn (PostgresNIO sends one statement per query).
    func executeScript(_ sql: String) throws {
        for statement in Self.statements(sql) { try simple(statement) }
    }

    /// The statements of a script: split at `;` outside quoted text, identifiers, dollar-quoted
    /// bodies (`$$ ... $$`, `$tag$ ... $tag$`) and comments; empty ones dropped.
    static func statements(_ sql: String) -> [String] {
        let characters = Array(sql)
        var statements: [String] = []
        var current = ""
        var index = 0
        func flush() {
            let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
            let meaningful = trimmed.split(separator: "\n").contains {
                !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--")
            }
            if !trimmed.isEmpty && meaningful { statements.append(trimmed) }
            current = ""
        }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "'", "\"":
                // Quoted text or identifier, to its closing quote (a doubled quote stays inside).
                var end = index + 1
                while end < characters.count && characters[end] != character { end += 1 }
                current += String(characters[index...min(end, characters.count - 1)])
                index = end + 1
            case "-" where index + 1 < characters.count && characters[index + 1] == "-":
                var end = index
                while end < characters.count && characters[end] != "\n" { end += 1 }
                current += String(characters[index..<end])
                index = end
            case "$":
                // A dollar quote: `$tag$` where tag is empty or a word.
                var end = index + 1
                while end < characters.count && (characters[end].isLetter || characters[end] == "_") { end += 1 }
                guard end < characters.count, characters[end] == "$" else {
                    current.append(character)
                    index += 1
                    continue
                }
                let tag = String(characters[index...end])
                let rest = String(characters[(end + 1)...])
                if let close = rest.range(of: tag) {
                    let body = tag + String(rest[..<close.upperBound])
                    current += body
                    index = end + 1 + rest.distance(from: rest.startIndex, to: close.upperBound)
                } else {
                    current += String(characters[index...])
                    index = characters.count
                }
            case ";":
                flush()
                index += 1
            default:
                current.append(character)
                index += 1
            }
        }
        flush()
        return statements
    }

    /// Whether the current schema has a table (or other relation) `name`. `to_regclass` reads the
    /// system catalog directly: `information_schema.tables`, a view over a dozen catalogs, costs a
    /// new server backend (every command's first query) 2 to 9 ms more.
    func tableExists(_ name: String) throws -> Bool {
        try value(
            Int64.self,
            sql:
                "SELECT CASE WHEN to_regclass(quote_ident(current_schema()) || '.' || quote_ident(CAST(? AS TEXT))) IS NULL THEN 0 ELSE 1 END",
            arguments: [name]) == 1
    }

    private static let logger = Logger(label: "sigil.vault.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// `sql` with its `?` placeholders (outside quoted text and identifiers) numbered `$1`, `$2`, ...
    static func numberedPlaceholders(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 8)
        var number = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                output.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                output.append(character)
            } else if character == "?" {
                number += 1
                output += "$\(number)"
            } else {
                output.append(character)
            }
        }
        return output
    }

    /// A cell as one of the five values both engines store.
    static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float8, .float4: return .real(try cell.decode(Double.self))
        case .numeric:
            // sum() of BIGINTs: an integer when it is one.
            let text = try cell.decode(String.self)
            return Int64(text).map(SQLValue.integer) ?? .real(Double(text) ?? 0)
        case .bytea: return .blob(try cell.decode(Data.self))
        case .void: return .null
        default: return .text(try cell.decode(String.self))
        }
    }
}

extension SigilError.Code {
    /// The vault's database cannot be reached now (PostgreSQL down or unreachable); the service
    /// stops answering `/readyz` and tries again.
    public static let storageUnavailable = Self("storage-unavailable")
}
