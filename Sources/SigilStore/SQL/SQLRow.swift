import Foundation

/// One row of a result, its values by column name.
package struct SQLRow: Sendable {
    package let columns: [String]
    package let values: [SQLValue]

    package init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of `column` (names compare without regard to case, as SQL's do), `.null` when the
    /// row has no such column.
    package func value(_ column: String) -> SQLValue {
        if let index = columns.firstIndex(of: column) { return values[index] }
        return columns.firstIndex { $0.caseInsensitiveCompare(column) == .orderedSame }.map { values[$0] } ?? .null
    }

    /// The value of `column` as `T`. The store reads its own schema, so a missing column or a value
    /// of another type is a programming error, as with GRDB's rows.
    package subscript<T: SQLValueConvertible>(_ column: String) -> T {
        let value = value(column)
        guard let converted = T.fromSQL(value) else {
            preconditionFailure("column \(column) does not hold a \(T.self)")
        }
        return converted
    }

    /// The value of `column` as `T`, nil when it is NULL.
    package subscript<T: SQLValueConvertible>(_ column: String) -> T? {
        let value = value(column)
        if value == .null { return nil }
        guard let converted = T.fromSQL(value) else {
            preconditionFailure("column \(column) does not hold a \(T.self)")
        }
        return converted
    }
}
