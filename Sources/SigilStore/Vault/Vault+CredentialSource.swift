import GRDB
public import SigilModel

extension Vault: CredentialSource {
    /// As read with the catalog (see ``snapshot()``): this handle's own changes at once, another
    /// process's within the catalog's revalidation time.
    public func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> {
        try snapshot().authorizedUsers?[principal] ?? []
    }

    /// Every live authorization of a per-user principal, by principal.
    func readAuthorizedUsers(_ db: Database) throws -> [PrincipalRef: Set<String>] {
        var users: [PrincipalRef: Set<String>] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT e.name AS credential, p.name AS principal, u.name AS user FROM user_authorizations a JOIN users u ON u.id = a.user_id
            JOIN principals p ON p.id = a.principal_id JOIN external_credentials e ON e.id = p.external_credential_id
            WHERE a.status = 'authorized'
            """) {
            users[PrincipalRef(externalCredential: row["credential"], principal: row["principal"]), default: []].insert(row["user"])
        }
        return users
    }
}
