import Foundation
import SigilCore
import SigilTestSupport
import Testing

@testable import SigilStore

/// `packedRows` is read two ways: PostgreSQL packs each group into one value on the server, SQLite
/// reads the rows one by one. The catalog's MACs are checked over what it returns, so both must give
/// the same rows in the same order.
@Suite("Packed rows: one value per group on PostgreSQL reads as SQLite's rows")
struct PackedRowsTests {
    @Test(
        "the same rows by group and in order, negative and large integers, NULL bytes as empty, no rows as none",
        arguments: TestStore.all)
    func sameRows(store: TestStore) throws {
        let directory = NSTemporaryDirectory() + "sigil-packed-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sql = try VaultLocation(try store.newVaultLocation(in: directory)).create()
        let long = Data((0..<300).map { UInt8($0 % 256) })
        let rows: [(String, Int64, Int64, Data?)] = [
            ("g1", 2, -5, Data([1])), ("g2", 7, 0, Data()), ("g1", 1, 1 << 40, nil), ("g1", 3, .max, long),
            ("g2", 6, .min, Data(repeating: 0xFF, count: 32)),
        ]
        try sql.write { db in
            try db.execute(
                sql: "CREATE TABLE packed_test (g TEXT NOT NULL, a BIGINT NOT NULL, b BIGINT NOT NULL, m "
                    + (store == .postgres ? "BYTEA" : "BLOB") + ")")
            for (group, a, b, bytes) in rows {
                try db.execute(
                    sql: "INSERT INTO packed_test (g, a, b, m) VALUES (?, ?, ?, ?)",
                    arguments: SQLArguments(values: [
                        .text(group), .integer(a), .integer(b), bytes.map { .blob($0) } ?? .null,
                    ]))
            }
        }
        let byGroup = try sql.read { db in
            try db.packedRows(["a", "b"], bytes: "m", from: "packed_test", order: ["a"], group: "g")
        }
        #expect(
            byGroup == [
                "g1": [
                    PackedRow(integers: [1, 1 << 40], bytes: Data()), PackedRow(integers: [2, -5], bytes: Data([1])),
                    PackedRow(integers: [3, .max], bytes: long),
                ],
                "g2": [
                    PackedRow(integers: [6, .min], bytes: Data(repeating: 0xFF, count: 32)),
                    PackedRow(integers: [7, 0], bytes: Data()),
                ],
            ])
        let filtered = try sql.read { db in
            try db.packedRows(
                ["b"], bytes: "m", from: "packed_test", where: "a >= ? AND a < ?", arguments: [2, 7], order: ["a"])
        }
        #expect(
            filtered == [
                "": [
                    PackedRow(integers: [-5], bytes: Data([1])), PackedRow(integers: [.max], bytes: long),
                    PackedRow(integers: [.min], bytes: Data(repeating: 0xFF, count: 32)),
                ]
            ])
        let none = try sql.read { db in
            try db.packedRows(["a"], bytes: "m", from: "packed_test", where: "a > ?", arguments: [100], order: ["a"])
        }
        #expect(none.isEmpty)
        #expect((store == .postgres) == (try sql.read { $0.dialect.packedRows != nil }))
    }
}
