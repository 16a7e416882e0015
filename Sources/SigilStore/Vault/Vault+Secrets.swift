import Foundation
public import SigilCore
public import SigilModel

/// A secret field's versions, as `sigil show` lists them: never the value.
public struct SecretStatus: Sendable, Codable, Hashable {
    public struct Version: Sendable, Codable, Hashable {
        public var version: Int
        public var stage: String
        public var createdAt: String
        public var dataKey: UInt32
    }

    public var field: String
    public var versions: [Version]

    /// The version labelled `current`, if any.
    public var current: Version? { versions.first { $0.stage == SecretStage.current.rawValue } }
}

extension SigilError.Code {
    /// A secret target is not valid: unknown owner, bad field name, wrong principal type.
    public static let invalidSecretTarget = Self("invalid-secret-target")
}

extension Vault {
    // MARK: Public API

    /// Stores `value` as a new version of `target` labelled `stage` (`current` or `pending`).
    /// Setting `current` moves the old current version to `previous` and deletes the version that
    /// was `previous`. Setting a value equal to the one already in that stage changes nothing.
    /// Returns the version that holds the value.
    @discardableResult
    public func setSecret(_ target: SecretTarget, value: SecretBytes, stage: SecretStage = .current) throws -> Int {
        try write { db in
            try setSecret(target, value: value, stage: stage, db).version
        }
    }

    /// The value of `target` in `stage`, or `nil` when it has none.
    public func secret(_ target: SecretTarget, stage: SecretStage = .current) throws -> SecretBytes? {
        try read { db in try secret(target, stage: stage, db) }
    }

    /// The secret fields of `owner` with their versions and stages.
    public func secretStatuses(of owner: SecretOwner) throws -> [SecretStatus] {
        try read { db in
            guard let owner = try ownerRow(owner, db, createAuthorization: false) else { return [] }
            return try secretStatuses(ownerKind: owner.kind, ownerID: owner.id, db)
        }
    }

    // MARK: Inside a transaction

    struct SecretWrite {
        var version: Int
        var changed: Bool
    }

    func setSecret(_ target: SecretTarget, value: SecretBytes, stage: SecretStage, _ db: any SQLConnection) throws
        -> SecretWrite
    {
        if let problem = Names.problem(withFieldName: target.field) {
            throw SigilError(.invalidSecretTarget, "\(target): the field name \(problem)")
        }
        guard stage != .previous else {
            throw SigilError(
                .invalidSecretTarget,
                "\(target): only the current or pending stage can be set; previous is kept automatically")
        }
        guard !value.isEmpty else {
            throw SigilError(.invalidSecretTarget, "\(target): the value is empty")
        }
        guard let owner = try ownerRow(target.owner, db, createAuthorization: true) else {
            throw SigilError(.notFound, "\(target): \(target.owner) does not exist")
        }
        let existing = try db.row(
            sql: """
                SELECT owner_kind, owner_id, field, version, sealed FROM secrets
                WHERE owner_kind = ? AND owner_id = ? AND field = ? AND stage = ?
                """, arguments: [owner.kind, owner.id, target.field, stage.rawValue])
        // A stored value that no longer opens (a flipped bit, a moved blob) is replaced like any
        // other: the new value is how an operator repairs it.
        if let existing, (try? openSecret(existing, db)) == value {
            return SecretWrite(version: existing["version"], changed: false)
        }
        let version =
            (try db.value(
                Int.self,
                sql: """
                    SELECT max(version) FROM secrets WHERE owner_kind = ? AND owner_id = ? AND field = ?
                    """, arguments: [owner.kind, owner.id, target.field]) ?? 0) + 1
        let keyID = try activeKeyID(purpose: "data", db)
        let location = SecretLocation(ownerKind: owner.kind, ownerID: owner.id, field: target.field, version: version)
        let sealed = try keyring.seal(value, keyID: keyID, context: location.context)
        let scope: SQLArguments = [owner.kind, owner.id, target.field]
        switch stage {
        case .current:
            try db.run(
                sql: "DELETE FROM secrets WHERE owner_kind = ? AND owner_id = ? AND field = ? AND stage = 'previous'",
                arguments: scope)
            try db.run(
                sql:
                    "UPDATE secrets SET stage = 'previous' WHERE owner_kind = ? AND owner_id = ? AND field = ? AND stage = 'current'",
                arguments: scope)
            try authenticateRows(
                .secrets, where: "t.owner_kind = ? AND t.owner_id = ? AND t.field = ? AND t.stage = 'previous'", scope,
                db)
        case .pending:
            try db.run(
                sql: "DELETE FROM secrets WHERE owner_kind = ? AND owner_id = ? AND field = ? AND stage = 'pending'",
                arguments: scope)
        case .previous:
            break
        }
        let insertedID = try db.insert(
            sql: """
                INSERT INTO secrets (owner_kind, owner_id, field, version, stage, key_id, sealed, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                owner.kind, owner.id, target.field, version, stage.rawValue, keyID, Data(sealed.bytes), timestamp(),
            ])
        try authenticateRow(.secrets, id: insertedID, db)
        try audit(
            "secret.set", target: target.description, detail: ["version": "\(version)", "stage": stage.rawValue], db)
        return SecretWrite(version: version, changed: true)
    }

    /// The value of `target` in `stage`, inside a transaction.
    func secret(_ target: SecretTarget, stage: SecretStage, _ db: any SQLConnection) throws -> SecretBytes? {
        guard let owner = try ownerRow(target.owner, db, createAuthorization: false) else { return nil }
        guard
            let row = try db.row(
                sql: """
                    SELECT id, owner_kind, owner_id, field, version, stage, mac, sealed FROM secrets
                    WHERE owner_kind = ? AND owner_id = ? AND field = ? AND stage = ?
                    """, arguments: [owner.kind, owner.id, target.field, stage.rawValue])
        else { return nil }
        // The stage is not in the blob's additional data: its row's MAC binds it.
        try requireAuthenticRow(.secrets, row, db)
        return try openSecret(row, db)
    }

    func openSecret(_ row: SQLRow, _ db: any SQLConnection) throws -> SecretBytes {
        let location = SecretLocation(row: row)
        let blob: SealedBlob
        do {
            blob = try SealedBlob(bytes: [UInt8](row["sealed"] as Data))
        } catch {
            throw SigilError(.malformedBlob, "sealed value \(location.context) is malformed: \(error.reason)")
        }
        try ensureKeyLoaded(blob.keyID, db)
        return try keyring.open(blob, context: location.context)
    }

    func secretStatuses(ownerKind: String, ownerID: Int64, _ db: any SQLConnection) throws -> [SecretStatus] {
        let rows = try db.rows(
            sql: """
                SELECT field, version, stage, created_at, key_id FROM secrets
                WHERE owner_kind = ? AND owner_id = ? ORDER BY field, version DESC
                """, arguments: [ownerKind, ownerID])
        var statuses: [SecretStatus] = []
        for row in rows {
            let version = SecretStatus.Version(
                version: row["version"], stage: row["stage"], createdAt: row["created_at"], dataKey: row["key_id"])
            let field: String = row["field"]
            if statuses.last?.field == field {
                statuses[statuses.count - 1].versions.append(version)
            } else {
                statuses.append(SecretStatus(field: field, versions: [version]))
            }
        }
        return statuses
    }

    /// The row that owns secrets of `owner`: `nil` when it does not exist. For a per-user
    /// principal, the user's authorization is created when `createAuthorization` is set.
    func ownerRow(_ owner: SecretOwner, _ db: any SQLConnection, createAuthorization: Bool) throws -> (
        kind: String, id: Int64
    )? {
        switch owner {
        case .principal(let reference):
            guard let principal = try principalRow(reference, db) else { return nil }
            return ("principal", principal.id)
        case .namedCredential(let name):
            guard
                let id = try db.value(
                    Int64.self, sql: "SELECT id FROM named_credentials WHERE name = ?", arguments: [name])
            else { return nil }
            return ("named-credential", id)
        case .authorization(let reference, let user):
            guard let principal = try principalRow(reference, db) else { return nil }
            guard principal.type == PrincipalType.perUser.rawValue else {
                throw SigilError(
                    .invalidSecretTarget,
                    "principal \(reference) is a named principal; only per-user principals hold per-user secrets")
            }
            guard let userID = try db.value(Int64.self, sql: "SELECT id FROM users WHERE name = ?", arguments: [user])
            else {
                throw SigilError(.notFound, "user \(user) does not exist")
            }
            if let id = try db.value(
                Int64.self, sql: "SELECT id FROM user_authorizations WHERE principal_id = ? AND user_id = ?",
                arguments: [principal.id, userID])
            {
                return ("authorization", id)
            }
            guard createAuthorization else { return nil }
            let now = timestamp()
            let id = try db.insert(
                sql: """
                    INSERT INTO user_authorizations (principal_id, user_id, status, created_at, updated_at) VALUES (?, ?, 'authorized', ?, ?)
                    """, arguments: [principal.id, userID, now, now])
            try authenticateRow(.userAuthorizations, id: id, db)
            try audit(
                "authorization.create", target: ItemRef.authorization(reference, user: user).description, detail: [:],
                db)
            return ("authorization", id)
        }
    }

    func principalRow(_ reference: PrincipalRef, _ db: any SQLConnection) throws -> (id: Int64, type: String)? {
        try db.row(
            sql: """
                SELECT p.id, p.type FROM principals p JOIN external_credentials e ON e.id = p.external_credential_id
                WHERE e.name = ? AND p.name = ?
                """, arguments: [reference.externalCredential, reference.principal]
        ).map { ($0["id"], $0["type"]) }
    }
}
