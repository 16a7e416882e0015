import Crypto
public import Foundation
public import SigilCore
import SigilModel

/// An API key as `sigil apikey list` shows it: never the key itself, which is shown once when it is
/// created and stored only as a hash.
public struct APIKeyInfo: Sendable, Codable, Hashable {
    /// The public half of the key (`sigil_<id>_...`), by which it is listed and revoked.
    public var id: String
    public var user: String
    public var createdAt: String
    /// Unix seconds, or `nil` for a key that does not expire.
    public var expiresAt: Int64?
    public var revokedAt: String?
}

extension SigilError.Code {
    /// A caller's password or API key is wrong, unknown, expired or revoked (which one is not said).
    public static let unauthenticated = Self("unauthenticated")
}

extension Vault {
    /// The prefix of every API key.
    public static var apiKeyPrefix: String { InboundCredentials.apiKeyPrefix }

    // MARK: Passwords

    /// Sets `user`'s password for the service's Basic authentication (an Argon2id hash; slow).
    public func setPassword(of user: String, to password: SecretBytes) throws {
        guard password.count >= 12 else {
            throw SigilError(
                .invalidConfiguration,
                "the password of user \(user.sanitizedForMessage) is too short: use at least 12 characters")
        }
        guard password.count <= 1024 else {
            throw SigilError(
                .invalidConfiguration, "the password of user \(user.sanitizedForMessage) is over 1024 bytes")
        }
        let hash = try PasswordHash.hash(password)
        try write { db in
            let userID = try requireUser(user, db)
            try db.run(
                sql: """
                    INSERT INTO user_passwords (user_id, hash, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at
                    """, arguments: [userID, hash, timestamp()])
            try authenticateRow(.userPasswords, id: userID, db)
            try audit("user.password", target: ItemRef.user(user).description, detail: [:], db)
        }
    }

    /// The stored password hash of `user` (its row authenticated), or `nil` when the user has none.
    public func passwordHash(of user: String) throws -> String? {
        try read { db in
            guard
                let row = try db.row(
                    sql: AuthenticatedTable.userPasswords.selectSQL(
                        where: "t.user_id = (SELECT id FROM users WHERE name = ?)"),
                    arguments: [user])
            else { return nil }
            try requireAuthenticRow(.userPasswords, row, db)
            return row["hash"]
        }
    }

    // MARK: API keys

    /// Creates an API key for `user`, valid until `expires` (or for ever): its description, and the
    /// key itself, which is not stored and cannot be shown again.
    public func createAPIKey(for user: String, expires: Date? = nil) throws -> (APIKeyInfo, SecretBytes) {
        let id = SecretBytes.random(count: 8).withUnsafeBytes { Hex.encode($0) }
        // Written straight into a buffer that is wiped, not through a String.
        let head = Array("\(Self.apiKeyPrefix)\(id)_".utf8)
        var text = head + [UInt8](repeating: 0, count: Base64URL.encodedCount(32))
        SecretBytes.random(count: 32).withUnsafeBytes { random in
            text.withUnsafeMutableBufferPointer { buffer in
                _ = Base64URL.encode(random, into: UnsafeMutableBufferPointer(rebasing: buffer[head.count...]))
            }
        }
        let key = SecretBytes(copying: text)
        text.wipe()
        let hash = key.withUnsafeBytes { Data(SHA256.hash(data: $0)) }
        let expiresAt = expires.map { Int64($0.timeIntervalSince1970) }
        return try write { db in
            let userID = try requireUser(user, db)
            let now = timestamp()
            let insertedID = try db.insert(
                sql: "INSERT INTO api_keys (key_id, user_id, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, userID, hash, now, expiresAt])
            try authenticateRow(.apiKeys, id: insertedID, db)
            try audit(
                "apikey.create", target: "API key \(id) of user \(user)",
                detail: expiresAt.map { ["expiresAt": "\($0)"] } ?? [:], db)
            return (APIKeyInfo(id: id, user: user, createdAt: now, expiresAt: expiresAt, revokedAt: nil), key)
        }
    }

    /// Every API key, newest first (revoked and expired ones included).
    public func apiKeys() throws -> [APIKeyInfo] {
        try read { db in
            try db.rows(
                sql: """
                    SELECT k.key_id, u.name, k.created_at, k.expires_at, k.revoked_at FROM api_keys k JOIN users u ON u.id = k.user_id
                    ORDER BY k.id DESC
                    """
            ).map {
                APIKeyInfo(
                    id: $0["key_id"], user: $0["name"], createdAt: $0["created_at"], expiresAt: $0["expires_at"],
                    revokedAt: $0["revoked_at"])
            }
        }
    }

    /// Revokes the API key `id` at once; a key already revoked stays as it was.
    public func revokeAPIKey(_ id: String) throws {
        try write { db in
            guard
                let row = try db.row(sql: "SELECT id, revoked_at FROM api_keys WHERE key_id = ?", arguments: [id])
            else {
                throw SigilError(.notFound, "no API key \(id.sanitizedForMessage); `sigil apikey list` shows them")
            }
            guard (row["revoked_at"] as String?) == nil else { return }
            try db.run(
                sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ?", arguments: [timestamp(), row.value("id")])
            try authenticateRow(.apiKeys, id: row["id"], db)
            try audit("apikey.revoke", target: "API key \(id)", detail: [:], db)
        }
    }

    /// The user `key` belongs to, when it is a key this vault issued, not revoked and not expired
    /// at `date`. Throws ``SigilError/Code/unauthenticated`` otherwise, without saying which.
    public func user(ofAPIKey key: SecretBytes, at date: Date) throws -> String {
        try apiKeyHolder(key, at: date).user
    }

    /// ``user(ofAPIKey:at:)``, with the key's expiry (Unix seconds, `nil`: never), for a caller that
    /// keeps the answer while the catalog stays the same.
    public func apiKeyHolder(_ key: SecretBytes, at date: Date) throws -> (user: String, expiresAt: Int64?) {
        let failure = SigilError(.unauthenticated, "the API key is not valid")
        guard let id = key.withUnsafeBytes({ InboundCredentials.apiKeyID($0) }) else { throw failure }
        let presented = key.withUnsafeBytes { Array(SHA256.hash(data: $0)) }
        return try read { db in
            guard
                let row = try db.row(sql: AuthenticatedTable.apiKeys.selectSQL(where: "t.key_id = ?"), arguments: [id])
            else { throw failure }
            try requireAuthenticRow(.apiKeys, row, db)
            let stored = [UInt8](row["hash"] as Data)
            let matches = stored.withUnsafeBytes { a in presented.withUnsafeBytes { b in constantTimeEqual(a, b) } }
            guard matches, (row["revoked_at"] as String?) == nil else { throw failure }
            if let expiresAt = row["expires_at"] as Int64?, Int64(date.timeIntervalSince1970) >= expiresAt {
                throw failure
            }
            guard
                let user = try db.value(
                    String.self, sql: "SELECT name FROM users WHERE id = ?", arguments: [row.value("user_id")])
            else { throw failure }
            return (user, row["expires_at"])
        }
    }

    private func requireUser(_ user: String, _ db: any SQLConnection) throws -> Int64 {
        guard let id = try db.value(Int64.self, sql: "SELECT id FROM users WHERE name = ?", arguments: [user]) else {
            throw SigilError(
                .notFound, "no user \(user.sanitizedForMessage); add it under users: in the apply file first")
        }
        return id
    }
}
