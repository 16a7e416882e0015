import Foundation
import SigilCore

/// Moves a vault between stores (a file and a PostgreSQL database, either way) as it is: every row
/// of every table, sealed blobs, key wrappings and the audit chain byte for byte. Nothing is
/// unsealed and no key is needed: a sealed blob's additional data names its vault, owner and
/// version, never the store, so it opens the same in the copy, and the catalog's MACs, computed
/// over the same values, authenticate there too (`sigil audit verify`).
public enum VaultCopy {
    /// What a copy moved.
    public struct Report: Sendable, Codable {
        public var from: String
        public var to: String
        public var schemaVersion: Int
        /// Rows copied, by table, in the order they were copied.
        public var tables: [Table]

        public struct Table: Sendable, Codable {
            public var name: String
            public var rows: Int
        }
    }

    /// Copies the vault at `source` to `destination`, which must hold no vault (a new file, or a
    /// database without Sigil's tables). The source is read in one snapshot; the destination is
    /// written in one transaction after its migrations, and removed again if anything fails.
    public static func copy(from source: String, to destination: String) throws -> Report {
        let from = try VaultLocation(source).open()
        let (version, tables) = try from.read { db -> (Int, [(String, [SQLRow])]) in
            guard try db.tableExists("vault_meta"), try db.tableExists(from.migrationsTable) else {
                throw SigilError(.notAVault, "\(from.location) is a database but not a Sigil vault")
            }
            try Schema.checkNotNewer(db, store: from)
            let version = try Schema.version(of: db, table: from.migrationsTable)
            guard version == Schema.latestVersion else {
                throw SigilError(
                    .newerSchema,
                    "vault \(from.location) has schema version \(version); open it once with this sigil (any command) to upgrade it to version \(Schema.latestVersion), then copy it"
                )
            }
            return (version, try tableNames(from).map { ($0, try db.rows(sql: "SELECT * FROM \($0)")) })
        }
        let location = try VaultLocation(destination)
        let to = try location.create()
        do {
            try Schema.migrate(to)
            var report = Report(from: from.location, to: to.location, schemaVersion: version, tables: [])
            try to.write { db in
                for (table, rows) in tables {
                    // Many rows per statement (a round trip each on PostgreSQL), within both engines'
                    // limits on bound values (SQLite 32,766, PostgreSQL 65,535).
                    guard let columns = rows.first?.columns else {
                        report.tables.append(.init(name: table, rows: 0))
                        continue
                    }
                    let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
                    let batch = max(1, min(500, 30_000 / columns.count))
                    for start in stride(from: 0, to: rows.count, by: batch) {
                        let slice = rows[start..<min(start + batch, rows.count)]
                        try db.execute(
                            sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                                + Array(repeating: tuple, count: slice.count).joined(separator: ", "),
                            arguments: SQLArguments(values: slice.flatMap(\.values)))
                    }
                    if rows.first?.columns.contains("id") == true { try to.continueIdentity(of: table, db) }
                    report.tables.append(.init(name: table, rows: rows.count))
                }
            }
            to.refreshStatistics()
            return report
        } catch {
            location.removeHalfMade(to)
            throw error
        }
    }

    /// The vault's tables in the order the migrations create them (a table after those it refers to).
    static func tableNames(_ store: any SQLStore) throws -> [String] {
        var names: [String] = []
        for migration in store.migrations {
            var rest = Substring(migration.sql)
            while let range = rest.range(of: "CREATE TABLE ") {
                let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                if !name.isEmpty && !names.contains(String(name)) { names.append(String(name)) }
                rest = rest[range.upperBound...]
            }
        }
        return names
    }
}
