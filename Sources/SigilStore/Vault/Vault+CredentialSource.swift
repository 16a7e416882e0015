import Crypto
import Foundation
public import SigilCore
public import SigilModel

extension Vault: CredentialSource {
    /// As read with the catalog (see ``snapshot()``): this handle's own changes at once, another
    /// process's within the catalog's revalidation time.
    public func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> {
        try snapshot().authorizedUsers?[principal] ?? []
    }

    /// Every current secret of the principal (and, for a per-user principal, of the user's
    /// authorization) in one read transaction, each row's MAC checked; throws
    /// ``SigilError/Code/catalogChanged`` (and drops the kept catalog) when the catalog changed since
    /// `snapshot` was read, so that no request combines a parameter of one `apply` with a secret of
    /// the next.
    public func principalSecrets(
        of key: IssuedCredentialKey, type: PrincipalType, consistentWith snapshot: CatalogSnapshot
    ) throws -> [String: SecretBytes]? {
        try read { db in
            if let version = snapshot.version, try catalogVersion(db) != version {
                catalogCache.invalidate()
                throw SigilError(
                    .catalogChanged, "the catalog of vault \(path) changed while a request was being prepared")
            }
            // The principal's row, then (per-user) the user's authorization of it: found with one
            // query each, and the secrets of both read in one (each a round trip on PostgreSQL).
            guard let principal = try principalRow(key.principal, db) else { return [:] }
            var owners: [(kind: String, id: Int64)] = [("principal", principal.id)]
            if type == .perUser, let user = key.user {
                guard principal.type == PrincipalType.perUser.rawValue else {
                    throw SigilError(
                        .invalidSecretTarget,
                        "principal \(key.principal) is a named principal; only per-user principals hold per-user secrets"
                    )
                }
                if let id = try db.value(
                    Int64.self,
                    sql: """
                        SELECT a.id FROM user_authorizations a JOIN users u ON u.id = a.user_id
                        WHERE a.principal_id = ? AND u.name = ?
                        """, arguments: [principal.id, user])
                {
                    owners.append(("authorization", id))
                }
            }
            let (secrets, buckets) = try rowsAndBuckets(
                .secrets,
                where:
                    "t.stage = 'current' AND (\(owners.map { _ in "(t.owner_kind = ? AND t.owner_id = ?)" }.joined(separator: " OR ")))",
                arguments: SQLArguments(values: owners.flatMap { [SQLValue.text($0.kind), .integer($0.id)] }),
                extra: ["t.sealed"], db)
            for secret in secrets { try requireAuthenticRow(.secrets, secret, db) }
            // Not an older version put back as current, nor one whose newer version was removed.
            try requireAuthenticBuckets(.secrets, holding: secrets.map { $0["id"] as Int64 }, current: buckets, db)
            var values: [String: SecretBytes] = [:]
            // The user's own fields come last and replace the principal's.
            for secret in secrets where (secret["owner_kind"] as String) == "principal" {
                values[secret["field"]] = try openSecret(secret, db)
            }
            for secret in secrets where (secret["owner_kind"] as String) != "principal" {
                values[secret["field"]] = try openSecret(secret, db)
            }
            return values
        }
    }

    /// A digest of the catalog's row-set MACs, secrets left out: it changes with every change of the
    /// catalog (each changes a row MAC, hence its table's row-set MAC), and only then. Secrets are
    /// left out because a request reads all of its secrets in one transaction anyway, and a new
    /// secret version then keeps the catalog snapshot (and the routes worked out from it).
    func catalogVersion(_ db: any SQLConnection) throws -> [UInt8] {
        try versions(db).catalog
    }

    /// The catalog's version (``catalogVersion(_:)``) and the secrets table's row-set MAC, which
    /// changes with every secret written, staged or deleted (and only then), so secrets the engine
    /// keeps are known stale by it. One query for both (on PostgreSQL, one round trip less).
    func versions(_ db: any SQLConnection) throws -> (catalog: [UInt8], secrets: [UInt8]) {
        var hash = SHA256()
        var secrets: [UInt8] = []
        for row in try db.rows(sql: "SELECT name, mac FROM catalog_tables ORDER BY name") {
            let name: String = row["name"]
            guard name != AuthenticatedTable.secrets.name else {
                secrets = Array(row["mac"] as Data)
                continue
            }
            hash.update(data: Array(name.utf8) + [0])
            hash.update(data: row["mac"] as Data)
        }
        return (Array(hash.finalize()), secrets)
    }

    /// Every live authorization of a per-user principal, by principal.
    func readAuthorizedUsers(_ db: any SQLConnection) throws -> [PrincipalRef: Set<String>] {
        var users: [PrincipalRef: Set<String>] = [:]
        for row in try db.rows(
            sql: """
                SELECT e.name AS credential, p.name AS principal, u.name AS user FROM user_authorizations a JOIN users u ON u.id = a.user_id
                JOIN principals p ON p.id = a.principal_id JOIN external_credentials e ON e.id = p.external_credential_id
                WHERE a.status = 'authorized'
                """)
        {
            users[PrincipalRef(externalCredential: row["credential"], principal: row["principal"]), default: []].insert(
                row["user"])
        }
        return users
    }
}
