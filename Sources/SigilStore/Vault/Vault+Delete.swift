import SigilCore
public import SigilModel

extension Vault {
    /// Deletes `item` and what it owns (a credential's principals, their secrets, grants and
    /// authorizations), in one transaction. An external credential that named credentials still use
    /// is not deleted; the error names them. With `dryRun`, everything is checked and nothing
    /// written: callers that act outside the vault first (revoking tokens at the provider) check
    /// with it, so a refused deletion does nothing at all.
    public func delete(_ item: ItemRef, dryRun: Bool = false) throws {
        try write(rollback: dryRun) { db in
            let deleted: Int
            switch item {
            case .externalCredential(let name):
                let users = try db.values(
                    String.self,
                    sql: """
                        SELECT n.name FROM named_credentials n JOIN external_credentials e ON e.id = n.external_credential_id WHERE e.name = ? ORDER BY n.name
                        """, arguments: [name])
                if !users.isEmpty {
                    throw SigilError(
                        .conflict,
                        "\(item) is used by named credential\(users.count == 1 ? "" : "s") \(users.joined(separator: ", ")); delete or repoint them first"
                    )
                }
                try db.execute(sql: "DELETE FROM external_credentials WHERE name = ?", arguments: [name])
                deleted = db.changesCount
            case .principal(let reference):
                let id = try principalRow(reference, db)?.id
                try db.execute(sql: "DELETE FROM principals WHERE id = ?", arguments: [id])
                deleted = db.changesCount
            case .namedCredential(let name):
                try db.execute(sql: "DELETE FROM named_credentials WHERE name = ?", arguments: [name])
                deleted = db.changesCount
            case .user(let name):
                try db.execute(sql: "DELETE FROM users WHERE name = ?", arguments: [name])
                deleted = db.changesCount
            case .group(let name):
                try db.execute(sql: "DELETE FROM groups WHERE name = ?", arguments: [name])
                deleted = db.changesCount
            case .grant(let reference):
                guard let id = try principalRow(reference, db)?.id else {
                    throw SigilError(.notFound, "principal \(reference) does not exist")
                }
                try db.execute(sql: "DELETE FROM grants WHERE principal_id = ?", arguments: [id])
                deleted = db.changesCount
            case .authorization(let reference, let user):
                guard let id = try principalRow(reference, db)?.id else {
                    throw SigilError(.notFound, "principal \(reference) does not exist")
                }
                try db.execute(
                    sql: """
                        DELETE FROM user_authorizations WHERE principal_id = ? AND user_id = (SELECT id FROM users WHERE name = ?)
                        """, arguments: [id, user])
                deleted = db.changesCount
            case .roles:
                try db.execute(sql: "DELETE FROM role_grants")
                deleted = db.changesCount
            case .service:
                try db.execute(sql: "DELETE FROM service_settings")
                deleted = db.changesCount
            }
            guard deleted > 0 else { throw SigilError(.notFound, "\(item) does not exist") }
            try audit("delete", target: item.description, detail: [:], db)
        }
    }

    /// Removes `subjects` from the grant of `principal`.
    public func revoke(_ principal: PrincipalRef, from subjects: [GrantSubject]) throws {
        try write { db in
            guard let id = try principalRow(principal, db)?.id else {
                throw SigilError(.notFound, "principal \(principal) does not exist")
            }
            for subject in subjects {
                switch subject {
                case .user(let name):
                    try db.execute(
                        sql:
                            "DELETE FROM grants WHERE principal_id = ? AND user_id = (SELECT id FROM users WHERE name = ?)",
                        arguments: [id, name])
                case .group(let name):
                    try db.execute(
                        sql:
                            "DELETE FROM grants WHERE principal_id = ? AND group_id = (SELECT id FROM groups WHERE name = ?)",
                        arguments: [id, name])
                }
                guard db.changesCount > 0 else {
                    throw SigilError(.notFound, "principal \(principal) is not granted to \(subject)")
                }
            }
            try audit(
                "grant.revoke", target: ItemRef.grant(principal).description,
                detail: ["subjects": subjects.map(\.description).joined(separator: ",")], db)
        }
    }
}
