import Foundation
public import SigilCore
import SigilModel

/// A row of `wrapped_keys`.
struct WrappedKeyRow {
    var id: UInt32
    var purpose: String
    var state: String
    var wrapped: SealedBlob

    static func fetchAll(_ db: any SQLConnection) throws -> [WrappedKeyRow] {
        try db.rows(sql: "SELECT id, purpose, state, wrapped FROM wrapped_keys ORDER BY id").map(
            WrappedKeyRow.init(row:))
    }

    static func fetchOne(_ db: any SQLConnection, id: UInt32) throws -> WrappedKeyRow? {
        try db.row(sql: "SELECT id, purpose, state, wrapped FROM wrapped_keys WHERE id = ?", arguments: [id])
            .map(WrappedKeyRow.init(row:))
    }

    init(id: UInt32, purpose: String, state: String, wrapped: SealedBlob) {
        self.id = id
        self.purpose = purpose
        self.state = state
        self.wrapped = wrapped
    }

    init(row: SQLRow) throws {
        id = row["id"]
        purpose = row["purpose"]
        state = row["state"]
        wrapped = try SealedBlob(bytes: [UInt8](row["wrapped"] as Data))
    }

    static func context(purpose: String, id: UInt32) -> SealContext {
        SealContext(purpose: "wrapped-key", components: [purpose, String(id)])
    }

    func install(into keyring: Keyring) throws {
        try keyring.install(id: id, wrapped: wrapped, context: Self.context(purpose: purpose, id: id))
    }
}

/// The vault's keys as `sigil key status` shows them. No key material.
public struct KeyStatus: Sendable, Codable {
    public struct Key: Sendable, Codable {
        public var id: UInt32
        public var purpose: String
        public var state: String
        public var createdAt: String
        public var wrappedAt: String
        /// Secrets and issued credentials sealed under this key (data keys only).
        public var secretCount: Int
    }

    public var vaultID: String
    public var schemaVersion: Int
    public var masterKeyKind: String
    public var keys: [Key]
}

extension Vault {
    // MARK: Loading

    /// Makes sure key `id` is loaded: a key another process added after this one opened the vault
    /// is unwrapped on first use.
    func ensureKeyLoaded(_ id: UInt32, _ db: any SQLConnection) throws {
        if keyring.hasKey(id: id) { return }
        guard let row = try WrappedKeyRow.fetchOne(db, id: id) else {
            throw SigilError(.unknownKey, "vault \(path) has no key \(id)")
        }
        do {
            try row.install(into: keyring)
        } catch let error as SigilError where error.code == .wrongMasterKey {
            // Most often another process rotated the master key after this one opened the vault and
            // a key was added since: say so, rather than suggest tampering.
            try checkMasterKeyIsCurrent(db)
            throw error
        }
    }

    /// The id of the active key for `purpose`, loaded.
    func activeKeyID(purpose: String, _ db: any SQLConnection) throws -> UInt32 {
        guard
            let id = try db.value(
                UInt32.self, sql: "SELECT id FROM wrapped_keys WHERE purpose = ? AND state = 'active'",
                arguments: [purpose])
        else {
            throw SigilError(.unknownKey, "vault \(path) has no active \(purpose) key")
        }
        try ensureKeyLoaded(id, db)
        return id
    }

    /// Throws unless this handle's master key opens every key wrapping stored now. Run inside a key
    /// operation's write transaction (which no other writer can interleave): a key wrapped under a
    /// master key that another process has just replaced would open under neither key.
    ///
    /// When a key this handle already holds no longer opens, another process replaced the master
    /// key (`master-key-rotated`); when only keys it never loaded fail, their wrappings were altered.
    func checkMasterKeyIsCurrent(_ db: any SQLConnection) throws {
        let failing = try WrappedKeyRow.fetchAll(db).filter {
            !keyring.masterKeyOpens($0.wrapped, context: WrappedKeyRow.context(purpose: $0.purpose, id: $0.id))
        }
        guard let first = failing.first else { return }
        if let held = failing.first(where: { keyring.hasKey(id: $0.id) }) {
            throw SigilError(
                .masterKeyRotated,
                "the master key of vault \(path) was replaced by another process since this one opened it (key \(held.id) no longer opens with it); nothing was changed: run the command again (it reads the new key)"
            )
        }
        throw SigilError(
            .wrongMasterKey,
            "the master key does not open key \(first.id) of vault \(path), though it opens the keys this process holds: its wrapping was altered; nothing was changed"
        )
    }

    /// Generates a key for `purpose`, wraps it under the master key and stores it as active.
    func insertWrappedKey(purpose: String, _ db: any SQLConnection) throws -> UInt32 {
        try checkMasterKeyIsCurrent(db)
        let now = timestamp()
        // The id is part of the wrapping's additional data, so reserve the row first.
        let id = UInt32(
            try db.insert(
                sql:
                    "INSERT INTO wrapped_keys (purpose, state, wrapped, created_at, wrapped_at) VALUES (?, 'active', ?, ?, ?)",
                arguments: [purpose, Data(), now, now]))
        let key = Keyring.generateKey()
        let wrapped = keyring.wrap(key, context: WrappedKeyRow.context(purpose: purpose, id: id))
        try db.execute(sql: "UPDATE wrapped_keys SET wrapped = ? WHERE id = ?", arguments: [Data(wrapped.bytes), id])
        try WrappedKeyRow(id: id, purpose: purpose, state: "active", wrapped: wrapped).install(into: keyring)
        return id
    }

    // MARK: Status

    public func keyStatus() throws -> KeyStatus {
        try read { db in
            let meta = try Dictionary(
                uniqueKeysWithValues: db.rows(sql: "SELECT key, value FROM vault_meta").map {
                    (($0["key"] as String), ($0["value"] as String))
                })
            let keys = try db.rows(
                sql: """
                    SELECT k.id, k.purpose, k.state, k.created_at, k.wrapped_at,
                           (SELECT count(*) FROM secrets s WHERE s.key_id = k.id)
                           + (SELECT count(*) FROM issued_credentials i WHERE i.key_id = k.id) AS secret_count
                    FROM wrapped_keys k ORDER BY k.id
                    """
            ).map {
                KeyStatus.Key(
                    id: $0["id"], purpose: $0["purpose"], state: $0["state"], createdAt: $0["created_at"],
                    wrappedAt: $0["wrapped_at"], secretCount: $0["secret_count"])
            }
            return KeyStatus(
                vaultID: keyring.vaultID.hex, schemaVersion: try Schema.version(of: db, table: store.migrationsTable),
                masterKeyKind: meta["master_key_kind"] ?? "key", keys: keys)
        }
    }

    // MARK: Master-key rotation

    /// Re-wraps every data and audit key under `newKey`, in one transaction, and returns a handle
    /// that uses it. Sealed secrets are not touched, so the vault stays usable throughout, and
    /// processes that already hold the unwrapped data keys keep working. A passphrase is stretched
    /// under fresh Argon2id parameters.
    public func rotateMasterKey(to newKey: MasterKeySource, kdfParameters: KDFParameters = .generate()) throws -> Vault
    {
        let masterKey: MasterKey
        switch newKey {
        case .keyFile(let keyPath): masterKey = try MasterKey.read(keyFile: keyPath)
        case .key(let key): masterKey = key
        case .passphrase(let passphrase):
            masterKey = try MasterKey.derive(passphrase: passphrase, parameters: kdfParameters)
        }
        let rotated = keyring.replacingMasterKey(with: masterKey)
        try write(catalog: false) { db in
            try checkMasterKeyIsCurrent(db)
            let now = timestamp()
            for row in try WrappedKeyRow.fetchAll(db) {
                try ensureKeyLoaded(row.id, db)
                let key = try keyring.key(id: row.id)
                let rewrapped = rotated.wrap(key, context: WrappedKeyRow.context(purpose: row.purpose, id: row.id))
                try db.execute(
                    sql: "UPDATE wrapped_keys SET wrapped = ?, wrapped_at = ? WHERE id = ?",
                    arguments: [Data(rewrapped.bytes), now, row.id])
            }
            try db.execute(
                sql: "UPDATE vault_meta SET value = ? WHERE key = 'master_key_kind'",
                arguments: [newKey.usesPassphrase ? "passphrase" : "key"])
            try db.execute(sql: "DELETE FROM vault_meta WHERE key = 'kdf'")
            if newKey.usesPassphrase {
                try db.execute(
                    sql: "INSERT INTO vault_meta (key, value) VALUES ('kdf', ?)", arguments: [try kdfParameters.json()])
            }
            try audit(
                "master-key.rotate", target: "vault \(keyring.vaultID.hex)",
                detail: ["kind": newKey.usesPassphrase ? "passphrase" : "key"], db)
        }
        return replacingKeyring(rotated)
    }

    // MARK: Data-key rotation

    /// ` AND id NOT IN (?, ...)` with a placeholder per id, nothing for none.
    private static func notAmong(_ ids: Set<Int64>) -> String {
        ids.isEmpty ? "" : " AND id NOT IN (" + Array(repeating: "?", count: ids.count).joined(separator: ", ") + ")"
    }

    /// Introduces a new data key: new secrets are sealed under it at once; existing ones move to it
    /// through ``resealBatch(limit:)``. Returns the new key's id.
    @discardableResult
    public func rotateDataKey() throws -> UInt32 {
        try write(catalog: false) { db in
            try db.execute(sql: "UPDATE wrapped_keys SET state = 'retired' WHERE purpose = 'data' AND state = 'active'")
            let id = try insertWrappedKey(purpose: "data", db)
            try audit("data-key.rotate", target: "data key \(id)", detail: [:], db)
            return id
        }
    }

    /// Re-seals up to `limit` secrets still under a retired data key, in one short transaction, so
    /// other readers and writers interleave between batches. When none are left, retired data keys
    /// are deleted (their wrapped bytes overwritten, `secure_delete` being on). Returns how many
    /// were re-sealed and how many remain (not counting those in `skipping`).
    ///
    /// A value that does not open (its blob or its row was altered) is not re-sealed and does not
    /// stop the rotation: a secret is reported in ``ResealProgress/unreadable`` (pass their ids back
    /// in `skipping`) and stays under its old key, which is then kept until the value is replaced
    /// or deleted; an issued credential (a cache of what a provider issued) is dropped, to be
    /// obtained again.
    public func resealBatch(limit: Int = 100, skipping: Set<Int64> = []) throws -> ResealProgress {
        try write(catalog: false) { db in
            let active = try activeKeyID(purpose: "data", db)
            let rows = try db.rows(
                sql: """
                    SELECT id, owner_kind, owner_id, field, version, sealed FROM secrets
                    WHERE key_id <> ?\(Self.notAmong(skipping)) ORDER BY id LIMIT ?
                    """, arguments: SQLArguments([active] + skipping.sorted() + [limit]))
            var progress = ResealProgress(resealed: 0, remaining: 0, unreadable: [])
            for row in rows {
                let location = SecretLocation(row: row)
                let value: SecretBytes
                do {
                    value = try openSecret(row, db)
                } catch let error as SigilError
                    where error.code == .blobAuthenticationFailed || error.code == .malformedBlob
                {
                    progress.unreadable.append(
                        .init(id: row["id"], location: location.context.description, reason: error.reason))
                    continue
                }
                let resealed = try keyring.seal(value, keyID: active, context: location.context)
                try db.execute(
                    sql: "UPDATE secrets SET sealed = ?, key_id = ? WHERE id = ?",
                    arguments: [Data(resealed.bytes), active, row["id"] as Int64])
                progress.resealed += 1
            }
            // Issued credentials (STS credentials, OAuth tokens) move with the secrets.
            let issued = try db.rows(
                sql: """
                    SELECT id, kind, written_fence, sealed FROM issued_credentials WHERE key_id <> ? ORDER BY id LIMIT ?
                    """, arguments: [active, max(0, limit - rows.count)])
            var dropped = 0
            for row in issued {
                guard let kind = IssuedCredential.Kind(rawValue: row["kind"]) else { continue }
                let context = Vault.issuedContext(id: row["id"], kind: kind, fence: row["written_fence"])
                let value: SecretBytes
                do {
                    let blob = try SealedBlob(bytes: [UInt8](row["sealed"] as Data))
                    try ensureKeyLoaded(blob.keyID, db)
                    value = try keyring.open(blob, context: context)
                } catch let error as SigilError
                    where error.code == .blobAuthenticationFailed || error.code == .malformedBlob
                {
                    try db.execute(
                        sql:
                            "UPDATE issued_credentials SET sealed = NULL, key_id = NULL, expires_at = NULL WHERE id = ?",
                        arguments: [row["id"] as Int64])
                    dropped += 1
                    continue
                }
                let resealed = try keyring.seal(value, keyID: active, context: context)
                try db.execute(
                    sql: "UPDATE issued_credentials SET sealed = ?, key_id = ? WHERE id = ?",
                    arguments: [Data(resealed.bytes), active, row["id"] as Int64])
                progress.resealed += 1
            }
            let unreadable = skipping.union(progress.unreadable.map(\.id))
            progress.remaining =
                (try db.value(
                    Int.self, sql: "SELECT count(*) FROM secrets WHERE key_id <> ?\(Self.notAmong(unreadable))",
                    arguments: SQLArguments([active] + unreadable.sorted())) ?? 0)
                + (try db.value(
                    Int.self, sql: "SELECT count(*) FROM issued_credentials WHERE key_id <> ?", arguments: [active])
                    ?? 0)
            // A retired key goes only when nothing at all is sealed under it any more.
            let underOldKeys =
                (try db.value(Int.self, sql: "SELECT count(*) FROM secrets WHERE key_id <> ?", arguments: [active]) ?? 0)
            if progress.remaining == 0 && underOldKeys == 0 {
                let retired = try db.values(
                    UInt32.self, sql: "SELECT id FROM wrapped_keys WHERE purpose = 'data' AND state = 'retired'")
                if !retired.isEmpty {
                    try db.execute(sql: "DELETE FROM wrapped_keys WHERE purpose = 'data' AND state = 'retired'")
                    try audit(
                        "data-key.destroy", target: "data keys \(retired.map(String.init).joined(separator: ", "))",
                        detail: [:], db)
                }
            }
            if progress.resealed > 0 || dropped > 0 || !progress.unreadable.isEmpty {
                var detail = ["dataKey": "\(active)"]
                if dropped > 0 { detail["droppedUnreadableIssued"] = "\(dropped)" }
                if !progress.unreadable.isEmpty {
                    detail["unreadable"] = progress.unreadable.map(\.location).joined(separator: ",")
                }
                try audit(
                    "secret.reseal",
                    target:
                        "\(rows.count - progress.unreadable.count) secrets, \(issued.count - dropped) issued credentials",
                    detail: detail, db)
            }
            return progress
        }
    }
}

/// What one ``Vault/resealBatch(limit:skipping:)`` did.
public struct ResealProgress: Sendable {
    /// A secret version that did not open, left under its old key.
    public struct Unreadable: Sendable, Hashable {
        public var id: Int64
        /// Where it is: `secret/principal/3/apiKey/2`.
        public var location: String
        public var reason: String
    }

    public var resealed: Int
    /// Values still under an older key, besides the unreadable ones.
    public var remaining: Int
    public var unreadable: [Unreadable]
}
