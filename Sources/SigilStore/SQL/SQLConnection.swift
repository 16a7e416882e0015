/// One connection to the vault's database inside a transaction, as the store's code uses it. Each
/// engine implements it (``SQLiteStore``, ``PostgresStore``); the store's code above it never asks
/// which one it runs on. Statements use `?` placeholders and SQL that both engines run alike
/// (see `schema/` for the tables); the few spellings that differ come from ``dialect``.
package protocol SQLConnection: AnyObject {
    /// Runs one statement.
    func execute(sql: String, arguments: SQLArguments) throws
    /// Runs one statement and returns its rows.
    func rows(sql: String, arguments: SQLArguments) throws -> [SQLRow]
    /// Runs a script of several statements without arguments (a migration).
    func executeScript(_ sql: String) throws
    /// The number of rows the last statement inserted, changed or deleted.
    var changesCount: Int { get }
    func tableExists(_ name: String) throws -> Bool
    var dialect: SQLDialect { get }
}

/// What the two engines spell differently.
package struct SQLDialect: Sendable {
    /// An expression for the text value of `key` in the JSON object held in the text column `column`.
    package var jsonText: @Sendable (_ column: String, _ key: String) -> String
    /// An aggregate packing a group's `integers` and `bytes` columns into one value in `order`
    /// (see ``SQLConnection/packedRows(_:bytes:from:where:arguments:order:group:)``), or `nil`
    /// when rows are read one by one.
    package var packedRows: (@Sendable (_ integers: [String], _ bytes: String, _ order: String) -> String)?
}

extension SQLConnection {
    /// Runs one statement (an alias that reads as GRDB's did).
    package func run(sql: String, arguments: SQLArguments = []) throws {
        try execute(sql: sql, arguments: arguments)
    }

    package func execute(sql: String) throws {
        try execute(sql: sql, arguments: [])
    }

    package func rows(sql: String) throws -> [SQLRow] {
        try rows(sql: sql, arguments: [])
    }

    /// The first row of a statement.
    package func row(sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try rows(sql: sql, arguments: arguments).first
    }

    /// The first column of the first row, nil when there is no row or the value is NULL.
    package func value<Value: SQLValueConvertible>(
        _ type: Value.Type, sql: String, arguments: SQLArguments = []
    ) throws -> Value? {
        guard let row = try row(sql: sql, arguments: arguments), let first = row.values.first else { return nil }
        if first == .null { return nil }
        guard let value = Value.fromSQL(first) else {
            preconditionFailure("the first column does not hold a \(Value.self)")
        }
        return value
    }

    /// The first column of every row.
    package func values<Value: SQLValueConvertible>(
        _ type: Value.Type, sql: String, arguments: SQLArguments = []
    ) throws -> [Value] {
        try rows(sql: sql, arguments: arguments).compactMap { $0.values.first.flatMap(Value.fromSQL) }
    }

    /// Runs an `INSERT` and returns the `id` of the row it inserted (`RETURNING id`, which both
    /// engines understand).
    package func insert(sql: String, arguments: SQLArguments = []) throws -> Int64 {
        guard let id = try value(Int64.self, sql: sql + " RETURNING id", arguments: arguments) else {
            preconditionFailure("an INSERT returned no id")
        }
        return id
    }
}
