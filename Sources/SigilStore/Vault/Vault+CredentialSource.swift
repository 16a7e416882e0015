import GRDB
public import SigilModel

extension Vault: CredentialSource {
    public func authorizedUsers(of principal: PrincipalRef) throws -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: """
                SELECT u.name FROM user_authorizations a JOIN users u ON u.id = a.user_id
                JOIN principals p ON p.id = a.principal_id JOIN external_credentials e ON e.id = p.external_credential_id
                WHERE e.name = ? AND p.name = ? AND a.status = 'authorized'
                """, arguments: [principal.externalCredential, principal.principal]))
        }
    }
}
