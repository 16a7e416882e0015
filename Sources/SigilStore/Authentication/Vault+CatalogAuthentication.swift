import Crypto
import Foundation
public import SigilCore
import SigilModel
import Synchronization

/// One thing the catalog check found: a row whose MAC does not match, or a table whose rows were
/// added or removed without the vault's key.
public struct CatalogProblem: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The table (`named_credentials`).
    public var table: String
    /// The item as its row names it now (`named credential Billing (row 1)`), or `nil` for a
    /// problem with the table's rows as a whole.
    public var item: String?
    public var problem: String

    public var description: String { (item ?? "table \(table)") + ": " + problem }
}

extension SigilError.Code {
    /// The catalog was changed without the vault's key: Sigil refuses to sign with it.
    public static let catalogTampered = Self("catalog-tampered")
}

/// How the vault authenticates its catalog (schema `004_catalog_macs`, SECURITY.md "Catalog
/// authentication").
///
/// - A row's MAC is `HMAC-SHA256(catalog key, "sigil/catalog-row/v1" || lp(vault id) || lp(table)
///   || value...)` over the table's ``AuthenticatedTable/columns``, each value a type byte and a
///   length-prefixed text (NULL: the type byte alone).
/// - A table's row-set MAC, in `catalog_tables`, is `HMAC-SHA256(catalog key,
///   "sigil/catalog-rows/v1" || lp(vault id) || lp(table) || lp(row count) || lp(row MAC)...)` in key
///   order.
/// - The catalog key is `HMAC-SHA256(audit key, "sigil/catalog/v1")`: only the master key unwraps it.
///
/// Every write transaction that changes the catalog (``Vault/write(rollback:catalog:_:)``) first
/// notes which tables' row sets authenticate, recomputes the MACs of the rows it writes, and at the
/// end recomputes the row-set MACs of those tables only. A row or a table that failed before a
/// write still fails after it, so nothing changed without the key is ever blessed by a later
/// write; the operator's own `apply` of an item rewrites that item's row and so mends it.
extension Vault {
    private static let rowDomain = Array("sigil/catalog-row/v1".utf8)
    private static let rowSetDomain = Array("sigil/catalog-rows/v1".utf8)

    /// The catalog key, as an HMAC already keyed with it (each MAC starts from a copy, so the key
    /// is processed once per handle; the audit key never changes, only its wrapping).
    func catalogKey(_ db: any SQLConnection) throws -> HMAC<SHA256> {
        if let key = catalogKeyCache.withLock({ $0 }) { return key }
        let auditKey = try keyring.key(id: activeKeyID(purpose: "audit", db))
        let key = auditKey.withUnsafeBytes { bytes in
            HMAC<SHA256>(
                key: SymmetricKey(
                    data: HMAC<SHA256>.authenticationCode(
                        for: Array("sigil/catalog/v1".utf8), using: SymmetricKey(data: bytes))))
        }
        catalogKeyCache.withLock { $0 = key }
        return key
    }

    // MARK: MACs

    private func lengthPrefixed(_ bytes: some Collection<UInt8>, into hmac: inout HMAC<SHA256>) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: bytes.count).bigEndian) { hmac.update(data: $0) }
        if bytes.withContiguousStorageIfAvailable({ hmac.update(data: UnsafeRawBufferPointer($0)) }) == nil {
            hmac.update(data: Array(bytes))
        }
    }

    func rowMAC(_ table: AuthenticatedTable, _ row: SQLRow, key: HMAC<SHA256>) -> [UInt8] {
        var hmac = key
        hmac.update(data: Self.rowDomain)
        lengthPrefixed(keyring.vaultID.bytes, into: &hmac)
        lengthPrefixed(table.name.utf8, into: &hmac)
        for column in table.columns {
            switch row.value(column) {
            case .null: hmac.update(data: [0])
            case .integer(let number):
                hmac.update(data: [1])
                lengthPrefixed(String(number).utf8, into: &hmac)
            case .real(let number):
                hmac.update(data: [2])
                lengthPrefixed(String(number).utf8, into: &hmac)
            case .text(let text):
                hmac.update(data: [3])
                lengthPrefixed(text.utf8, into: &hmac)
            case .blob(let data):
                hmac.update(data: [4])
                lengthPrefixed(data, into: &hmac)
            }
        }
        return Array(hmac.finalize())
    }

    /// Whether `row`'s stored MAC is the MAC of its content (compared in constant time).
    func rowAuthenticates(_ table: AuthenticatedTable, _ row: SQLRow, key: HMAC<SHA256>) -> Bool {
        guard let stored = row["mac"] as Data?, stored.count == SHA256.byteCount else { return false }
        return stored.withUnsafeBytes { storedBytes in
            rowMAC(table, row, key: key).withUnsafeBytes { computed in constantTimeEqual(storedBytes, computed) }
        }
    }

    /// Computes and stores the MAC of every row of `table` that matches `filter` (`t` is the row).
    func authenticateRows(
        _ table: AuthenticatedTable, where filter: String, _ arguments: SQLArguments, _ db: any SQLConnection
    ) throws {
        let key = try catalogKey(db)
        for row in try db.rows(sql: table.selectSQL(where: filter), arguments: arguments) {
            let keyValues = table.key.map { row.value($0) }
            try db.execute(
                sql: table.updateMACSQL,
                arguments: SQLArguments(values: [.blob(Data(rowMAC(table, row, key: key)))] + keyValues))
        }
    }

    /// Authenticates the row `id` of `table` (after inserting or updating it).
    func authenticateRow(_ table: AuthenticatedTable, id: Int64, _ db: any SQLConnection) throws {
        let key = try catalogKey(db)
        guard let row = try db.row(sql: table.selectOneSQL, arguments: [id]) else { return }
        try db.run(sql: table.updateMACSQL, arguments: [Data(rowMAC(table, row, key: key)), id])
    }

    /// `(row count, row-set MAC)` of `table` as stored now.
    private func rowSetMAC(_ table: AuthenticatedTable, key: HMAC<SHA256>, _ db: any SQLConnection) throws -> (
        count: Int, mac: [UInt8]
    ) {
        let macs = try db.rows(sql: "SELECT mac FROM \(table.name) ORDER BY " + table.key.joined(separator: ", "))
            .map { $0["mac"] as Data? }
        var hmac = key
        hmac.update(data: Self.rowSetDomain)
        lengthPrefixed(keyring.vaultID.bytes, into: &hmac)
        lengthPrefixed(table.name.utf8, into: &hmac)
        lengthPrefixed(String(macs.count).utf8, into: &hmac)
        for mac in macs { lengthPrefixed(mac ?? Data(), into: &hmac) }
        return (macs.count, Array(hmac.finalize()))
    }

    /// The problem with `table`'s row set, or `nil` when it authenticates.
    private func rowSetProblem(_ table: AuthenticatedTable, key: HMAC<SHA256>, _ db: any SQLConnection) throws
        -> CatalogProblem?
    {
        guard table.hasRowSetMAC else { return nil }
        let (count, mac) = try rowSetMAC(table, key: key, db)
        guard
            let stored = try db.row(
                sql: "SELECT row_count, mac FROM catalog_tables WHERE name = ?", arguments: [table.name])
        else {
            return CatalogProblem(
                table: table.name, item: nil,
                problem: "its row-set MAC in catalog_tables is missing (removed without the vault's key)")
        }
        let storedMAC: Data = stored["mac"]
        let authentic =
            storedMAC.count == mac.count
            && storedMAC.withUnsafeBytes { a in mac.withUnsafeBytes { b in constantTimeEqual(a, b) } }
        if authentic { return nil }
        let storedCount: Int = stored["row_count"]
        let change =
            count > storedCount
            ? "\(count - storedCount) more rows than it authenticated"
            : count < storedCount
                ? "\(storedCount - count) fewer rows than it authenticated"
                : "its rows were replaced, reordered or had their MACs changed"
        return CatalogProblem(
            table: table.name, item: nil, problem: "rows were added or removed without the vault's key (\(change))")
    }

    /// Stores `table`'s row-set MAC as it is now.
    private func storeRowSetMAC(_ table: AuthenticatedTable, key: HMAC<SHA256>, _ db: any SQLConnection) throws {
        guard table.hasRowSetMAC else { return }
        let (count, mac) = try rowSetMAC(table, key: key, db)
        try db.execute(
            sql: """
                INSERT INTO catalog_tables (name, row_count, mac) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET row_count = excluded.row_count, mac = excluded.mac
                """, arguments: [table.name, count, Data(mac)])
    }

    // MARK: Checking

    /// Every problem with the catalog: rows whose MAC does not match, tables whose rows were added
    /// or removed. Empty when the catalog is as Sigil last wrote it.
    func catalogProblems(_ db: any SQLConnection) throws -> [CatalogProblem] {
        let key = try catalogKey(db)
        var problems: [CatalogProblem] = []
        for table in AuthenticatedTable.catalog {
            let failing = try db.rows(sql: table.selectSQL()).filter { !rowAuthenticates(table, $0, key: key) }
            for row in failing {
                let labelled = try labelled(table, row, db)
                let what =
                    labelled.value("mac") == .null
                    ? "added without the vault's key (it has no MAC)"
                    : "changed without the vault's key (its MAC does not match)"
                problems.append(CatalogProblem(table: table.name, item: table.describe(labelled), problem: what))
            }
            if let problem = try rowSetProblem(table, key: key, db) { problems.append(problem) }
        }
        return problems
    }

    /// Throws ``SigilError/Code/catalogTampered`` naming the first problem, when there is one.
    func requireAuthenticCatalog(_ db: any SQLConnection) throws {
        let problems = try catalogProblems(db)
        guard let first = problems.first else { return }
        let more = problems.count > 1 ? " (and \(problems.count - 1) more)" : ""
        throw SigilError(
            .catalogTampered,
            "vault \(path) does not authenticate: \(first)\(more). Sigil will not use it; `sigil audit verify` lists every problem"
        )
    }

    /// Throws unless `row` (read with ``AuthenticatedTable/selectSQL(where:labels:)``'s columns)
    /// authenticates: for a row read on its own at use (a secret, an issued credential).
    func requireAuthenticRow(_ table: AuthenticatedTable, _ row: SQLRow, _ db: any SQLConnection) throws {
        guard !rowAuthenticates(table, row, key: try catalogKey(db)) else { return }
        throw SigilError(
            .catalogTampered,
            "vault \(path) does not authenticate: \(table.describe(try labelled(table, row, db))): changed without the vault's key (its MAC does not match). Sigil will not use it; `sigil audit verify` lists every problem"
        )
    }

    /// `row` read again with what messages name it by (the names of the rows it refers to).
    private func labelled(_ table: AuthenticatedTable, _ row: SQLRow, _ db: any SQLConnection) throws -> SQLRow {
        let keyFilter = table.key.map { "t.\($0) = ?" }.joined(separator: " AND ")
        return try db.row(
            sql: table.selectSQL(where: keyFilter, labels: true),
            arguments: SQLArguments(values: table.key.map { row.value($0) })) ?? row
    }

    // MARK: Writing

    /// The tables whose row sets authenticate now: at the start of a write transaction, the ones
    /// whose row-set MACs it may recompute at its end.
    func tablesWithAuthenticRowSets(_ db: any SQLConnection) throws -> [AuthenticatedTable] {
        let key = try catalogKey(db)
        return try AuthenticatedTable.catalog.filter { try rowSetProblem($0, key: key, db) == nil }
    }

    /// Recomputes the row-set MACs of `tables` (those that authenticated when the transaction began).
    func storeRowSetMACs(_ tables: [AuthenticatedTable], _ db: any SQLConnection) throws {
        let key = try catalogKey(db)
        for table in tables { try storeRowSetMAC(table, key: key, db) }
    }

    /// Authenticates every row and table of the catalog as it is now: when `004_catalog_macs` adds
    /// the MACs to an existing vault, and when the operator accepts the catalog after checking it
    /// (``acceptCatalog()``).
    func authenticateWholeCatalog(_ db: any SQLConnection) throws {
        let key = try catalogKey(db)
        // When `004_catalog_macs` runs on an older vault, later migrations' tables do not exist yet.
        for table in AuthenticatedTable.catalog + [.issuedCredentials] where try db.tableExists(table.name) {
            try authenticateRows(table, where: "1 = 1", [], db)
            try storeRowSetMAC(table, key: key, db)
        }
    }

    /// What ``acceptCatalog()`` accepted.
    public struct CatalogAcceptance: Sendable, Codable {
        public var accepted: [CatalogProblem]
    }

    /// Makes the catalog, as it is now, the authentic one: for an operator who has checked what
    /// `sigil audit verify` reported (restored a backup of a table, say) and vouches for it. Every
    /// row and table is authenticated again; the audit log records what was accepted.
    public func acceptCatalog() throws -> CatalogAcceptance {
        try write(catalog: false) { db in
            let problems = try catalogProblems(db)
            try authenticateWholeCatalog(db)
            try audit(
                "catalog.accept", target: "vault \(keyring.vaultID.hex)",
                detail: [
                    "problems": "\(problems.count)", "items": problems.map(\.description).joined(separator: "; "),
                ], db)
            return CatalogAcceptance(accepted: problems)
        }
    }

    /// The catalog check for `sigil audit verify`.
    public func verifyCatalog() throws -> [CatalogProblem] {
        try read { db in try catalogProblems(db) }
    }
}
