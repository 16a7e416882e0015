import Foundation
import SigilCore
public import SigilModel

/// The right to ask a provider for a new value of one issued credential, granted to one
/// refresher at a time across every process sharing the vault.
public struct RefreshLease: Sendable, Hashable {
    public let key: IssuedCredentialKey
    public let kind: IssuedCredential.Kind
    /// Increases with every lease granted for `key`; a value is written only under the newest one.
    public let fence: Int64
    public let holder: String
    /// Unix seconds after which another refresher may take over.
    public let until: Int64
}

/// What ``Vault/acquireRefreshLease(_:kind:holder:duration:takingOverFrom:)`` found.
public enum LeaseOutcome: Sendable {
    case granted(RefreshLease)
    /// Another refresher (`holder`) holds a live lease, numbered `fence`, until `until` (Unix seconds).
    case held(until: Int64, fence: Int64, holder: String)
}

/// Where the refresh of an issued credential stands, for a process waiting on another's lease.
public struct RefreshLeaseState: Sendable, Hashable {
    /// The newest lease granted.
    public var fence: Int64
    /// Its holder while it is held; `nil` once released (with a value, an error, or neither).
    public var holder: String?
    public var until: Int64?
    /// The lease under which the stored value was written.
    public var writtenFence: Int64?
    /// The last refresh's error, as recorded when its lease was released.
    public var lastError: String?
    public var hasValue: Bool
}

/// What the vault records about an issued credential, without its value.
public struct IssuedCredentialStatus: Sendable, Codable, Hashable {
    public var principal: String
    public var user: String?
    public var kind: String
    public var obtainedAt: String?
    public var expiresAt: Int64?
    /// When the refresh token expires, when the provider said (Unix seconds).
    public var refreshExpiresAt: Int64?
    public var lastError: String?
    public var lastErrorAt: String?
    /// Whether a value is stored (it is dropped when its authorization needs renewing).
    public var hasValue: Bool
}

extension Vault {
    /// The issued credential stored for `key`, if it was obtained as `kind` under the parameters
    /// whose digest is `parametersDigest`; `nil` otherwise.
    public func issuedCredential(_ key: IssuedCredentialKey, kind: IssuedCredential.Kind, parametersDigest: String)
        throws -> IssuedCredential?
    {
        try read { db -> IssuedCredential? in
            guard let row = try issuedRow(key, db, create: false),
                let sealed = row["sealed"] as Data?,
                row["kind"] == kind.rawValue, row["parameters_digest"] == parametersDigest
            else { return nil }
            // The blob binds its row id only: the row's MAC binds it to its principal and user.
            try requireAuthenticRow(.issuedCredentials, row, db)
            let context = Self.issuedContext(id: row["id"], kind: kind, fence: row["written_fence"])
            let blob: SealedBlob
            do {
                blob = try SealedBlob(bytes: [UInt8](sealed))
            } catch let error as SigilError {
                throw SigilError(.malformedBlob, "sealed value \(context) is malformed: \(error.reason)")
            }
            try ensureKeyLoaded(blob.keyID, db)
            guard let fields = IssuedCredential.decodeFields(try keyring.open(blob, context: context)) else {
                throw SigilError(.malformedBlob, "sealed value \(context) does not hold credential fields")
            }
            let obtained = (row["obtained_at"] as String?).flatMap { try? Date($0, strategy: .iso8601) }
            return IssuedCredential(
                kind: kind, fields: fields, obtainedAt: Int64(obtained?.timeIntervalSince1970 ?? 0),
                expiresAt: row["expires_at"], refreshExpiresAt: row["refresh_expires_at"])
        }
    }

    /// Grants the refresh lease of `key` to `holder` for `duration` seconds, unless another holder's
    /// lease is still live. Each grant raises the fence. `takingOverFrom` names a holder known to be
    /// gone (a process on this machine that no longer runs): its live lease is taken over.
    public func acquireRefreshLease(
        _ key: IssuedCredentialKey, kind: IssuedCredential.Kind, holder: String, duration: Int64,
        takingOverFrom gone: String? = nil
    ) throws -> LeaseOutcome {
        try write(catalog: false) { db in
            guard let row = try issuedRow(key, db, create: true, kind: kind) else {
                throw SigilError(.notFound, "principal \(key.principal) does not exist")
            }
            let now = Int64(clock().timeIntervalSince1970)
            if let until = row["lease_until"] as Int64?, until > now, let current = row["lease_holder"] as String?,
                current != holder, current != gone
            {
                return .held(until: until, fence: row["fence"], holder: current)
            }
            let fence = (row["fence"] as Int64) + 1
            try db.execute(
                sql: "UPDATE issued_credentials SET fence = ?, lease_holder = ?, lease_until = ? WHERE id = ?",
                arguments: [fence, holder, now + duration, row["id"] as Int64])
            return .granted(RefreshLease(key: key, kind: kind, fence: fence, holder: holder, until: now + duration))
        }
    }

    /// Where the refresh of `key` stands (`nil` when nothing was ever stored or leased for it).
    public func refreshLeaseState(_ key: IssuedCredentialKey) throws -> RefreshLeaseState? {
        try read { db in
            guard let row = try issuedRow(key, db, create: false) else { return nil }
            return RefreshLeaseState(
                fence: row["fence"], holder: row["lease_holder"], until: row["lease_until"],
                writtenFence: row["written_fence"],
                lastError: row["last_error"], hasValue: (row["sealed"] as Data?) != nil
            )
        }
    }

    /// Stores `credential` under `lease`, releasing it. Returns `false`, writing nothing, when a
    /// newer lease was granted since (this refresher was too slow; the newer value stands).
    @discardableResult
    public func storeIssuedCredential(
        _ credential: IssuedCredential, parametersDigest: String, under lease: RefreshLease
    ) throws -> Bool {
        try write { db in
            guard let row = try issuedRow(lease.key, db, create: false), row["fence"] == lease.fence else {
                return false
            }
            let id: Int64 = row["id"]
            let keyID = try activeKeyID(purpose: "data", db)
            let sealed = try keyring.seal(
                credential.encodedFields(), keyID: keyID,
                context: Self.issuedContext(id: id, kind: lease.kind, fence: lease.fence))
            let obtained = Date(timeIntervalSince1970: TimeInterval(credential.obtainedAt)).formatted(.iso8601)
            try db.execute(
                sql: """
                    UPDATE issued_credentials SET kind = ?, parameters_digest = ?, key_id = ?, sealed = ?, written_fence = ?, obtained_at = ?,
                        expires_at = ?, refresh_expires_at = ?, lease_holder = NULL, lease_until = NULL, last_error = NULL,
                        last_error_at = NULL
                    WHERE id = ?
                    """,
                arguments: [
                    lease.kind.rawValue, parametersDigest, keyID, Data(sealed.bytes), lease.fence, obtained,
                    credential.expiresAt, credential.refreshExpiresAt, id,
                ])
            try authenticateRow(.issuedCredentials, id: id, db)
            // A user's new value is their (re)authorization of the principal.
            if let userID = row["user_id"] as Int64? {
                let now = timestamp()
                try db.execute(
                    sql: """
                        INSERT INTO user_authorizations (principal_id, user_id, status, created_at, updated_at) VALUES (?, ?, 'authorized', ?, ?)
                        ON CONFLICT (principal_id, user_id) DO UPDATE SET status = 'authorized', updated_at = excluded.updated_at
                        WHERE user_authorizations.status <> 'authorized'
                        """, arguments: [row["principal_id"] as Int64, userID, now, now])
                if db.changesCount > 0 {
                    try authenticateRows(
                        .userAuthorizations, where: "t.principal_id = ? AND t.user_id = ?",
                        [row["principal_id"] as Int64, userID], db)
                }
            }
            var detail = ["kind": lease.kind.rawValue, "fence": "\(lease.fence)"]
            if let expiresAt = credential.expiresAt {
                detail["expiresAt"] = Date(timeIntervalSince1970: TimeInterval(expiresAt)).formatted(.iso8601)
            }
            try audit("issued.store", target: lease.key.description, detail: detail, db)
            return true
        }
    }

    /// Gives up `lease` without a new value, recording `error` (a message without secrets) as the
    /// credential's last error when given. With `discardingValue`, the stored value is dropped (its
    /// refresh token is dead) and a user's authorization is marked as needing re-authorization.
    public func releaseRefreshLease(_ lease: RefreshLease, error: String? = nil, discardingValue: Bool = false) throws {
        try write(catalog: discardingValue) { db in
            guard let row = try issuedRow(lease.key, db, create: false), row["fence"] == lease.fence else { return }
            try db.execute(
                sql: """
                    UPDATE issued_credentials SET lease_holder = NULL, lease_until = NULL,
                        last_error = coalesce(?, last_error), last_error_at = coalesce(?, last_error_at)
                    WHERE id = ?
                    """, arguments: [error, error.map { _ in timestamp() }, row["id"] as Int64])
            if discardingValue {
                try db.execute(
                    sql:
                        "UPDATE issued_credentials SET sealed = NULL, key_id = NULL, expires_at = NULL, refresh_expires_at = NULL WHERE id = ?",
                    arguments: [row["id"] as Int64])
                if let userID = row["user_id"] as Int64? {
                    try db.execute(
                        sql:
                            "UPDATE user_authorizations SET status = 'needs-reauthorization', updated_at = ? WHERE principal_id = ? AND user_id = ?",
                        arguments: [timestamp(), row["principal_id"] as Int64, userID])
                    try authenticateRows(
                        .userAuthorizations, where: "t.principal_id = ? AND t.user_id = ?",
                        [row["principal_id"] as Int64, userID], db)
                }
                try audit(
                    "issued.discard", target: lease.key.description, detail: ["reason": "needs re-authorization"], db)
            }
        }
    }

    /// Forgets the issued credential of `key` (after a revocation, or to force a new one).
    public func deleteIssuedCredential(_ key: IssuedCredentialKey) throws {
        try write(catalog: false) { db in
            guard let row = try issuedRow(key, db, create: false) else { return }
            try db.execute(sql: "DELETE FROM issued_credentials WHERE id = ?", arguments: [row["id"] as Int64])
            try audit("issued.delete", target: key.description, detail: [:], db)
        }
    }

    /// The issued credentials holding a value whose principal is `principal` (any, when `nil`) of
    /// external credential `externalCredential` (any, when `nil`), for user `user` (any, when `nil`).
    public func issuedCredentialKeys(externalCredential: String? = nil, principal: String? = nil, user: String? = nil)
        throws -> [IssuedCredentialKey]
    {
        try read { db in
            try db.rows(
                sql: """
                    SELECT e.name AS credential, p.name AS principal, u.name AS user
                    FROM issued_credentials i JOIN principals p ON p.id = i.principal_id JOIN external_credentials e ON e.id = p.external_credential_id
                    LEFT JOIN users u ON u.id = i.user_id
                    WHERE i.sealed IS NOT NULL AND (CAST(? AS TEXT) IS NULL OR e.name = ?) AND (CAST(? AS TEXT) IS NULL OR p.name = ?) AND (CAST(? AS TEXT) IS NULL OR u.name = ?)
                    ORDER BY e.name, p.name, u.name NULLS FIRST
                    """, arguments: [externalCredential, externalCredential, principal, principal, user, user]
            ).map {
                IssuedCredentialKey(
                    principal: PrincipalRef(externalCredential: $0["credential"], principal: $0["principal"]),
                    user: $0["user"])
            }
        }
    }

    /// The stored value of `key` whatever parameters it was obtained under: for revoking it.
    public func storedIssuedCredential(_ key: IssuedCredentialKey) throws -> IssuedCredential? {
        let row = try read { db in try issuedRow(key, db, create: false) }
        guard let row, let kind = IssuedCredential.Kind(rawValue: row["kind"]),
            let digest = row["parameters_digest"] as String?
        else { return nil }
        return try issuedCredential(key, kind: kind, parametersDigest: digest)
    }

    /// Records the outcome of revoking `key`'s tokens at the provider (RFC 7009) in the audit log.
    public func recordRevocation(_ key: IssuedCredentialKey, outcome: String) throws {
        try write(catalog: false) { db in
            try audit("issued.revoke", target: key.description, detail: ["outcome": outcome], db)
        }
    }

    /// What is recorded about every issued credential, for status commands.
    public func issuedCredentialStatuses() throws -> [IssuedCredentialStatus] {
        try read { db in
            try db.rows(
                sql: """
                    SELECT e.name AS credential, p.name AS principal, u.name AS user, i.kind, i.obtained_at, i.expires_at, i.refresh_expires_at, i.last_error, i.last_error_at,
                           CASE WHEN i.sealed IS NULL THEN 0 ELSE 1 END AS has_value
                    FROM issued_credentials i JOIN principals p ON p.id = i.principal_id JOIN external_credentials e ON e.id = p.external_credential_id
                    LEFT JOIN users u ON u.id = i.user_id ORDER BY e.name, p.name, u.name NULLS FIRST
                    """
            ).map {
                IssuedCredentialStatus(
                    principal: "\($0["credential"] as String)/\($0["principal"] as String)", user: $0["user"],
                    kind: $0["kind"],
                    obtainedAt: $0["obtained_at"], expiresAt: $0["expires_at"],
                    refreshExpiresAt: $0["refresh_expires_at"], lastError: $0["last_error"],
                    lastErrorAt: $0["last_error_at"],
                    hasValue: $0["has_value"]
                )
            }
        }
    }

    // MARK: Inside a transaction

    static func issuedContext(id: Int64, kind: IssuedCredential.Kind, fence: Int64) -> SealContext {
        SealContext(purpose: "issued", components: [String(id), kind.rawValue, String(fence)])
    }

    /// The row of `key`, created (empty) when `create` is set and the principal (and user) exist.
    func issuedRow(
        _ key: IssuedCredentialKey, _ db: any SQLConnection, create: Bool, kind: IssuedCredential.Kind = .oauth2
    )
        throws -> SQLRow?
    {
        guard let principal = try principalRow(key.principal, db) else { return nil }
        var userID: Int64?
        if let user = key.user {
            guard let id = try db.value(Int64.self, sql: "SELECT id FROM users WHERE name = ?", arguments: [user])
            else {
                if create { throw SigilError(.notFound, "user \(user) does not exist") }
                return nil
            }
            userID = id
        }
        let row =
            if let userID {
                try db.row(
                    sql: "SELECT * FROM issued_credentials WHERE principal_id = ? AND user_id = ?",
                    arguments: [principal.id, userID])
            } else {
                try db.row(
                    sql: "SELECT * FROM issued_credentials WHERE principal_id = ? AND user_id IS NULL",
                    arguments: [principal.id])
            }
        if let row { return row }
        guard create else { return nil }
        let id = try db.insert(
            sql: "INSERT INTO issued_credentials (principal_id, user_id, kind) VALUES (?, ?, ?)",
            arguments: [principal.id, userID, kind.rawValue])
        return try db.row(sql: "SELECT * FROM issued_credentials WHERE id = ?", arguments: [id])
    }
}
