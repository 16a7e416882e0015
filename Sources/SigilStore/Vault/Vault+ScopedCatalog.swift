import Foundation
import SigilCore
public import SigilModel

/// The catalog as one request needs it (``Vault/CatalogLoading/perRequest``): found through
/// indexes, never by reading whole tables, so that its cost does not grow with the catalog.
///
/// Every row read is checked on its own (its MAC) and with its bucket (schema
/// `008_catalog_buckets`): a row put back from an older copy of the vault, or changed, is refused
/// as a whole-catalog read refuses it. A row deleted without the key is not seen here (nothing
/// points at it), and is found by `sigil audit verify` and by any whole-catalog read; a missing row
/// only ever takes something away (a grant, a membership, an authorization, a principal the user
/// would have preferred), so a request never gains from it.
extension Vault {
    public func snapshotAndSecretsVersion(for scope: CatalogScope) throws -> (
        CatalogSnapshot, secretsVersion: [UInt8]?
    ) {
        guard catalogLoading == .perRequest else { return try snapshotAndSecretsVersion() }
        return try read { db in
            let (catalog, authorized) = try readScopedCatalog(scope, db)
            let versions = try versions(db)
            return (CatalogSnapshot(catalog, authorizedUsers: authorized, version: versions.catalog), versions.secrets)
        }
    }

    /// The named credentials `scope`'s URL may target, their external credentials and principals,
    /// and the acting user with their groups, the grants of those principals to them and their
    /// live authorizations of them.
    func readScopedCatalog(_ scope: CatalogScope, _ db: any SQLConnection) throws -> (
        Catalog, [PrincipalRef: Set<String>]
    ) {
        // Every table's bucket list this read may check rows against, read and checked at once.
        let checked = try checkedBucketLists(
            [
                .namedCredentials, .externalCredentials, .principals, .users, .groupMembers, .groups, .grants,
                .userAuthorizations,
            ], db)
        // The named credentials: by name, or those whose base URL has the request's host.
        let namedRows: [SQLRow]
        if let name = scope.calloutName {
            namedRows = try authenticRows(.namedCredentials, where: "t.name = ?", [.text(name)], checked: checked, db)
        } else if let host = scope.host {
            let ids = try db.rows(sql: "SELECT id, url FROM named_credentials").compactMap { row -> Int64? in
                CatalogScope.host(of: row["url"]) == host ? row["id"] : nil
            }
            namedRows = try authenticRows(.namedCredentials, where: "t.id", in: ids, checked: checked, db)
        } else {
            namedRows = []
        }
        let externalRows = try authenticRows(
            .externalCredentials, where: "t.id", in: Set(namedRows.map { $0["external_credential_id"] as Int64 }),
            checked: checked, db)
        let principalRows = try authenticRows(
            .principals, where: "t.external_credential_id", in: externalRows.map { $0["id"] as Int64 },
            checked: checked, db)

        // The acting user, their groups, grants and authorizations.
        var user: User?
        var groupNames: [Int64: String] = [:]
        var grantRows: [SQLRow] = []
        var authorizationRows: [SQLRow] = []
        if let name = scope.user,
            let userRow = try authenticRows(.users, where: "t.name = ?", [.text(name)], checked: checked, db).first
        {
            let userID: Int64 = userRow["id"]
            let memberships = try authenticRows(
                .groupMembers, where: "t.user_id = ?", [.integer(userID)], checked: checked, db)
            for row in try authenticRows(
                .groups, where: "t.id", in: memberships.map { $0["group_id"] as Int64 }, checked: checked, db)
            {
                groupNames[row["id"]] = row["name"]
            }
            user = User(name: userRow["name"], groups: Array(groupNames.values))
            let principalIDs = principalRows.map { $0["id"] as Int64 }
            grantRows = try authenticRows(.grants, where: "t.principal_id", in: principalIDs, checked: checked, db)
                .filter { row in
                    (row["user_id"] as Int64?) == userID
                        || (row["group_id"] as Int64?).map { groupNames[$0] != nil } == true
                }
            authorizationRows = try authenticRows(
                .userAuthorizations, where: "t.user_id = ? AND t.principal_id", in: principalIDs,
                prefix: [.integer(userID)], checked: checked, db)
        }

        var principals: [Int64: [Principal]] = [:]
        var principalRefs: [Int64: PrincipalRef] = [:]
        let externalNames = Dictionary(
            uniqueKeysWithValues: externalRows.map { ($0["id"] as Int64, $0["name"] as String) })
        for row in principalRows {
            let external: Int64 = row["external_credential_id"]
            principals[external, default: []].append(try decodePrincipal(row, rotation: nil))
            principalRefs[row["id"]] = PrincipalRef(
                externalCredential: externalNames[external] ?? "", principal: row["name"])
        }
        var grants: [PrincipalRef: [GrantSubject]] = [:]
        for row in grantRows {
            guard let reference = principalRefs[row["principal_id"]], let user else { continue }
            let subject: GrantSubject =
                (row["group_id"] as Int64?).flatMap { groupNames[$0] }.map(GrantSubject.group) ?? .user(user.name)
            grants[reference, default: []].append(subject)
        }
        var authorized: [PrincipalRef: Set<String>] = [:]
        for row in authorizationRows where (row["status"] as String) == "authorized" {
            guard let reference = principalRefs[row["principal_id"]], let user else { continue }
            authorized[reference, default: []].insert(user.name)
        }
        let catalog = Catalog(
            externalCredentials: try externalRows.map {
                try decodeExternalCredential($0, principals: principals[$0["id"]] ?? [], rotation: nil)
            },
            namedCredentials: try namedRows.map { row in
                try decodeNamedCredential(row, externalCredential: externalNames[row["external_credential_id"]] ?? "")
            },
            users: user.map { [$0] } ?? [], groups: Array(groupNames.values),
            grants: grants.map { Grant(principal: $0.key, subjects: $0.value) })
        return (catalog, authorized)
    }

    /// The rows of `table` that match `filter`, each one's MAC and bucket checked (against the
    /// bucket lists `checked`).
    private func authenticRows(
        _ table: AuthenticatedTable, where filter: String, _ arguments: [SQLValue],
        checked: [String: [Int64: Bucket]], _ db: any SQLConnection
    ) throws -> [SQLRow] {
        let (rows, buckets) = try rowsAndBuckets(table, where: filter, arguments: SQLArguments(values: arguments), db)
        let key = try catalogKey(db)
        for row in rows where !rowAuthenticates(table, row, key: key) { try requireAuthenticRow(table, row, db) }
        try requireAuthenticBuckets(
            table, holding: rows.map { $0[table.bucketColumn] as Int64 }, checked: checked, current: buckets, db)
        return rows
    }

    /// The rows of `table` whose `column` (after the `prefix` conditions) is one of `values`.
    private func authenticRows(
        _ table: AuthenticatedTable, where column: String, in values: some Collection<Int64>,
        prefix: [SQLValue] = [], checked: [String: [Int64: Bucket]], _ db: any SQLConnection
    ) throws -> [SQLRow] {
        guard !values.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: values.count).joined(separator: ", ")
        return try authenticRows(
            table, where: "\(column) IN (\(placeholders))", prefix + values.map { .integer($0) }, checked: checked, db)
    }
}
