import Foundation
import SigilCore
public import SigilModel

/// What `apply` did (or, in a dry run, would do), item by item.
public struct ApplyReport: Sendable, Codable, Hashable {
    public enum Action: String, Sendable, Codable, Hashable {
        case create, update, unchanged
    }

    public struct Change: Sendable, Codable, Hashable {
        public var action: Action
        /// The item, e.g. `external credential Billing` or `secret apiKey of principal Billing/billing-org`.
        public var item: String
        /// The fields that changed (for updates), or the new version (for secrets). Never values.
        public var fields: [String]
    }

    public var dryRun: Bool
    public var changes: [Change]

    /// Whether anything was (or would be) written.
    public var changedAnything: Bool { changes.contains { $0.action != .unchanged } }
}

extension Vault {
    /// Creates or updates every item of `request` and stores its secrets, in one transaction: all
    /// or nothing. The stored catalog with the request laid over it (``Catalog/merging(_:)``) must
    /// pass every rule; otherwise nothing changes and the error lists each problem. Applying the
    /// same request twice changes nothing the second time. With `dryRun`, reports what would
    /// change and writes nothing.
    @discardableResult
    public func apply(_ request: ApplyRequest, dryRun: Bool = false) throws -> ApplyReport {
        try write(rollback: dryRun) { db in
            let current = try readCatalog(db)
            let merged = current.merging(request.catalog)
            try merged.validate()
            var writer = CatalogWriter(vault: self, db: db, current: current, merged: merged)
            try writer.write(request.catalog)
            for (target, value) in request.secrets.sorted(by: { $0.key.description < $1.key.description }) {
                let result = try setSecret(target, value: value, stage: .current, db)
                writer.changes.append(
                    ApplyReport.Change(
                        action: result.changed ? .create : .unchanged, item: target.description,
                        fields: ["version \(result.version)"]))
            }
            for credential in merged.namedCredentials where credential.clientCertificate != nil {
                let hasKey =
                    try db.value(
                        Int.self,
                        sql: """
                            SELECT count(*) FROM secrets s JOIN named_credentials n ON s.owner_kind = 'named-credential' AND s.owner_id = n.id
                            WHERE n.name = ? AND s.field = ? AND s.stage = 'current'
                            """, arguments: [credential.name, NamedCredential.clientKeyField]) ?? 0
                if hasKey == 0 {
                    throw SigilError(
                        .invalidConfiguration,
                        "\(ItemRef.namedCredential(credential.name)), clientIdentity.privateKey: a client certificate is set but no private key is stored or given"
                    )
                }
            }
            return ApplyReport(dryRun: dryRun, changes: writer.changes)
        }
    }
}

/// Writes the difference between the stored catalog and the merged one, for the items of one
/// request, and audits each change.
private struct CatalogWriter {
    let vault: Vault
    let db: any SQLConnection
    let current: Catalog
    let merged: Catalog
    var changes: [ApplyReport.Change] = []

    init(vault: Vault, db: any SQLConnection, current: Catalog, merged: Catalog) {
        self.vault = vault
        self.db = db
        self.current = current
        self.merged = merged
    }

    mutating func write(_ request: Catalog) throws {
        for credential in request.externalCredentials {
            try writeExternalCredential(named: credential.name, principals: credential.principals.map(\.name))
        }
        for group in merged.groups where !current.hasGroup(group) {
            let insertedID = try db.insert(
                sql: "INSERT INTO groups (name, created_at) VALUES (?, ?)", arguments: [group, vault.timestamp()])
            try vault.authenticateRow(.groups, id: insertedID, db)
            try record(.create, .group(group), [], action: "group.create")
        }
        for user in request.users {
            try writeUser(named: user.name)
        }
        for credential in request.namedCredentials {
            try writeNamedCredential(named: credential.name)
        }
        for grant in request.grants {
            try writeGrant(for: grant.principal)
        }
        if request.roles != nil { try writeRoles() }
        if request.service != nil { try writeService() }
    }

    /// Replaces the role grants with the merged catalog's (a file's `roles:` is the whole list).
    private mutating func writeRoles() throws {
        let new = Set(merged.roles ?? [])
        let old = Set(current.roles ?? [])
        guard new != old else {
            try record(.unchanged, .roles, [], action: "")
            return
        }
        try db.run(sql: "DELETE FROM role_grants")
        for grant in new.sorted() {
            let (column, name, table) =
                switch grant.subject {
                case .user(let name): ("user_id", name, "users")
                case .group(let name): ("group_id", name, "groups")
                }
            let insertedID = try db.insert(
                sql:
                    "INSERT INTO role_grants (role, \(column), act_as, created_at) SELECT ?, id, ?, ? FROM \(table) WHERE name = ?",
                arguments: [grant.role.rawValue, grant.actAs, vault.timestamp(), name])
            try vault.authenticateRow(.roleGrants, id: insertedID, db)
        }
        let describe = { (grant: RoleGrant) in
            "\(grant.role.rawValue) \(grant.subject)\(grant.actAs ? " (acts as users)" : "")"
        }
        let fields =
            new.subtracting(old).sorted().map { "+" + describe($0) }
            + old.subtracting(new).sorted().map { "-" + describe($0) }
        try record(old.isEmpty ? .create : .update, .roles, fields, action: "roles.update")
    }

    private mutating func writeService() throws {
        guard let settings = merged.service, settings != current.service else {
            try record(.unchanged, .service, [], action: "")
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try db.run(
            sql: """
                INSERT INTO service_settings (id, settings, updated_at) VALUES (1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
                """, arguments: [String(decoding: try encoder.encode(settings), as: UTF8.self), vault.timestamp()])
        try vault.authenticateRow(.serviceSettings, id: 1, db)
        try record(current.service == nil ? .create : .update, .service, [], action: "service.update")
    }

    private mutating func writeExternalCredential(named name: String, principals: [String]) throws {
        guard let new = merged.externalCredential(named: name) else { return }
        let now = vault.timestamp()
        let item = ItemRef.externalCredential(name)
        let old = current.externalCredential(named: name)
        if let old {
            var fields: [String] = []
            if old.authProtocol != new.authProtocol { fields.append("protocol") }
            if old.parameters != new.parameters { fields.append("parameters") }
            if old.customHeaders != new.customHeaders { fields.append("customHeaders") }
            if old.rotation != new.rotation { fields.append("rotation") }
            if fields.contains(where: { $0 != "rotation" }) {
                try db.run(
                    sql: """
                        UPDATE external_credentials SET protocol = ?, parameters = ?, custom_headers = ?, updated_at = ? WHERE name = ?
                        """,
                    arguments: [
                        new.authProtocol.rawValue, try JSONColumn.encode(new.parameters),
                        try JSONColumn.encode(new.customHeaders), now, name,
                    ])
                try vault.authenticateRows(.externalCredentials, where: "t.name = ?", [name], db)
            }
            if old.rotation != new.rotation {
                try writeRotationPolicy(new.rotation, kind: "external-credential", name: name)
            }
            try record(fields.isEmpty ? .unchanged : .update, item, fields, action: "external-credential.update")
        } else {
            let insertedID = try db.insert(
                sql: """
                    INSERT INTO external_credentials (name, protocol, parameters, custom_headers, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    name, new.authProtocol.rawValue, try JSONColumn.encode(new.parameters),
                    try JSONColumn.encode(new.customHeaders), now, now,
                ])
            try vault.authenticateRow(.externalCredentials, id: insertedID, db)
            try writeRotationPolicy(new.rotation, kind: "external-credential", name: name)
            try record(.create, item, [], action: "external-credential.create")
        }
        let credentialID = try db.value(
            Int64.self, sql: "SELECT id FROM external_credentials WHERE name = ?", arguments: [name])!
        for principalName in principals {
            guard let principal = new.principal(named: principalName) else { continue }
            let reference = PrincipalRef(externalCredential: name, principal: principalName)
            let principalItem = ItemRef.principal(reference)
            if let existing = old?.principal(named: principalName) {
                var fields: [String] = []
                if existing.type != principal.type { fields.append("type") }
                if existing.sequence != principal.sequence { fields.append("sequence") }
                if existing.parameters != principal.parameters { fields.append("parameters") }
                if existing.rotation != principal.rotation {
                    fields.append("rotation")
                    try writeRotationPolicy(principal.rotation, kind: "principal", name: reference.description)
                }
                if existing.type == .perUser, principal.type == .named,
                    let count = try db.value(
                        Int.self,
                        sql: """
                            SELECT count(*) FROM user_authorizations a JOIN principals p ON p.id = a.principal_id
                            WHERE p.external_credential_id = ? AND p.name = ?
                            """, arguments: [credentialID, principalName]), count > 0
                {
                    throw SigilError(
                        .conflict,
                        "\(principalItem): cannot become a named principal while \(count) user authorizations exist; delete them first"
                    )
                }
                if fields.contains(where: { $0 != "rotation" }) {
                    try db.run(
                        sql: """
                            UPDATE principals SET type = ?, sequence = ?, parameters = ?, updated_at = ? WHERE external_credential_id = ? AND name = ?
                            """,
                        arguments: [
                            principal.type.rawValue, principal.sequence, try JSONColumn.encode(principal.parameters),
                            now, credentialID, principalName,
                        ])
                    try vault.authenticateRows(
                        .principals, where: "t.external_credential_id = ? AND t.name = ?",
                        [credentialID, principalName], db)
                }
                try record(fields.isEmpty ? .unchanged : .update, principalItem, fields, action: "principal.update")
            } else {
                let insertedID = try db.insert(
                    sql: """
                        INSERT INTO principals (external_credential_id, name, type, sequence, parameters, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        credentialID, principalName, principal.type.rawValue, principal.sequence,
                        try JSONColumn.encode(principal.parameters), now, now,
                    ])
                try vault.authenticateRow(.principals, id: insertedID, db)
                try writeRotationPolicy(principal.rotation, kind: "principal", name: reference.description)
                try record(.create, principalItem, [], action: "principal.create")
            }
        }
    }

    /// Stores (or with `nil`, removes) the rotation policy of an external credential or principal
    /// (`name`: `EC` or `EC/PRINCIPAL`).
    private func writeRotationPolicy(_ policy: RotationPolicy?, kind: String, name: String) throws {
        let ownerID: Int64?
        if kind == "principal", let reference = PrincipalRef(parsing: name) {
            ownerID = try db.value(
                Int64.self,
                sql: """
                    SELECT p.id FROM principals p JOIN external_credentials e ON e.id = p.external_credential_id
                    WHERE e.name = ? AND p.name = ?
                    """, arguments: [reference.externalCredential, reference.principal])
        } else {
            ownerID = try db.value(
                Int64.self, sql: "SELECT id FROM external_credentials WHERE name = ?", arguments: [name])
        }
        guard let ownerID else { return }
        guard let policy else {
            try db.run(
                sql: "DELETE FROM rotation_policies WHERE owner_kind = ? AND owner_id = ?", arguments: [kind, ownerID])
            return
        }
        try db.run(
            sql: """
                INSERT INTO rotation_policies (owner_kind, owner_id, policy, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (owner_kind, owner_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at
                """, arguments: [kind, ownerID, try JSONColumn.encode(policy), vault.timestamp()])
        try vault.authenticateRows(
            .rotationPolicies, where: "t.owner_kind = ? AND t.owner_id = ?", [kind, ownerID], db)
    }

    private mutating func writeNamedCredential(named name: String) throws {
        guard let new = merged.namedCredential(named: name) else { return }
        let item = ItemRef.namedCredential(name)
        let now = vault.timestamp()
        let externalID = try db.value(
            Int64.self, sql: "SELECT id FROM external_credentials WHERE name = ?", arguments: [new.externalCredential])!
        let columns: SQLArguments = [
            new.url, externalID, new.generateAuthorizationHeader, new.allowMergeFieldsInHeader,
            new.allowMergeFieldsInBody,
            try JSONColumn.encode(new.customHeaders), new.clientCertificate, try new.trust.map(JSONColumn.encode),
        ]
        if let old = current.namedCredential(named: name) {
            var fields: [String] = []
            if old.url != new.url { fields.append("url") }
            if old.externalCredential != new.externalCredential { fields.append("externalCredential") }
            if old.generateAuthorizationHeader != new.generateAuthorizationHeader {
                fields.append("generateAuthorizationHeader")
            }
            if old.allowMergeFieldsInHeader != new.allowMergeFieldsInHeader {
                fields.append("allowMergeFieldsInHeader")
            }
            if old.allowMergeFieldsInBody != new.allowMergeFieldsInBody { fields.append("allowMergeFieldsInBody") }
            if old.customHeaders != new.customHeaders { fields.append("customHeaders") }
            if old.clientCertificate != new.clientCertificate { fields.append("clientIdentity.certificate") }
            if old.trust != new.trust { fields.append("trust") }
            if !fields.isEmpty {
                try db.run(
                    sql: """
                        UPDATE named_credentials SET url = ?, external_credential_id = ?, generate_authorization_header = ?,
                            allow_merge_fields_in_header = ?, allow_merge_fields_in_body = ?, custom_headers = ?, client_certificate = ?,
                            trust = ?, updated_at = ?
                        WHERE name = ?
                        """, arguments: columns + [now, name])
                try vault.authenticateRows(.namedCredentials, where: "t.name = ?", [name], db)
            }
            try record(fields.isEmpty ? .unchanged : .update, item, fields, action: "named-credential.update")
        } else {
            let insertedID = try db.insert(
                sql: """
                    INSERT INTO named_credentials (url, external_credential_id, generate_authorization_header, allow_merge_fields_in_header,
                        allow_merge_fields_in_body, custom_headers, client_certificate, trust, name, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: columns + [name, now, now])
            try vault.authenticateRow(.namedCredentials, id: insertedID, db)
            try record(.create, item, [], action: "named-credential.create")
        }
    }

    private mutating func writeUser(named name: String) throws {
        guard let new = merged.user(named: name) else { return }
        let item = ItemRef.user(name)
        let now = vault.timestamp()
        let old = current.user(named: name)
        if old == nil {
            let insertedID = try db.insert(
                sql: "INSERT INTO users (name, created_at, updated_at) VALUES (?, ?, ?)", arguments: [name, now, now])
            try vault.authenticateRow(.users, id: insertedID, db)
        }
        let changedGroups = old?.groups != new.groups
        if changedGroups {
            let userID = try db.value(Int64.self, sql: "SELECT id FROM users WHERE name = ?", arguments: [name])!
            try db.run(sql: "DELETE FROM group_members WHERE user_id = ?", arguments: [userID])
            for group in new.groups {
                try db.run(
                    sql: "INSERT INTO group_members (group_id, user_id) SELECT id, ? FROM groups WHERE name = ?",
                    arguments: [userID, group])
            }
            try vault.authenticateRows(.groupMembers, where: "t.user_id = ?", [userID], db)
            if old != nil {
                try db.run(sql: "UPDATE users SET updated_at = ? WHERE id = ?", arguments: [now, userID])
            }
        }
        if old == nil {
            try record(.create, item, [], action: "user.create")
        } else {
            try record(
                changedGroups ? .update : .unchanged, item, changedGroups ? ["groups"] : [], action: "user.update")
        }
    }

    private mutating func writeGrant(for principal: PrincipalRef) throws {
        let new = Set(merged.grant(for: principal)?.subjects ?? [])
        let old = Set(current.grant(for: principal)?.subjects ?? [])
        let item = ItemRef.grant(principal)
        guard new != old else {
            try record(.unchanged, item, [], action: "")
            return
        }
        let principalID = try vault.principalRow(principal, db)!.id
        for subject in old.subtracting(new) {
            switch subject {
            case .user(let name):
                try db.run(
                    sql:
                        "DELETE FROM grants WHERE principal_id = ? AND user_id = (SELECT id FROM users WHERE name = ?)",
                    arguments: [principalID, name])
            case .group(let name):
                try db.run(
                    sql:
                        "DELETE FROM grants WHERE principal_id = ? AND group_id = (SELECT id FROM groups WHERE name = ?)",
                    arguments: [principalID, name])
            }
        }
        for subject in new.subtracting(old).sorted() {
            let (column, table, name) =
                switch subject {
                case .user(let name): ("user_id", "users", name)
                case .group(let name): ("group_id", "groups", name)
                }
            let id = try db.insert(
                sql:
                    "INSERT INTO grants (principal_id, \(column), created_at) SELECT ?, id, ? FROM \(table) WHERE name = ?",
                arguments: [principalID, vault.timestamp(), name])
            try vault.authenticateRow(.grants, id: id, db)
        }
        let fields = new.subtracting(old).sorted().map { "+\($0)" } + old.subtracting(new).sorted().map { "-\($0)" }
        try record(old.isEmpty ? .create : .update, item, fields, action: "grant.update")
    }

    /// Adds the change to the report and, unless nothing changed, to the audit log.
    private mutating func record(_ kind: ApplyReport.Action, _ item: ItemRef, _ fields: [String], action: String) throws
    {
        changes.append(ApplyReport.Change(action: kind, item: item.description, fields: fields))
        if kind != .unchanged {
            try vault.audit(
                action, target: item.description,
                detail: fields.isEmpty ? [:] : ["fields": fields.joined(separator: ",")], db)
        }
    }
}
