import GRDB

extension Database {
    /// Executes one statement through the connection's statement cache. Preparing a statement
    /// (with GRDB's authorizer and region bookkeeping) costs more than running it, and `apply`
    /// runs the same few statements once per item: 20,000 users are 200,000 statements.
    func run(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// The first row of a cached statement.
    func row(sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    /// The first value of a cached statement.
    func value<Value: DatabaseValueConvertible & StatementColumnConvertible>(
        _ type: Value.Type, sql: String, arguments: StatementArguments = StatementArguments()
    ) throws -> Value? {
        try Value.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
}
