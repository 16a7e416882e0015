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
    private static let bucketDomain = Array("sigil/catalog-bucket/v1".utf8)
    private static let tableDomain = Array("sigil/catalog-buckets/v1".utf8)

    /// The catalog key, as an HMAC already keyed with it (each MAC starts from a copy, so the key
    /// is processed once per handle; the audit key never changes, only its wrapping).
    func catalogKey(_ db: any SQLConnection) throws -> HMAC<SHA256> {
        if let key = catalogKeyCache.withLock({ $0 }) { return key }
        return try keepCatalogKey(auditKeyID: activeKeyID(purpose: "audit", db))
    }

    /// Derives the catalog key from the audit key `id` (in the keyring) and keeps it. ``open(at:key:actor:clock:)``
    /// does so with the key rows it read anyway, which spares each command a query.
    @discardableResult
    func keepCatalogKey(auditKeyID id: UInt32) throws -> HMAC<SHA256> {
        let auditKey = try keyring.key(id: id)
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

    /// The bytes one MAC covers, gathered first and given to the HMAC in one update: a bucket list
    /// of hundreds of entries costs thousands of small updates otherwise, which cost more than the
    /// hashing itself (they were most of a cold `sigil sign`'s extra time on a large catalog).
    private struct MACInput {
        var bytes: [UInt8]

        init(domain: [UInt8], vault: Vault, table: AuthenticatedTable) {
            bytes = domain
            bytes.reserveCapacity(256)
            lengthPrefixed(vault.keyring.vaultID.bytes)
            lengthPrefixed(table.name.utf8)
        }

        mutating func lengthPrefixed(_ value: some Collection<UInt8>) {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: value.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: value)
        }

        /// A number in decimal, length-prefixed.
        mutating func lengthPrefixed(_ number: some BinaryInteger) {
            lengthPrefixed(String(number).utf8)
        }

        func mac(_ key: HMAC<SHA256>) -> [UInt8] {
            var hmac = key
            hmac.update(data: bytes)
            return Array(hmac.finalize())
        }
    }

    func rowMAC(_ table: AuthenticatedTable, _ row: SQLRow, key: HMAC<SHA256>) -> [UInt8] {
        var input = MACInput(domain: Self.rowDomain, vault: self, table: table)
        for column in table.columns {
            switch row.value(column) {
            case .null: input.bytes.append(0)
            case .integer(let number):
                input.bytes.append(1)
                input.lengthPrefixed(number)
            case .real(let number):
                input.bytes.append(2)
                input.lengthPrefixed(String(number).utf8)
            case .text(let text):
                input.bytes.append(3)
                input.lengthPrefixed(text.utf8)
            case .blob(let data):
                input.bytes.append(4)
                input.lengthPrefixed(data)
            }
        }
        return input.mac(key)
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

    // MARK: Row sets, in buckets (schema `008_catalog_buckets`)

    /// Rows per bucket: a row's bucket is the first column of its key divided by this.
    static let bucketWidth: Int64 = 256

    /// One bucket of a table as its rows are now, or as `catalog_buckets` holds it.
    struct Bucket: Equatable {
        var count: Int
        var mac: [UInt8]
    }

    /// The bucket of every row of `table` (or of those whose bucket column lies in `range`), as the
    /// rows are now: their count and the MAC over their MACs in key order.
    private func currentBuckets(
        _ table: AuthenticatedTable, key: HMAC<SHA256>, in range: Range<Int64>? = nil, _ db: any SQLConnection
    ) throws -> [Int64: Bucket] {
        let column = table.bucketColumn
        let rows = try db.packedRows(
            [column], bytes: "mac", from: table.name, where: range == nil ? nil : "\(column) >= ? AND \(column) < ?",
            arguments: range.map { [$0.lowerBound, $0.upperBound] } ?? [], order: table.key)
        var macs: [Int64: [Data]] = [:]
        for row in rows[""] ?? [] { macs[row.integers[0] / Self.bucketWidth, default: []].append(row.bytes) }
        var buckets: [Int64: Bucket] = [:]
        for (number, rowMACs) in macs {
            buckets[number] = Bucket(
                count: rowMACs.count, mac: bucketMAC(table, bucket: number, rowMACs: rowMACs, key: key))
        }
        return buckets
    }

    /// The rows of `table` that match `filter` (with the expressions `extra`), and, where the store
    /// packs rows (PostgreSQL), the buckets they fall in as their rows are now, from the same query:
    /// each row brings the packed row MACs of its bucket, so that checking a few rows costs one
    /// round trip instead of two. Elsewhere (SQLite, in process) the buckets are `nil`, for
    /// ``requireAuthenticBuckets(_:holding:checked:current:_:)`` to read.
    func rowsAndBuckets(
        _ table: AuthenticatedTable, where filter: String, arguments: SQLArguments, extra: [String] = [],
        _ db: any SQLConnection
    ) throws -> (rows: [SQLRow], buckets: [Int64: Bucket]?) {
        guard table.hasRowSetMAC, let pack = db.dialect.packedRows else {
            return (try db.rows(sql: table.selectSQL(where: filter, extra: extra), arguments: arguments), nil)
        }
        let column = table.bucketColumn
        let width = Self.bucketWidth
        let start = "t.\(column) / \(width) * \(width)"
        let bucketRows = """
            (SELECT \(pack(["b.\(column)"], "b.mac", table.key.map { "b.\($0)" }.joined(separator: ", "))) \
            FROM \(table.name) b WHERE b.\(column) >= \(start) AND b.\(column) < \(start) + \(width)) AS bucket_rows
            """
        let rows = try db.rows(sql: table.selectSQL(where: filter, extra: extra + [bucketRows]), arguments: arguments)
        let key = try catalogKey(db)
        var buckets: [Int64: Bucket] = [:]
        for row in rows {
            let number = (row[column] as Int64) / width
            guard buckets[number] == nil else { continue }
            let macs = try (row["bucket_rows"] as Data?).map {
                try PackedRow.unpack($0, integers: 1, table: table.name).map(\.bytes)
            }
            buckets[number] = Bucket(
                count: macs?.count ?? 0, mac: bucketMAC(table, bucket: number, rowMACs: macs ?? [], key: key))
        }
        return (rows, buckets)
    }

    /// A row without a MAC (NULL) counts as one with an empty MAC.
    private func bucketMAC(_ table: AuthenticatedTable, bucket: Int64, rowMACs: [Data], key: HMAC<SHA256>)
        -> [UInt8]
    {
        var input = MACInput(domain: Self.bucketDomain, vault: self, table: table)
        input.lengthPrefixed(bucket)
        input.lengthPrefixed(rowMACs.count)
        for mac in rowMACs { input.lengthPrefixed(mac) }
        return input.mac(key)
    }

    /// The buckets `catalog_buckets` holds for `table` (or the one bucket `only`).
    private func storedBuckets(_ table: AuthenticatedTable, only: Int64? = nil, _ db: any SQLConnection) throws
        -> [Int64: Bucket]
    {
        try storedBucketLists(
            where: "name = ?" + (only == nil ? "" : " AND bucket = ?"),
            arguments: SQLArguments(values: [.text(table.name)] + (only.map { [.integer($0)] } ?? [])), db)[
                table.name] ?? [:]
    }

    /// The bucket lists `catalog_buckets` holds for the tables `filter` selects, by table name.
    private func storedBucketLists(where filter: String, arguments: SQLArguments, _ db: any SQLConnection) throws
        -> [String: [Int64: Bucket]]
    {
        try db.packedRows(
            ["bucket", "row_count"], bytes: "mac", from: "catalog_buckets", where: filter, arguments: arguments,
            order: ["bucket"], group: "name"
        ).mapValues { rows in
            var buckets: [Int64: Bucket] = [:]
            buckets.reserveCapacity(rows.count)
            for row in rows { buckets[row.integers[0]] = Bucket(count: Int(row.integers[1]), mac: Array(row.bytes)) }
            return buckets
        }
    }

    /// `(row count, MAC)` of `table`'s bucket list: what `catalog_tables` holds for it.
    private func tableMAC(_ table: AuthenticatedTable, buckets: [Int64: Bucket], key: HMAC<SHA256>) -> (
        count: Int, mac: [UInt8]
    ) {
        let count = buckets.values.reduce(0) { $0 + $1.count }
        var input = MACInput(domain: Self.tableDomain, vault: self, table: table)
        input.lengthPrefixed(count)
        for (number, bucket) in buckets.sorted(by: { $0.key < $1.key }) {
            input.lengthPrefixed(number)
            input.lengthPrefixed(bucket.count)
            input.lengthPrefixed(bucket.mac)
        }
        return (count, input.mac(key))
    }

    private static func equal(_ a: some ContiguousBytes, _ b: some ContiguousBytes) -> Bool {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in a.count == b.count && constantTimeEqual(a, b) } }
    }

    /// The problem with `table`'s stored bucket list (`catalog_tables`), or `nil` when it
    /// authenticates.
    private func bucketListProblem(
        _ table: AuthenticatedTable, stored: [Int64: Bucket], key: HMAC<SHA256>, _ db: any SQLConnection
    ) throws -> CatalogProblem? {
        bucketListProblem(
            table, stored: stored,
            tableRow: try db.row(
                sql: "SELECT row_count, mac FROM catalog_tables WHERE name = ?", arguments: [table.name]),
            key: key)
    }

    /// The same with `table`'s row of `catalog_tables` as read (`nil`: it has none).
    private func bucketListProblem(
        _ table: AuthenticatedTable, stored: [Int64: Bucket], tableRow: SQLRow?, key: HMAC<SHA256>
    ) -> CatalogProblem? {
        guard let row = tableRow else {
            return CatalogProblem(
                table: table.name, item: nil,
                problem: "its row-set MAC in catalog_tables is missing (removed without the vault's key)")
        }
        let (count, mac) = tableMAC(table, buckets: stored, key: key)
        if (row["row_count"] as Int) == count && Self.equal(row["mac"] as Data, mac) { return nil }
        return CatalogProblem(
            table: table.name, item: nil,
            problem: "rows were added or removed without the vault's key (its row-set MACs were changed)")
    }

    /// The problem with `table`'s row set (its bucket list, then its buckets), or `nil` when it
    /// authenticates; with the buckets that fail.
    private func rowSetProblem(_ table: AuthenticatedTable, key: HMAC<SHA256>, _ db: any SQLConnection) throws
        -> (problem: CatalogProblem?, failing: Set<Int64>)
    {
        guard table.hasRowSetMAC else { return (nil, []) }
        let stored = try storedBuckets(table, db)
        if let problem = try bucketListProblem(table, stored: stored, key: key, db) { return (problem, []) }
        let current = try currentBuckets(table, key: key, db)
        let failing = Set(stored.keys).union(current.keys).filter { number in
            guard let now = current[number], let then = stored[number] else { return true }
            return now.count != then.count || !Self.equal(now.mac, then.mac)
        }
        guard !failing.isEmpty else { return (nil, []) }
        let now = failing.reduce(0) { $0 + (current[$1]?.count ?? 0) }
        let then = failing.reduce(0) { $0 + (stored[$1]?.count ?? 0) }
        let change =
            now > then
            ? "\(now - then) more rows than it authenticated"
            : now < then
                ? "\(then - now) fewer rows than it authenticated"
                : "its rows were replaced, reordered or had their MACs changed"
        return (
            CatalogProblem(
                table: table.name, item: nil, problem: "rows were added or removed without the vault's key (\(change))"),
            failing
        )
    }

    /// Throws unless the buckets of `table` that hold `keys` (values of its bucket column)
    /// authenticate, with the table's bucket list: the rows a request read (found by an index) are
    /// then neither older copies of themselves nor missing a row removed from their buckets.
    ///
    /// `checked`: bucket lists already read and checked in this transaction
    /// (``checkedBucketLists(_:_:)``); other tables' are read and checked here.
    /// `current`: those buckets as their rows are now, when already read (``rowsAndBuckets``).
    func requireAuthenticBuckets(
        _ table: AuthenticatedTable, holding keys: some Collection<Int64>,
        checked: [String: [Int64: Bucket]] = [:], current: [Int64: Bucket]? = nil, _ db: any SQLConnection
    ) throws {
        guard table.hasRowSetMAC, !keys.isEmpty else { return }
        let key = try catalogKey(db)
        let stored: [Int64: Bucket]
        if let list = checked[table.name] {
            stored = list
        } else {
            stored = try storedBuckets(table, db)
            if let problem = try bucketListProblem(table, stored: stored, key: key, db) { throw tampered(problem) }
        }
        for number in Set(keys.map { $0 / Self.bucketWidth }) {
            let range = (number * Self.bucketWidth)..<((number + 1) * Self.bucketWidth)
            let now = try current?[number] ?? currentBuckets(table, key: key, in: range, db)[number]
            if now != stored[number] {
                throw tampered(
                    CatalogProblem(
                        table: table.name, item: nil,
                        problem:
                            "rows were added or removed without the vault's key (rows \(range.lowerBound) to \(range.upperBound - 1) do not match their MAC)"
                    ))
            }
        }
    }

    /// The bucket lists of `tables`, read in one round trip for all of them (and one for their
    /// rows of `catalog_tables`), each checked against its table's MAC: for a per-request read,
    /// which checks rows of several tables.
    func checkedBucketLists(_ tables: [AuthenticatedTable], _ db: any SQLConnection) throws -> [String: [Int64: Bucket]]
    {
        let tables = tables.filter(\.hasRowSetMAC)
        guard !tables.isEmpty else { return [:] }
        let key = try catalogKey(db)
        let names = SQLArguments(values: tables.map { .text($0.name) })
        let placeholders = Array(repeating: "?", count: tables.count).joined(separator: ", ")
        var lists = try storedBucketLists(where: "name IN (\(placeholders))", arguments: names, db)
        var tableRows: [String: SQLRow] = [:]
        for row in try db.rows(
            sql: "SELECT name, row_count, mac FROM catalog_tables WHERE name IN (\(placeholders))", arguments: names)
        {
            tableRows[row["name"]] = row
        }
        for table in tables {
            let stored = lists[table.name] ?? [:]
            if let problem = bucketListProblem(table, stored: stored, tableRow: tableRows[table.name], key: key) {
                throw tampered(problem)
            }
            lists[table.name] = stored
        }
        return lists
    }

    private func tampered(_ problem: CatalogProblem) -> SigilError {
        SigilError(
            .catalogTampered,
            "vault \(path) does not authenticate: \(problem). Sigil will not use it; `sigil audit verify` lists every problem"
        )
    }

    /// Stores `table`'s buckets as its rows are now, except the buckets in `keeping` (which failed
    /// before the write and must go on failing), and its bucket list.
    private func storeRowSetMAC(
        _ table: AuthenticatedTable, keeping: Set<Int64> = [], key: HMAC<SHA256>, _ db: any SQLConnection
    ) throws {
        guard table.hasRowSetMAC else { return }
        var stored = try storedBuckets(table, db)
        let current = try currentBuckets(table, key: key, db)
        for number in Set(stored.keys).union(current.keys) where !keeping.contains(number) {
            if let bucket = current[number] {
                guard stored[number] != bucket else { continue }
                try db.execute(
                    sql: """
                        INSERT INTO catalog_buckets (name, bucket, row_count, mac) VALUES (?, ?, ?, ?)
                        ON CONFLICT (name, bucket) DO UPDATE SET row_count = excluded.row_count, mac = excluded.mac
                        """, arguments: [table.name, number, bucket.count, Data(bucket.mac)])
                stored[number] = bucket
            } else {
                try db.execute(
                    sql: "DELETE FROM catalog_buckets WHERE name = ? AND bucket = ?", arguments: [table.name, number])
                stored[number] = nil
            }
        }
        let (count, mac) = tableMAC(table, buckets: stored, key: key)
        try storeTableMAC(table, count: count, mac: mac, db)
    }

    /// Stores `table`'s row of `catalog_tables`.
    private func storeTableMAC(_ table: AuthenticatedTable, count: Int, mac: [UInt8], _ db: any SQLConnection) throws {
        try db.execute(
            sql: """
                INSERT INTO catalog_tables (name, row_count, mac) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET row_count = excluded.row_count, mac = excluded.mac
                """, arguments: [table.name, count, Data(mac)])
    }

    // MARK: Row sets before schema 8

    /// A table's row-set MAC as schemas 4 to 7 kept it: one MAC over all of its rows' MACs.
    private func legacyRowSetMAC(_ table: AuthenticatedTable, key: HMAC<SHA256>, _ db: any SQLConnection) throws
        -> (count: Int, mac: [UInt8])
    {
        let macs = try db.rows(sql: "SELECT mac FROM \(table.name) ORDER BY " + table.key.joined(separator: ", "))
            .map { $0["mac"] as Data? }
        var input = MACInput(domain: Self.rowSetDomain, vault: self, table: table)
        input.lengthPrefixed(macs.count)
        for mac in macs { input.lengthPrefixed(mac ?? Data()) }
        return (macs.count, input.mac(key))
    }

    /// Stores the row-set MACs of `tables` as schemas 4 to 7 kept them (their migrations'
    /// completions run before schema 8 exists).
    func storeLegacyRowSetMACs(_ tables: [AuthenticatedTable], _ db: any SQLConnection) throws {
        let key = try catalogKey(db)
        for table in tables where table.hasRowSetMAC {
            let (count, mac) = try legacyRowSetMAC(table, key: key, db)
            try storeTableMAC(table, count: count, mac: mac, db)
        }
    }

    /// Schema 8: each table whose old row-set MAC authenticates gets its buckets and bucket list;
    /// a table whose old MAC fails keeps it, and so goes on failing.
    func convertRowSetMACsToBuckets(_ db: any SQLConnection) throws {
        let key = try catalogKey(db)
        for table in AuthenticatedTable.catalog where table.hasRowSetMAC {
            let (count, mac) = try legacyRowSetMAC(table, key: key, db)
            guard
                let stored = try db.row(
                    sql: "SELECT row_count, mac FROM catalog_tables WHERE name = ?", arguments: [table.name]),
                (stored["row_count"] as Int) == count, Self.equal(stored["mac"] as Data, mac)
            else { continue }
            try storeRowSetMAC(table, key: key, db)
        }
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
            if let problem = try rowSetProblem(table, key: key, db).problem { problems.append(problem) }
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

    /// The tables whose bucket lists authenticate now, each with its buckets that fail: at the start
    /// of a write transaction, what it may recompute at its end.
    func authenticRowSets(_ db: any SQLConnection) throws -> [AuthenticatedTable: Set<Int64>] {
        let key = try catalogKey(db)
        var tables: [AuthenticatedTable: Set<Int64>] = [:]
        for table in AuthenticatedTable.catalog where table.hasRowSetMAC {
            let stored = try storedBuckets(table, db)
            guard try bucketListProblem(table, stored: stored, key: key, db) == nil else { continue }
            tables[table] = try rowSetProblem(table, key: key, db).failing
        }
        return tables
    }

    /// Recomputes the row sets of `tables` (those whose bucket lists authenticated when the
    /// transaction began), except the buckets that failed then.
    func storeRowSetMACs(_ tables: [AuthenticatedTable: Set<Int64>], _ db: any SQLConnection) throws {
        let key = try catalogKey(db)
        for (table, failing) in tables { try storeRowSetMAC(table, keeping: failing, key: key, db) }
    }

    /// Authenticates every row and table of the catalog as it is now: when `004_catalog_macs` adds
    /// the MACs to an existing vault, and when the operator accepts the catalog after checking it
    /// (``acceptCatalog()``).
    func authenticateWholeCatalog(_ db: any SQLConnection) throws {
        let key = try catalogKey(db)
        // When `004_catalog_macs` runs on an older vault, later migrations' tables do not exist yet,
        // and row sets are kept as schemas 4 to 7 kept them (`008_catalog_buckets` converts them).
        let buckets = try db.tableExists("catalog_buckets")
        for table in AuthenticatedTable.catalog + [.issuedCredentials] where try db.tableExists(table.name) {
            try authenticateRows(table, where: "1 = 1", [], db)
            if buckets {
                try storeRowSetMAC(table, key: key, db)
            } else {
                try storeLegacyRowSetMACs([table], db)
            }
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
