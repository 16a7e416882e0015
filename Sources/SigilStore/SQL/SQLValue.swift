package import Foundation

/// One value as the store reads and writes it, the same on every engine: SQLite's five storage
/// classes, which PostgreSQL's `BIGINT`, `DOUBLE PRECISION`, `TEXT` and `BYTEA` columns map onto.
/// The catalog's MACs are computed over these, so a row means the same thing in both stores.
package enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

/// A Swift value the store binds as an argument and reads from a column.
package protocol SQLValueConvertible {
    var sqlValue: SQLValue { get }
    /// The value of `sqlValue`, or nil when it is not one of this type.
    static func fromSQL(_ value: SQLValue) -> Self?
}

extension SQLValue: SQLValueConvertible {
    package var sqlValue: SQLValue { self }
    package static func fromSQL(_ value: SQLValue) -> SQLValue? { value }
}

extension String: SQLValueConvertible {
    package var sqlValue: SQLValue { .text(self) }
    package static func fromSQL(_ value: SQLValue) -> String? {
        if case .text(let text) = value { return text }
        return nil
    }
}

extension Data: SQLValueConvertible {
    package var sqlValue: SQLValue { .blob(self) }
    package static func fromSQL(_ value: SQLValue) -> Data? {
        switch value {
        case .blob(let data): data
        // SQLite hands back a zero-length blob written as '' as text.
        case .text(let text) where text.isEmpty: Data()
        default: nil
        }
    }
}

extension Double: SQLValueConvertible {
    package var sqlValue: SQLValue { .real(self) }
    package static func fromSQL(_ value: SQLValue) -> Double? {
        switch value {
        case .real(let number): number
        case .integer(let number): Double(number)
        default: nil
        }
    }
}

extension Bool: SQLValueConvertible {
    /// Stored as the integers 0 and 1 on both engines.
    package var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    package static func fromSQL(_ value: SQLValue) -> Bool? {
        if case .integer(let number) = value { return number != 0 }
        return nil
    }
}

/// Integers are stored as 64-bit signed numbers on both engines.
package protocol SQLIntegerConvertible: SQLValueConvertible, FixedWidthInteger {}

extension SQLIntegerConvertible {
    package var sqlValue: SQLValue { .integer(Int64(self)) }
    package static func fromSQL(_ value: SQLValue) -> Self? {
        if case .integer(let number) = value { return Self(exactly: number) }
        return nil
    }
}

extension Int64: SQLIntegerConvertible {}
extension Int: SQLIntegerConvertible {}
extension Int32: SQLIntegerConvertible {}
extension UInt32: SQLIntegerConvertible {}
