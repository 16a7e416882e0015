package import Foundation
import SigilCore

/// One row of ``SQLConnection/packedRows(_:bytes:from:where:arguments:order:group:)``: its integer
/// columns in the order asked, and its byte column (empty for NULL).
package struct PackedRow: Equatable {
    package var integers: [Int64]
    package var bytes: Data
}

extension SQLDialect {
    /// PostgreSQL's aggregate that packs a group's rows into one `bytea`, in `order`: per row, each
    /// integer as 8 bytes big-endian, then the byte column's length as 4 bytes big-endian and its
    /// bytes. A per-request read checks a few thousand rows of MACs; one value per group spares the
    /// client decoding each row (about 2.5 µs a row through PostgresNIO and ``SQLRow``).
    static func postgresPackedRows(integers: [String], bytes: String, order: String) -> String {
        let fields =
            integers.map { "int8send(\($0)::bigint)" }
            + ["int4send(coalesce(octet_length(\(bytes)), 0))", "coalesce(\(bytes), ''::bytea)"]
        return "string_agg(\(fields.joined(separator: " || ")), ''::bytea ORDER BY \(order))"
    }
}

extension SQLConnection {
    /// The integer columns `integers` and the byte column `bytes` of the rows of `table` that
    /// match `filter`, in `order`, by the text value of `group` (all under "" when `nil`).
    /// PostgreSQL packs each group into one value on the server (``SQLDialect/packedRows``);
    /// SQLite, in process, reads the rows one by one. The two give the same rows.
    package func packedRows(
        _ integers: [String], bytes: String, from table: String, where filter: String? = nil,
        arguments: SQLArguments = [], order: [String], group: String? = nil
    ) throws -> [String: [PackedRow]] {
        let condition = filter.map { " WHERE \($0)" } ?? ""
        let groupColumn = group ?? "''"
        guard let pack = dialect.packedRows else {
            var rows: [String: [PackedRow]] = [:]
            let columns = integers.enumerated().map { "\($1) AS i\($0)" } + ["\(bytes) AS packed_bytes"]
            for row in try self.rows(
                sql: "SELECT \(groupColumn) AS packed_group, \(columns.joined(separator: ", ")) FROM \(table)"
                    + condition + " ORDER BY " + ([group].compactMap { $0 } + order).joined(separator: ", "),
                arguments: arguments)
            {
                rows[row["packed_group"], default: []].append(
                    PackedRow(
                        integers: integers.indices.map { row["i\($0)"] as Int64 },
                        bytes: row["packed_bytes"] as Data? ?? Data()))
            }
            return rows
        }
        var groups: [String: [PackedRow]] = [:]
        for row in try self.rows(
            sql: "SELECT \(groupColumn) AS packed_group, "
                + pack(integers, bytes, order.joined(separator: ", ")) + " AS packed FROM \(table)" + condition
                + (group.map { " GROUP BY \($0)" } ?? ""),
            arguments: arguments)
        {
            guard let packed = row["packed"] as Data? else { continue }
            groups[row["packed_group"]] = try PackedRow.unpack(packed, integers: integers.count, table: table)
        }
        return groups
    }
}

extension PackedRow {
    /// The rows of one value that ``SQLDialect/packedRows`` made, each with `integers` integers.
    package static func unpack(_ packed: Data, integers: Int, table: String) throws -> [PackedRow] {
        try packed.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) throws -> [PackedRow] in
            let truncated = SigilError(.storage, "the packed rows of \(table) end in the middle of a row")
            var rows: [PackedRow] = []
            var offset = 0
            while offset < buffer.count {
                guard buffer.count - offset >= 8 * integers + 4 else { throw truncated }
                var values: [Int64] = []
                values.reserveCapacity(integers)
                for _ in 0..<integers {
                    values.append(Int64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
                    offset += 8
                }
                let length = Int(UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                offset += 4
                guard buffer.count - offset >= length else { throw truncated }
                rows.append(
                    PackedRow(
                        integers: values,
                        bytes: length == 0 ? Data() : Data(bytes: buffer.baseAddress! + offset, count: length)))
                offset += length
            }
            return rows
        }
    }
}
